"""The admin APIs through the admin clients users reach for: confluent-kafka's AdminClient
(librdkafka 2.0.2: CreateTopics v4 with broker defaults, DescribeConfigs v1, AlterConfigs,
CreatePartitions), kafka-python's KafkaAdminClient, KafkaJS 2.2.4's admin client
(tests/compat/admin.js), and raw requests (tests/compat/wire.py) for what none of those installed
clients sends: IncrementalAlterConfigs, DescribeCluster, DescribeConfigs v3+/v4 with
documentation, CreateTopics v5-v7 answers, DeleteTopics v6 by topic id, DeleteRecords,
DescribeLogDirs and ElectLeaders."""

import json
import os
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpConfigResource, ConfigResourceType, NewPartitions as KpNewPartitions

from cluster import unique_topic
from groups import KAFKAJS_MODULES, NODE
from wire import RawConnection

HERE = os.path.dirname(os.path.abspath(__file__))
INVALID_CONFIG = 40
INVALID_REQUEST = 42
INVALID_RECORD = 87
UNKNOWN_TOPIC_OR_PARTITION = 3
UNKNOWN_TOPIC_ID = 100
OFFSET_OUT_OF_RANGE = 1
NOT_LEADER_OR_FOLLOWER = 6
POLICY_VIOLATION = 44
ELECTION_NOT_NEEDED = 84
INVALID_REPLICA_ASSIGNMENT = 39
DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5

# A broker config set explicitly, so that DescribeConfigs reports it as static.
GREGOR_BROKER_OVERRIDES = {"log.retention.ms": "86400000", "num.partitions": "3",
                           "default.replication.factor": "3"}
# Leaderships move back to preferred replicas only when a test asks (ElectLeaders).
GREGOR_CONTROLLER_OVERRIDES = {"auto.leader.rebalance.enable": "false"}


def admin(cluster):
    return AdminClient({"bootstrap.servers": cluster.bootstrap})


def wait_futures(futures, timeout=30):
    return {k: f.result(timeout=timeout) for k, f in futures.items()}


def describe_topic(cluster, topic, version=4, keys=None, synonyms=True, docs=True):
    with RawConnection(cluster.live_port()) as c:
        resp = c.call("DescribeConfigs", version, {
            "resources": [{"resource_type": 2, "resource_name": topic, "configuration_keys": keys}],
            "include_synonyms": synonyms, "include_documentation": docs})
    (result,) = resp["results"]
    return result


def test_confluent_kafka_admin_topics_configs_and_partitions(cluster):
    a = admin(cluster)
    topic = unique_topic("ck-admin")
    # CreateTopics v4: -1 takes the brokers' num.partitions and default.replication.factor.
    wait_futures(a.create_topics([NewTopic(topic, num_partitions=-1, replication_factor=-1,
                                           config={"retention.ms": "3600000"})]))
    leaders = cluster.wait_for_topic(topic, 3)
    assert len(leaders) == 3
    _, _, md = cluster.metadata([topic])
    assert all(len(replicas) == 3 for _e, _l, replicas, _i in md[topic][1].values())

    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = wait_futures(a.describe_configs([res]))[res]
    assert configs["retention.ms"].value == "3600000"
    assert configs["retention.ms"].source == DYNAMIC_TOPIC_CONFIG
    assert not configs["retention.ms"].is_default
    assert configs["segment.bytes"].value == "1073741824"
    assert configs["segment.bytes"].source == DEFAULT_CONFIG and configs["segment.bytes"].is_default
    assert configs["cleanup.policy"].value == "delete"
    assert not configs["cleanup.policy"].is_read_only

    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    bconf = wait_futures(a.describe_configs([broker]))[broker]
    assert bconf["log.retention.ms"].value == "86400000"
    assert bconf["log.retention.ms"].source == STATIC_BROKER_CONFIG
    assert bconf["log.segment.bytes"].source == DEFAULT_CONFIG
    assert bconf["node.id"].value == "1" and bconf["node.id"].is_read_only

    # AlterConfigs (legacy) replaces every override: retention.ms goes back to the brokers'.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"segment.ms": "7200000"})
    wait_futures(a.alter_configs([res]))
    configs = wait_futures(a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]))
    configs = list(configs.values())[0]
    assert configs["segment.ms"].value == "7200000"
    assert configs["retention.ms"].value == "86400000"  # log.retention.ms of the brokers
    assert configs["retention.ms"].source == STATIC_BROKER_CONFIG
    # Invalid values and broker changes are refused with a clear error; nothing changes.
    bad = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "soon"})
    with pytest.raises(KafkaException) as e:
        wait_futures(a.alter_configs([bad]))
    assert e.value.args[0].code() == INVALID_CONFIG and "retention.ms" in e.value.args[0].str()
    bad = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"log.retention.ms": "1"})
    with pytest.raises(KafkaException) as e:
        wait_futures(a.alter_configs([bad]))
    assert e.value.args[0].code() == INVALID_CONFIG and "dynamically" in e.value.args[0].str()

    # CreatePartitions, placed by the controller and with an explicit assignment.
    wait_futures(a.create_partitions([NewPartitions(topic, 5)]))
    wait_futures(a.create_partitions([NewPartitions(topic, 6, replica_assignment=[[3, 1, 2]])]))
    leaders = cluster.wait_for_topic(topic, 6)
    _, _, md = cluster.metadata([topic])
    assert md[topic][1][5][2] == [3, 1, 2]
    with pytest.raises(KafkaException) as e:
        wait_futures(a.create_partitions([NewPartitions(topic, 7, replica_assignment=[[1, 1, 2]])]))
    assert e.value.args[0].code() == INVALID_REPLICA_ASSIGNMENT

    # ListOffsets by timestamp (librdkafka's offsets_for_times).
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": cluster.bootstrap})
    base = int(time.time() * 1000) - 100000
    for i in range(10):
        p.produce(topic, value=b"v%d" % i, partition=0, timestamp=base + i * 1000)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "unused"})
    try:
        found = c.offsets_for_times([TopicPartition(topic, 0, base + 4500)], timeout=30)
        assert found[0].offset == 5
    finally:
        c.close()


def test_kafka_python_admin(cluster):
    topic = unique_topic("kp-admin")
    cluster.create_topic(topic, partitions=2, replication_factor=3)
    a = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    try:
        desc = a.describe_cluster()
        assert sorted(b["node_id"] for b in desc["brokers"]) == sorted(cluster.brokers)
        assert desc["controller_id"] in cluster.brokers
        a.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, topic,
                                          configs={"retention.bytes": "1048576"})])
        (resp,) = a.describe_configs([KpConfigResource(ConfigResourceType.TOPIC, topic)])
        (_err, _msg, _type, _name, entries) = resp.resources[0]
        values = {e[0]: e[1] for e in entries}
        assert values["retention.bytes"] == "1048576"
        a.create_partitions({topic: KpNewPartitions(total_count=4)})
        cluster.wait_for_topic(topic, 4)
    finally:
        a.close()


def test_kafkajs_admin(cluster):
    assert os.path.isfile(os.path.join(KAFKAJS_MODULES, "kafkajs", "package.json")), (
        "kafkajs is not installed: run deploy/install-deps.sh")
    topic = unique_topic("js-admin")
    p = subprocess.run([NODE, os.path.join(HERE, "admin.js"), "--bootstrap", cluster.bootstrap,
                        "--topic", topic], capture_output=True, timeout=120,
                       env=dict(os.environ, NODE_PATH=KAFKAJS_MODULES))
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")[-4000:]
    out = json.loads(p.stdout)
    assert out["created"] is True
    assert sorted(b["nodeId"] for b in out["cluster"]["brokers"]) == sorted(cluster.brokers)
    assert out["cluster"]["controller"] in cluster.brokers
    assert out["cluster"]["clusterId"]
    assert out["before"]["errorCode"] == 0
    assert out["before"]["entries"]["retention.ms"]["value"] == "3600000"
    assert out["before"]["entries"]["retention.ms"]["isDefault"] is False
    assert out["after"]["entries"]["segment.ms"]["value"] == "7200000"
    assert out["after"]["entries"]["retention.ms"]["value"] == "86400000"
    broker = {e["name"]: e for e in out["broker"]}
    assert broker["log.retention.ms"]["value"] == "86400000" and broker["log.retention.ms"]["readOnly"]
    assert out["partitions"] == 4
    p0 = next(o for o in out["offsets"] if o["partition"] == 0)
    assert (p0["low"], p0["high"]) == ("0", "10")
    assert next(o for o in out["byTimestamp"] if o["partition"] == 0)["offset"] == "5"
    p0 = next(o for o in out["afterDelete"] if o["partition"] == 0)
    assert (p0["low"], p0["high"]) == ("3", "10")


def test_incremental_alter_configs(cluster):
    topic = unique_topic("iac")
    leaders = cluster.create_topic(topic, replication_factor=3, configs={"retention.ms": "1000000"})

    def alter(ops, version=1, validate_only=False, name=topic, resource_type=2):
        with RawConnection(cluster.live_port()) as c:
            resp = c.call("IncrementalAlterConfigs", version, {
                "resources": [{"resource_type": resource_type, "resource_name": name, "configs": [
                    {"name": n, "config_operation": op, "value": v} for n, op, v in ops]}],
                "validate_only": validate_only})
        (r,) = resp["responses"]
        return r["error_code"], r["error_message"]

    def values():
        return {c["name"]: (c["value"], c["config_source"])
                for c in describe_topic(cluster, topic)["configs"]}

    # APPEND to the effective value of a list config; SET; DELETE back to the default.
    assert alter([("cleanup.policy", 2, "compact"), ("segment.ms", 0, "3600000"),
                  ("retention.ms", 1, None)]) == (0, None)
    v = values()
    assert v["cleanup.policy"] == ("delete,compact", DYNAMIC_TOPIC_CONFIG)
    assert v["segment.ms"] == ("3600000", DYNAMIC_TOPIC_CONFIG)
    assert v["retention.ms"] == ("86400000", STATIC_BROKER_CONFIG)
    # The brokers apply it: a keyless record is now refused (the topic is compacted).
    with RawConnection(cluster.broker(leaders[0]).kafka_port) as c:
        from test_protocol_versions import batch, produce
        deadline = time.monotonic() + 10
        while produce(c, topic, 0, batch([b"x"], keys=[None]))["error_code"] != INVALID_RECORD:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # SUBTRACT; validate_only changes nothing.
    assert alter([("cleanup.policy", 3, "delete")], version=0) == (0, None)
    assert values()["cleanup.policy"] == ("compact", DYNAMIC_TOPIC_CONFIG)
    assert alter([("segment.ms", 0, "60000")], validate_only=True) == (0, None)
    assert values()["segment.ms"] == ("3600000", DYNAMIC_TOPIC_CONFIG)
    # Clear errors, nothing changed.
    code, msg = alter([("segment.ms", 2, "1")])
    assert code == INVALID_CONFIG and "list" in msg
    code, msg = alter([("retention.ms", 0, "-5")])
    assert code == INVALID_CONFIG and "retention.ms" in msg
    code, msg = alter([("no.such.config", 0, "1")])
    assert code == INVALID_CONFIG and "unknown" in msg
    code, msg = alter([("segment.ms", 0, "1"), ("segment.ms", 1, None)])
    assert code == INVALID_REQUEST
    assert alter([("segment.ms", 0, "1")], name="missing-" + topic)[0] == UNKNOWN_TOPIC_OR_PARTITION
    code, msg = alter([("log.retention.ms", 0, "1")], name="1", resource_type=4)
    assert code == INVALID_CONFIG and "server.properties" in msg
    assert values()["segment.ms"] == ("3600000", DYNAMIC_TOPIC_CONFIG)


def test_describe_configs_versions_and_synonyms(cluster):
    topic = unique_topic("dc")
    cluster.create_topic(topic, replication_factor=3, configs={"retention.ms": "1000"})
    for version in range(0, 5):
        r = describe_topic(cluster, topic, version, keys=["retention.ms", "segment.bytes"])
        assert r["error_code"] == 0
        got = {c["name"]: c for c in r["configs"]}
        assert set(got) == {"retention.ms", "segment.bytes"}
        assert got["retention.ms"]["value"] == "1000"
        if version == 0:
            assert got["segment.bytes"]["is_default"] and not got["retention.ms"]["is_default"]
        else:
            assert got["retention.ms"]["config_source"] == DYNAMIC_TOPIC_CONFIG
            assert [(s["name"], s["value"], s["source"]) for s in got["retention.ms"]["synonyms"]] == [
                ("retention.ms", "1000", DYNAMIC_TOPIC_CONFIG),
                ("log.retention.ms", "86400000", STATIC_BROKER_CONFIG),
                ("log.retention.ms", "604800000", DEFAULT_CONFIG)]
        if version >= 3:
            assert got["retention.ms"]["config_type"] == 5  # LONG
            assert got["retention.ms"]["documentation"]
    missing = describe_topic(cluster, "missing-" + topic)
    assert missing["error_code"] == UNKNOWN_TOPIC_OR_PARTITION
    with RawConnection(cluster.broker(2).kafka_port) as c:
        resp = c.call("DescribeConfigs", 4, {"resources": [
            {"resource_type": 4, "resource_name": "2", "configuration_keys": None},
            {"resource_type": 4, "resource_name": "1", "configuration_keys": None},
            {"resource_type": 4, "resource_name": "", "configuration_keys": None}],
            "include_synonyms": False, "include_documentation": False})
    mine, other, defaults = resp["results"]
    assert mine["error_code"] == 0 and len(mine["configs"]) > 50
    assert all(c["read_only"] for c in mine["configs"])
    assert other["error_code"] == INVALID_REQUEST
    assert defaults["error_code"] == 0 and defaults["configs"] == []


def test_create_topics_v5_to_v7_and_delete_topics_by_id(cluster):
    topic = unique_topic("ct")
    with RawConnection(cluster.live_port()) as c:
        resp = c.call("CreateTopics", 7, {"topics": [
            {"name": topic, "num_partitions": -1, "replication_factor": -1, "assignments": [],
             "configs": [{"name": "cleanup.policy", "value": "compact"}]}],
            "timeout_ms": 30000, "validate_only": False})
        (t,) = resp["topics"]
        assert t["error_code"] == 0
        assert (t["num_partitions"], t["replication_factor"]) == (3, 3)
        assert t["topic_id"] != "00" * 16
        configs = {x["name"]: x for x in t["configs"]}
        assert configs["cleanup.policy"]["value"] == "compact"
        assert configs["cleanup.policy"]["config_source"] == DYNAMIC_TOPIC_CONFIG
        assert configs["retention.ms"]["value"] == "86400000"
        cluster.wait_for_topic(topic, 3)
        # DeleteTopics v6 by id; an unknown id.
        resp = c.call("DeleteTopics", 6, {"topics": [
            {"name": None, "topic_id": t["topic_id"]},
            {"name": None, "topic_id": "cd" * 16}], "timeout_ms": 30000})
        deleted, unknown = resp["responses"]
        assert (deleted["name"], deleted["error_code"]) == (topic, 0)
        assert unknown["error_code"] == UNKNOWN_TOPIC_ID
    deadline = time.monotonic() + 30
    while topic in cluster.metadata([topic])[2] and cluster.metadata([topic])[2][topic][0] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_describe_cluster(cluster):
    for version in (0, 1):
        with RawConnection(cluster.live_port()) as c:
            resp = c.call("DescribeCluster", version, {"include_cluster_authorized_operations": True,
                                                       "endpoint_type": 1})
        assert resp["error_code"] == 0 and resp["cluster_id"]
        assert sorted(b["broker_id"] for b in resp["brokers"]) == sorted(cluster.brokers)
        assert resp["controller_id"] in cluster.brokers
        assert resp["cluster_authorized_operations"] == 8096
    with RawConnection(cluster.live_port()) as c:
        resp = c.call("DescribeCluster", 1, {"include_cluster_authorized_operations": False,
                                             "endpoint_type": 2})
    assert resp["error_code"] == 115  # UNSUPPORTED_ENDPOINT_TYPE: ask for brokers


def test_delete_records(cluster):
    from test_protocol_versions import batch, by_partition, fetch_body, produce
    topic = unique_topic("dr")
    leaders = cluster.create_topic(topic, replication_factor=3)
    compacted = unique_topic("dr-compact")
    compacted_leaders = cluster.create_topic(compacted, replication_factor=3,
                                             configs={"cleanup.policy": "compact"})
    leader = leaders[0]
    follower = next(b for b in sorted(cluster.brokers) if b != leader)

    def delete(port, offset, name=topic, version=2, timeout_ms=30000):
        with RawConnection(port) as c:
            resp = c.call("DeleteRecords", version, {"topics": [{"name": name, "partitions": [
                {"partition_index": 0, "offset": offset}]}], "timeout_ms": timeout_ms})
        (p,) = resp["topics"][0]["partitions"]
        return p["error_code"], p["low_watermark"]

    with RawConnection(cluster.broker(leader).kafka_port) as c:
        for i in range(10):
            assert produce(c, topic, 0, batch([b"v%d" % i]))["error_code"] == 0
    port = cluster.broker(leader).kafka_port
    # Every in-sync replica moved before the answer: the low watermark is the offset asked.
    assert delete(port, 4, version=0) == (0, 4)
    assert delete(port, 2, version=1) == (0, 4)  # never backwards
    assert delete(port, 11) == (OFFSET_OUT_OF_RANGE, -1)
    assert delete(port, -5) == (OFFSET_OUT_OF_RANGE, -1)
    assert delete(cluster.broker(follower).kafka_port, 5)[0] == NOT_LEADER_OR_FOLLOWER
    assert delete(cluster.broker(compacted_leaders[0]).kafka_port, 0, name=compacted)[0] == POLICY_VIOLATION
    assert cluster.list_offset(topic, 0, timestamp=-2) == 4
    # Below the log start a consumer gets OFFSET_OUT_OF_RANGE; librdkafka resets to the start.
    with RawConnection(port) as c:
        part = by_partition(c.call("Fetch", 11, fetch_body([(topic, [(0, 2, -1)])])))[(topic, 0)]
        assert (part["error_code"], part["log_start_offset"]) == (OFFSET_OUT_OF_RANGE, 4)
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "dr-" + topic,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 2)])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 6 and time.monotonic() < deadline:
            m = consumer.poll(1.0)
            if m is not None and not m.error():
                got.append((m.offset(), m.value()))
        assert got == [(i, b"v%d" % i) for i in range(4, 10)]
    finally:
        consumer.close()
    # -1 deletes up to the high watermark; a restarted follower keeps its log start.
    assert delete(port, -1) == (0, 10)
    cluster.restart_broker(follower)
    deadline = time.monotonic() + 30
    while True:
        with RawConnection(cluster.broker(follower).kafka_port) as c:
            resp = c.call("DescribeLogDirs", 4, {"topics": [{"topic": topic, "partitions": [0]}]})
        (d,) = resp["results"]
        if d["topics"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert d["error_code"] == 0 and d["total_bytes"] > 0 and 0 < d["usable_bytes"] <= d["total_bytes"]
    assert d["topics"][0]["name"] == topic
    assert [p["partition_index"] for p in d["topics"][0]["partitions"]] == [0]
    assert delete(port, 10) == (0, 10)  # the restarted follower is back with log start 10


def test_describe_log_dirs(cluster):
    topic = unique_topic("ld")
    leaders = cluster.create_topic(topic, partitions=2, replication_factor=3)
    from test_protocol_versions import batch, produce
    with RawConnection(cluster.broker(leaders[0]).kafka_port) as c:
        assert produce(c, topic, 0, batch([b"x" * 1000]))["error_code"] == 0
    for version in range(0, 5):
        with RawConnection(cluster.broker(1).kafka_port) as c:
            resp = c.call("DescribeLogDirs", version, {"topics": None})
        (d,) = resp["results"]
        assert d["error_code"] == 0 and d["log_dir"] == cluster.brokers[1].log_dir
        parts = {p["partition_index"]: p for t in d["topics"] if t["name"] == topic
                 for p in t["partitions"]}
        assert set(parts) == {0, 1}
        assert parts[0]["partition_size"] > 1000 and parts[1]["partition_size"] == 0
        assert all(p["offset_lag"] == 0 and not p["is_future_key"] for p in parts.values())
        if version >= 4:
            assert d["total_bytes"] > 0


def test_elect_leaders(cluster):
    from test_protocol_versions import partition_state
    topic = unique_topic("el")
    with RawConnection(cluster.live_port()) as c:
        resp = c.call("CreateTopics", 3, {"topics": [
            {"name": topic, "num_partitions": -1, "replication_factor": -1,
             "assignments": [{"partition_index": 0, "broker_ids": [1, 2, 3]}], "configs": []}],
            "timeout_ms": 30000, "validate_only": False})
    assert resp["topics"][0]["error_code"] == 0
    cluster.wait_for_topic(topic, 1)

    def elect(election_type, version=2, partitions=((0,),)):
        body = {"election_type": election_type, "timeout_ms": 30000,
                "topic_partitions": None if partitions is None else
                [{"topic": topic, "partitions": [p[0] for p in partitions]}]}
        with RawConnection(cluster.live_port()) as c:
            resp = c.call("ElectLeaders", version, body)
        return resp

    def result(resp):
        (t,) = [t for t in resp["replica_election_results"] if t["topic"] == topic]
        (p,) = t["partition_result"]
        return p["error_code"], p["error_message"]

    assert result(elect(0, version=0))[0] == ELECTION_NOT_NEEDED
    assert result(elect(1))[0] == ELECTION_NOT_NEEDED  # it has a leader
    cluster.restart_broker(1)  # leadership moves to 2; 1 comes back and catches up
    deadline = time.monotonic() + 30
    while True:
        _, _, md = cluster.metadata([topic])
        _err, leader, _replicas, isr = md[topic][1][0]
        if leader != 1 and sorted(isr) == [1, 2, 3]:
            break
        assert time.monotonic() < deadline, md
        time.sleep(0.1)
    _, epoch = partition_state(cluster, topic)
    resp = elect(0, version=1)
    assert resp["error_code"] == 0 and result(resp) == (0, None)
    assert partition_state(cluster, topic) == (1, epoch + 1)
    # All partitions: the ones already led by their preferred replica are left out.
    resp = elect(0, partitions=None)
    assert [t for t in resp["replica_election_results"] if t["topic"] == topic] == []
    resp = elect(0, partitions=((7,),))
    assert result(resp)[0] == UNKNOWN_TOPIC_OR_PARTITION
