"""Every version of the data-path APIs Gregor advertises (Produce 3-9, Fetch 4-11, ListOffsets
1-7, Metadata 0-12), sent as raw requests (tests/compat/wire.py) so that each field of each
version is exercised, including the ones no installed client sends: incremental fetch sessions
(KIP-227), the consumer's leader epoch (KIP-320: FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH),
ListOffsets' leader epoch and max timestamp, Metadata's topic ids and authorized operations,
Produce's per-record errors. And a malformed request of every advertised (API, version) closes
only its own connection."""

import struct
import time

import pytest
from kafka.record.memory_records import MemoryRecordsBuilder

from cluster import unique_topic
from wire import ConnectionClosed, RawConnection, request_frame

UNKNOWN_TOPIC_OR_PARTITION = 3
FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75
INVALID_RECORD = 87
UNKNOWN_TOPIC_ID = 100
TOPIC_OPERATIONS = 3576     # READ..ALTER_CONFIGS, as Kafka answers without an authorizer
CLUSTER_OPERATIONS = 8096


def batch(values, keys=None, timestamp=None):
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    for i, v in enumerate(values):
        builder.append(timestamp=timestamp, key=keys[i] if keys else b"k", value=v, headers=[])
    builder.close()
    return bytes(builder.buffer())


def produce(conn, topic, partition, data, version=7):
    resp = conn.call("Produce", version, {
        "transactional_id": None, "acks": -1, "timeout_ms": 10000,
        "topic_data": [{"name": topic, "partition_data": [
            {"index": partition, "records": data.hex()}]}]})
    (t,) = resp["responses"]
    (p,) = t["partition_responses"]
    return p


def create(cluster, name, assignments=None, partitions=1, replication_factor=3, configs=None):
    """CreateTopics v3 (with explicit replicas when `assignments` is a list of broker lists)."""
    topic = {"name": name, "num_partitions": partitions, "replication_factor": replication_factor,
             "assignments": [], "configs": [{"name": k, "value": v}
                                            for k, v in (configs or {}).items()]}
    if assignments:
        topic.update(num_partitions=-1, replication_factor=-1,
                     assignments=[{"partition_index": i, "broker_ids": b}
                                  for i, b in enumerate(assignments)])
    with RawConnection(cluster.live_port()) as c:
        resp = c.call("CreateTopics", 3, {"topics": [topic], "timeout_ms": 30000,
                                          "validate_only": False})
    assert resp["topics"][0]["error_code"] == 0, resp
    return cluster.wait_for_topic(name, len(assignments) if assignments else partitions)


def fetch_body(topics, session_id=0, epoch=-1, forgotten=(), max_wait_ms=100, min_bytes=1):
    """topics: [(topic, [(partition, offset, current_leader_epoch)])]."""
    return {"replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": min_bytes,
            "max_bytes": 1 << 20, "isolation_level": 0, "session_id": session_id,
            "session_epoch": epoch,
            "topics": [{"topic": t, "partitions": [
                {"partition": p, "current_leader_epoch": e, "fetch_offset": o,
                 "log_start_offset": -1, "partition_max_bytes": 1 << 20} for p, o, e in parts]}
                for t, parts in topics],
            "forgotten_topics_data": [{"topic": t, "partitions": ps} for t, ps in forgotten],
            "rack_id": ""}


def by_partition(resp):
    return {(t["topic"], p["partition_index"]): p for t in resp["responses"] for p in t["partitions"]}


def metadata(port, version, topics=None, **extra):
    body = {"topics": topics, "allow_auto_topic_creation": False,
            "include_cluster_authorized_operations": False,
            "include_topic_authorized_operations": False}
    body.update(extra)
    with RawConnection(port) as c:
        return c.call("Metadata", version, body)


def partition_state(cluster, topic, partition=0):
    """(leader, leader_epoch) from Metadata v12."""
    resp = metadata(cluster.live_port(), 12, [{"topic_id": "00" * 16, "name": topic}])
    (t,) = resp["topics"]
    p = next(p for p in t["partitions"] if p["partition_index"] == partition)
    return p["leader_id"], p["leader_epoch"]


def test_fetch_sessions(cluster):
    a, b = unique_topic("fs-a"), unique_topic("fs-b")
    create(cluster, a, assignments=[[1], [1]])
    create(cluster, b, assignments=[[1]])
    port = cluster.broker(1).kafka_port
    with RawConnection(port) as c:
        assert produce(c, a, 0, batch([b"a%d" % i for i in range(5)]))["error_code"] == 0
        everything = [(a, [(0, 0, -1), (1, 0, -1)]), (b, [(0, 0, -1)])]
        # A full fetch with epoch 0 opens a session and answers every partition.
        full = c.call("Fetch", 11, fetch_body(everything, 0, 0))
        sid = full["session_id"]
        assert full["error_code"] == 0 and sid != 0
        parts = by_partition(full)
        assert set(parts) == {(a, 0), (a, 1), (b, 0)}
        assert parts[(a, 0)]["high_watermark"] == 5 and parts[(a, 0)]["records"]
        assert parts[(a, 0)]["log_start_offset"] == 0
        # Incremental (epoch 1): a-0 moves to offset 5; nothing is new anywhere: an empty answer
        # after the long poll.
        start = time.monotonic()
        inc = c.call("Fetch", 11, fetch_body([(a, [(0, 5, -1)])], sid, 1, max_wait_ms=300))
        assert (inc["error_code"], inc["session_id"], inc["responses"]) == (0, sid, [])
        assert time.monotonic() - start >= 0.25
        # New records in b-0: the answer carries b-0 only.
        assert produce(c, b, 0, batch([b"b0", b"b1", b"b2"]))["error_code"] == 0
        inc = c.call("Fetch", 11, fetch_body([], sid, 2))
        parts = by_partition(inc)
        assert set(parts) == {(b, 0)} and parts[(b, 0)]["high_watermark"] == 3
        assert parts[(b, 0)]["records"]
        # A wrong epoch and an unknown session are refused, and change nothing.
        bad = c.call("Fetch", 11, fetch_body([], sid, 7))
        assert (bad["error_code"], bad["session_id"], bad["responses"]) == (INVALID_FETCH_SESSION_EPOCH, 0, [])
        unknown = c.call("Fetch", 11, fetch_body([], sid ^ 0x5a5a, 1))
        assert unknown["error_code"] == FETCH_SESSION_ID_NOT_FOUND
        # Forget a-1 and move b-0 on: then a write to a-1 is not news to this session.
        inc = c.call("Fetch", 11, fetch_body([(b, [(0, 3, -1)])], sid, 3, forgotten=[(a, [1])]))
        assert inc["error_code"] == 0 and inc["responses"] == []
        assert produce(c, a, 1, batch([b"x"]))["error_code"] == 0
        inc = c.call("Fetch", 11, fetch_body([], sid, 4))
        assert inc["error_code"] == 0 and inc["responses"] == []
        # Epoch -1 closes the session: a sessionless full answer, and the id is gone.
        closed = c.call("Fetch", 11, fetch_body(everything, sid, -1))
        assert closed["session_id"] == 0 and set(by_partition(closed)) == {(a, 0), (a, 1), (b, 0)}
        gone = c.call("Fetch", 11, fetch_body([], sid, 5))
        assert gone["error_code"] == FETCH_SESSION_ID_NOT_FOUND
        # Before v7 there are no sessions; v5+ answers the log start offset.
        for version in (4, 5, 6, 7, 8, 9, 10):
            resp = c.call("Fetch", version, fetch_body([(a, [(0, 0, -1)])], 0, 0))
            parts = by_partition(resp)
            assert parts[(a, 0)]["high_watermark"] == 5 and parts[(a, 0)]["records"]
            if version >= 5:
                assert parts[(a, 0)]["log_start_offset"] == 0
            if version >= 7:
                assert resp["session_id"] != 0
                closed = c.call("Fetch", version, fetch_body([], resp["session_id"], -1))
                assert closed["session_id"] == 0


def test_fetch_and_list_offsets_check_the_consumers_leader_epoch(cluster):
    topic = unique_topic("epochs")
    create(cluster, topic)
    leader, epoch = partition_state(cluster, topic)
    with RawConnection(cluster.broker(leader).kafka_port) as c:
        assert produce(c, topic, 0, batch([b"v"]))["error_code"] == 0
        ok = by_partition(c.call("Fetch", 9, fetch_body([(topic, [(0, 0, epoch)])])))[(topic, 0)]
        assert ok["error_code"] == 0 and ok["records"]
        newer = by_partition(c.call("Fetch", 11, fetch_body([(topic, [(0, 0, epoch + 1)])])))
        assert newer[(topic, 0)]["error_code"] == UNKNOWN_LEADER_EPOCH
        listed = c.call("ListOffsets", 4, {"replica_id": -1, "isolation_level": 0, "topics": [
            {"name": topic, "partitions": [
                {"partition_index": 0, "current_leader_epoch": epoch, "timestamp": -1},
                {"partition_index": 0, "current_leader_epoch": epoch + 1, "timestamp": -1}]}]})
        first, second = listed["topics"][0]["partitions"]
        assert (first["error_code"], first["offset"], first["leader_epoch"]) == (0, 1, epoch)
        assert second["error_code"] == UNKNOWN_LEADER_EPOCH
    # A new leader: the old epoch is fenced.
    cluster.kill_broker(leader)
    try:
        deadline = time.monotonic() + 30
        while True:
            new_leader, new_epoch = partition_state(cluster, topic)
            if new_leader not in (-1, leader):
                break
            assert time.monotonic() < deadline, "no new leader"
            time.sleep(0.1)
        assert new_epoch > epoch
        with RawConnection(cluster.broker(new_leader).kafka_port) as c:
            fenced = by_partition(c.call("Fetch", 11, fetch_body([(topic, [(0, 0, epoch)])])))
            assert fenced[(topic, 0)]["error_code"] == FENCED_LEADER_EPOCH
            listed = c.call("ListOffsets", 7, {"replica_id": -1, "isolation_level": 1, "topics": [
                {"name": topic, "partitions": [
                    {"partition_index": 0, "current_leader_epoch": epoch, "timestamp": -1},
                    {"partition_index": 0, "current_leader_epoch": new_epoch, "timestamp": -2}]}]})
            fenced, earliest = listed["topics"][0]["partitions"]
            assert fenced["error_code"] == FENCED_LEADER_EPOCH
            # The earliest offset carries the epoch its first batch was written in.
            assert (earliest["error_code"], earliest["offset"], earliest["leader_epoch"]) == (0, 0, epoch)
    finally:
        cluster.start_broker(leader)


def test_list_offsets_every_version(cluster):
    topic = unique_topic("lo")
    leaders = create(cluster, topic)
    t0 = int(time.time() * 1000) - 100000
    with RawConnection(cluster.broker(leaders[0]).kafka_port) as c:
        for ts in (t0, t0 + 300, t0 + 100):  # the largest timestamp at offset 1
            assert produce(c, topic, 0, batch([b"%d" % ts], timestamp=ts))["error_code"] == 0
        _, epoch = partition_state(cluster, topic)
        for version in range(1, 8):
            asks = [-2, -1, t0 + 50, t0 + 1000] + ([-3] if version >= 7 else [])
            resp = c.call("ListOffsets", version, {
                "replica_id": -1, "isolation_level": 0, "topics": [{"name": topic, "partitions": [
                    {"partition_index": 0, "current_leader_epoch": -1, "timestamp": ts}
                    for ts in asks]}]})
            got = [(p["error_code"], p["offset"], p["timestamp"]) for p in resp["topics"][0]["partitions"]]
            want = [(0, 0, -1), (0, 3, -1), (0, 1, t0 + 300), (0, -1, -1)]
            if version >= 7:
                want.append((0, 1, t0 + 300))
            assert got == want, version
            if version >= 4:
                assert [p["leader_epoch"] for p in resp["topics"][0]["partitions"]][:3] == [epoch] * 3


def test_metadata_every_version(cluster):
    topic = unique_topic("md")
    create(cluster, topic, partitions=2)
    port = cluster.live_port()
    live = sorted(cluster.brokers)
    topic_id = None
    cluster_id = None
    for version in range(0, 13):
        asks = [] if version == 0 else None  # all topics
        resp = metadata(port, version, asks, include_topic_authorized_operations=True,
                        include_cluster_authorized_operations=True)
        assert sorted(b["node_id"] for b in resp["brokers"]) == live
        if version >= 1:
            assert resp["controller_id"] in live
        if version >= 2:
            # Written by the first active controller: 16 random bytes, base64url (22 characters).
            assert len(resp["cluster_id"]) == 22
            assert cluster_id in (None, resp["cluster_id"])
            cluster_id = resp["cluster_id"]
        if 8 <= version <= 10:
            assert resp["cluster_authorized_operations"] == CLUSTER_OPERATIONS
        t = next(t for t in resp["topics"] if t["name"] == topic)
        assert t["error_code"] == 0 and len(t["partitions"]) == 2
        for p in t["partitions"]:
            assert p["leader_id"] in live and sorted(p["replica_nodes"]) == live
            if version >= 5:
                assert p["offline_replicas"] == []
            if version >= 7:
                assert p["leader_epoch"] >= 0
        if version >= 8:
            assert t["topic_authorized_operations"] == TOPIC_OPERATIONS
        if version >= 10:
            assert t["topic_id"] != "00" * 16
            assert topic_id in (None, t["topic_id"])
            topic_id = t["topic_id"]
    for b in live:  # every broker says the same
        assert metadata(cluster.broker(b).kafka_port, 12, None)["cluster_id"] == cluster_id
    # v12: a topic asked for by id; an unknown id.
    unknown_id = "ab" * 16
    resp = metadata(port, 12, [{"topic_id": topic_id, "name": None}, {"topic_id": unknown_id, "name": None}])
    by_id = {t["topic_id"]: t for t in resp["topics"]}
    assert by_id[topic_id]["name"] == topic and by_id[topic_id]["error_code"] == 0
    assert by_id[unknown_id]["name"] is None and by_id[unknown_id]["error_code"] == UNKNOWN_TOPIC_ID
    # v4+: no auto-creation when the client says so.
    missing = unique_topic("md-missing")
    resp = metadata(port, 9, [{"topic_id": "00" * 16, "name": missing}])
    assert resp["topics"][0]["error_code"] == UNKNOWN_TOPIC_OR_PARTITION
    # v5+: the replicas of a stopped broker are offline.
    cluster.stop_broker(3)
    try:
        deadline = time.monotonic() + 30
        while True:
            resp = metadata(cluster.live_port(), 5, [{"topic_id": "00" * 16, "name": topic}])
            offline = [p["offline_replicas"] for p in resp["topics"][0]["partitions"]]
            if offline == [[3], [3]]:
                break
            assert time.monotonic() < deadline, offline
            time.sleep(0.1)
    finally:
        cluster.start_broker(3)


def test_produce_every_version(cluster):
    topic = unique_topic("pv")
    leaders = create(cluster, topic, configs={"cleanup.policy": "compact"})
    with RawConnection(cluster.broker(leaders[0]).kafka_port) as c:
        for i, version in enumerate(range(3, 10)):
            p = produce(c, topic, 0, batch([b"v%d" % version]), version)
            assert (p["error_code"], p["base_offset"]) == (0, i), version
            if version >= 5:
                assert p["log_start_offset"] == 0
        # v8+: which records of the batch have no key (a compacted topic needs one).
        keyless = batch([b"a", b"b", b"c"], keys=[b"k", None, None])
        for version in (7, 8, 9):
            p = produce(c, topic, 0, keyless, version)
            assert p["error_code"] == INVALID_RECORD
            if version >= 8:
                assert [e["batch_index"] for e in p["record_errors"]] == [1, 2]
                assert "has no key" in p["error_message"]


def test_a_malformed_request_of_every_advertised_version_closes_only_its_connection(cluster):
    port = cluster.live_port()
    with RawConnection(port) as c:
        table = c.call("ApiVersions", 3, {"client_software_name": "raw",
                                         "client_software_version": "1"})["api_keys"]
    names = {key: name for name, (key, _flexible) in __import__("wire").API_KEYS.items()}
    tried = 0
    for entry in table:
        name = names[entry["api_key"]]
        if name == "ApiVersions":
            continue  # unknown versions get an answer there, by design (KIP-511)
        for version in range(entry["min_version"], entry["max_version"] + 1):
            with RawConnection(port, timeout=10) as bad:
                # A body cut short: a length that promises more bytes than follow.
                bad.send_raw(request_frame(name, version, 1, b"\x7f\xff\xff"))
                with pytest.raises((ConnectionClosed, ConnectionResetError)):
                    bad.read_response(name, version)
            tried += 1
    assert tried > 60
    # The broker is fine: a new connection is answered.
    resp = metadata(port, 12, None)
    assert sorted(b["node_id"] for b in resp["brokers"]) == sorted(cluster.brokers)
    assert all(b.running() for b in cluster.brokers.values())


def test_a_truncated_log_is_detected_by_epoch_kip_320(cluster):
    """What a KIP-320 consumer (the Java client; librdkafka 2.0.2 has no KIP-320) sees after an
    unclean failover: records it read from the old leader are gone from the new one's log. Fetch
    v12 with its last fetched epoch answers where its log diverges, and OffsetForLeaderEpoch gives
    the end of that epoch, so the consumer can reset instead of silently skipping."""
    topic = unique_topic("kip320")
    create(cluster, topic, assignments=[[1, 2, 3]],
           configs={"unclean.leader.election.enable": "true", "min.insync.replicas": "1"})
    with RawConnection(cluster.broker(1).kafka_port) as c:
        assert produce(c, topic, 0, batch([b"a%d" % i for i in range(5)]))["error_code"] == 0
    deadline = time.monotonic() + 30
    while cluster.list_offset(topic, 0) != 5:  # every replica has 0..4
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cluster.stop_broker(2)
    cluster.stop_broker(3)
    try:
        with RawConnection(cluster.broker(1).kafka_port) as c:
            deadline = time.monotonic() + 30
            while True:  # broker 1 alone in the ISR: acks=all succeeds with min.insync.replicas=1
                p = produce(c, topic, 0, batch([b"b%d" % i for i in range(5)]))
                if p["error_code"] == 0:
                    break
                assert time.monotonic() < deadline, p
                time.sleep(0.1)
            # The consumer reads to the end, 10, in epoch 0.
            read = by_partition(c.call("Fetch", 12, fetch_body([(topic, [(0, 0, 0)])])))[(topic, 0)]
            assert read["high_watermark"] == 10
        cluster.kill_broker(1)
        cluster.start_broker(2)
        cluster.start_broker(3)
        deadline = time.monotonic() + 60
        while True:  # an unclean election: 2 or 3 leads, in a new epoch, its log ends at 5
            try:
                leader, epoch = partition_state(cluster, topic)
            except Exception:
                leader, epoch = -1, -1
            if leader in (2, 3):
                break
            assert time.monotonic() < deadline, "no unclean election"
            time.sleep(0.2)
        assert epoch >= 1
        with RawConnection(cluster.broker(leader).kafka_port) as c:
            deadline = time.monotonic() + 30
            while produce(c, topic, 0, batch([b"c%d" % i for i in range(3)]))["error_code"] != 0:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            body = fetch_body([(topic, [(0, 10, epoch)])])
            body["topics"][0]["partitions"][0]["last_fetched_epoch"] = 0
            part = by_partition(c.call("Fetch", 12, body))[(topic, 0)]
            assert part["error_code"] == 0 and part["records"] == ""
            assert part["diverging_epoch"] == {"epoch": 0, "end_offset": 5}
            # A position inside what survived (offset 3, epoch 0): read on, no divergence.
            body = fetch_body([(topic, [(0, 3, epoch)])])
            body["topics"][0]["partitions"][0]["last_fetched_epoch"] = 0
            part = by_partition(c.call("Fetch", 12, body))[(topic, 0)]
            assert part["diverging_epoch"] is None and part["records"]
            # OffsetForLeaderEpoch: epoch 0 ends at 5 here; the current epoch at the log end.
            resp = c.call("OffsetForLeaderEpoch", 4, {"replica_id": -1, "topics": [
                {"topic": topic, "partitions": [
                    {"partition": 0, "current_leader_epoch": epoch, "leader_epoch": 0},
                    {"partition": 0, "current_leader_epoch": epoch, "leader_epoch": epoch},
                    {"partition": 0, "current_leader_epoch": epoch - 1, "leader_epoch": 0}]}]})
            old, current, fenced = resp["topics"][0]["partitions"]
            assert (old["error_code"], old["leader_epoch"], old["end_offset"]) == (0, 0, 5)
            assert (current["error_code"], current["leader_epoch"], current["end_offset"]) == (0, epoch, 8)
            assert fenced["error_code"] == FENCED_LEADER_EPOCH
            for version in range(0, 4):
                resp = c.call("OffsetForLeaderEpoch", version, {"replica_id": -1, "topics": [
                    {"topic": topic, "partitions": [
                        {"partition": 0, "current_leader_epoch": -1, "leader_epoch": 0}]}]})
                (r,) = resp["topics"][0]["partitions"]
                assert (r["error_code"], r["end_offset"]) == (0, 5)
    finally:
        for b in (1, 2, 3):
            if not cluster.brokers[b].running():
                cluster.start_broker(b)
