"""Go's sarama (Debian's golang-github-shopify-sarama-dev, 1.22) against a Gregor cluster, told to
assume Kafka 0.11, 1.0, 2.1, 2.2 and 2.8 (it knows versions up to 2.2 and, from 1.0 on,
sends the same requests for all of them): the admin client creates an RF-3
topic (CreateTopics v0-2), a sync producer writes keyed messages with acks=all (Produce v3), a
partition consumer reads every partition from the oldest offset (Fetch v4, ListOffsets v1), and
the admin client describes the topic and the cluster (Metadata v5 from Kafka 1.0 on: the version
a Gregor broker once closed the connection on, so sarama could not even start). The client is
tests/compat/sarama/sarama_client.go, built here in GOPATH mode."""

import json
import os
import subprocess

import pytest

from cluster import unique_topic
from go_build import build_sarama_program

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def sarama_client(tmp_path_factory):
    return build_sarama_program(os.path.join(HERE, "sarama", "sarama_client.go"),
                                tmp_path_factory.mktemp("sarama"), "saramaclient")


@pytest.mark.parametrize("version", ["0.11.0.0", "1.0.0", "2.1.0", "2.2.0", "2.8.0"])
def test_sarama_produces_consumes_and_administers(cluster, sarama_client, version):
    topic = unique_topic("sarama-" + version.replace(".", "-"))
    n = 300
    p = subprocess.run([sarama_client, "-brokers", cluster.bootstrap, "-version", version,
                        "-topic", topic, "-partitions", "3", "-messages", str(n)],
                       capture_output=True, timeout=180)
    assert p.returncode == 0, (p.stderr.decode("utf-8", "replace")[-4000:])
    out = json.loads(p.stdout)
    # Every message read back once, in order within its partition.
    seen = []
    for part in out["partitions"]:
        assert part["oldest"] == 0
        assert part["newest"] == len(part["values"] or [])
        values = [int(v[1:]) for v in part["values"] or []]
        assert values == sorted(values)
        seen += values
    assert sorted(seen) == list(range(n))
    # The topic and the cluster as the admin client sees them.
    live = sorted(cluster.brokers)
    assert sorted(out["brokers"]) == live
    assert out["controller_id"] in live
    for part in out["partitions"]:
        assert sorted(part["replicas"]) == live
        assert sorted(part["isr"]) == live
        assert part["leader"] in live
        assert not part["offline"]
