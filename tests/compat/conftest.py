"""pytest glue for the Gregor compatibility tests.

* `cluster`: one GregorCluster (1 controller + 3 brokers) per test module. A module can set
  GREGOR_BROKER_OVERRIDES = {"key": "value"} to pass extra broker --override options ("{id}" in
  a value becomes the broker's node id) and GREGOR_CONTROLLER_OVERRIDES for the controller.
* When a test fails, the tails of the cluster's process logs (and, for the group tests, what each
  group member process printed) are attached to its report (shown in pytest's failure output)
  and the cluster's temp directory is kept.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cluster import GregorCluster  # noqa: E402


@pytest.fixture(scope="module")
def cluster(request):
    overrides = getattr(request.module, "GREGOR_BROKER_OVERRIDES", {})
    controller_overrides = getattr(request.module, "GREGOR_CONTROLLER_OVERRIDES", {})
    c = GregorCluster(num_brokers=3, broker_overrides=overrides,
                      controller_overrides=controller_overrides)
    c.start()
    yield c
    if getattr(request.node, "_gregor_failed", False):
        c.keep_dir = True
    c.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    c = item.funcargs.get("cluster") if hasattr(item, "funcargs") else None
    if c is None:
        return
    module = item.getparent(pytest.Module)
    if module is not None:
        module._gregor_failed = True
    report.sections.append(("gregor cluster logs", c.log_tails()))
    members = item.funcargs.get("members")  # test_groups*.py: the group member processes
    if members is not None and hasattr(members, "describe"):
        report.sections.append(("group members", members.describe()))
