"""pytest glue for the replication failover tests.

* `new_cluster(**kwargs)`: starts a ReplicationCluster (harness.py) for the test and stops it
  (by PID) at the end.
* When a test fails, the tails of every cluster process's log are attached to its report and
  the cluster's temp directory is kept.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ReplicationCluster  # noqa: E402


@pytest.fixture
def new_cluster(request):
    clusters = []

    def make(**kwargs):
        c = ReplicationCluster(**kwargs)
        clusters.append(c)
        c.start()
        return c

    request.node._gregor_clusters = clusters
    yield make
    failed = getattr(request.node, "_gregor_failed", False)
    for c in clusters:
        if failed:
            c.failed = True
            c.keep_dir = True
        c.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    item._gregor_failed = True
    for c in getattr(item, "_gregor_clusters", []):
        report.sections.append(("gregor cluster logs (%s)" % c.dir, c.log_tails(80)))
