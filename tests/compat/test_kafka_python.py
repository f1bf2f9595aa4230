"""kafka-python 2.0.2 against a Gregor cluster: KafkaProducer (acks=1 default, 'all', 0; gzip,
snappy, lz4, zstd — it infers broker 2.4 from the advertised versions and sends Produce v7), KafkaConsumer
with assign() + seek() / seek_to_beginning() and no group, KafkaAdminClient topics, keys,
headers and NULL values."""

import socket
import struct
import subprocess
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import (InvalidReplicationFactorError, TopicAlreadyExistsError,
                          UnknownTopicOrPartitionError)
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.offset import OffsetRequest as ListOffsetsRequest
from kafka.protocol.offset import OffsetResponse as ListOffsetsResponse
from kafka.protocol.parser import KafkaProtocol
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.memory_records import MemoryRecordsBuilder

from cluster import CODECS, kafka_request, pipelined, unique_topic

CORRUPT_MESSAGE = 2
INVALID_REQUIRED_ACKS = 21
UNSUPPORTED_COMPRESSION_TYPE = 76


def producer(cluster, **conf):
    return KafkaProducer(bootstrap_servers=cluster.bootstrap, request_timeout_ms=15000, **conf)


def send_all(p, topic, messages, timeout=30):
    """messages: dicts of KafkaProducer.send() kwargs; returns the RecordMetadata of each."""
    futures = [p.send(topic, **m) for m in messages]
    p.flush(timeout=timeout)
    return [f.get(timeout=timeout) for f in futures]


def consumer(cluster, **conf):
    c = dict(bootstrap_servers=cluster.bootstrap, group_id=None, enable_auto_commit=False,
             request_timeout_ms=15000)
    c.update(conf)
    return KafkaConsumer(**c)


def poll_until(c, count, timeout=30):
    """Polls an assigned consumer until `count` records arrived; returns them in arrival order
    (per partition in offset order)."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        assert time.monotonic() < deadline, "got %d of %d records within %ss" % (
            len(out), count, timeout)
        for _tp, records in c.poll(timeout_ms=500).items():
            out.extend(records)
    return out


def read_partitions(cluster, topic, partitions, count, timeout=30, **conf):
    c = consumer(cluster, **conf)
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        records = poll_until(c, count, timeout)
        # Nothing more than expected.
        assert not any(c.poll(timeout_ms=300).values())
        return records
    finally:
        c.close()


def admin(cluster):
    return KafkaAdminClient(bootstrap_servers=cluster.bootstrap, request_timeout_ms=30000)


def create_topic(cluster, name, partitions=1):
    a = admin(cluster)
    try:
        a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                        timeout_ms=30000)
    finally:
        a.close()
    return cluster.wait_for_topic(name, partitions)


# ---- producer ------------------------------------------------------------------------------

def test_client_infers_a_magic_v2_protocol_level(cluster):
    p = producer(cluster)
    try:
        # (0, 11) or later: RecordBatch v2 (magic 2) and Produce v3 (reference §1.1).
        assert p.config["api_version"] >= (0, 11), p.config["api_version"]
    finally:
        p.close()


@pytest.mark.parametrize("acks", [None, "all", 0])
def test_produce_and_read_back(cluster, acks):
    topic = unique_topic("kp-acks%s" % acks)
    leaders = create_topic(cluster, topic, partitions=3)
    assert set(leaders.values()) == {1, 2, 3}
    n = 300
    conf = {} if acks is None else {"acks": acks}  # None: the default, acks=1
    p = producer(cluster, **conf)
    try:
        metas = send_all(p, topic, [{"key": b"k%d" % i, "value": b"v%d" % i,
                                     "partition": i % 3} for i in range(n)])
    finally:
        p.close()
    if acks != 0:
        for part in range(3):
            assert [m.offset for m in metas if m.partition == part] == list(range(n // 3))
    else:
        assert all(m.offset == -1 for m in metas)  # acks=0: no response, no offsets
    records = read_partitions(cluster, topic, [0, 1, 2], n)
    for part in range(3):
        got = [(r.key, r.value, r.offset) for r in records if r.partition == part]
        assert got == [(b"k%d" % i, b"v%d" % i, j) for j, i in enumerate(range(part, n, 3))]
    for part in range(3):
        assert cluster.list_offset(topic, part) == n // 3


def test_keys_headers_null_values_timestamps(cluster):
    topic = unique_topic("kp-fields")
    create_topic(cluster, topic)
    ts = int(time.time() * 1000) - 86400 * 1000
    messages = [
        {"key": b"key", "value": b"value"},
        {"key": b"tombstone", "value": None},
        {"key": None, "value": b"no key"},
        {"key": b"", "value": b""},
        {"key": b"h", "value": b"with headers",
         "headers": [("a", b"1"), ("a", b"2"), ("empty", b""), ("bin", b"\x00\xff")]},
        {"key": b"ts", "value": b"old", "timestamp_ms": ts},
        {"key": b"bin\x00", "value": bytes(range(256)) * 64},
    ]
    p = producer(cluster)
    try:
        metas = send_all(p, topic, [dict(m, partition=0) for m in messages])
    finally:
        p.close()
    assert [m.offset for m in metas] == list(range(len(messages)))
    assert metas[5].timestamp == ts
    records = read_partitions(cluster, topic, [0], len(messages))
    assert [(r.key, r.value) for r in records] == [(m["key"], m["value"]) for m in messages]
    assert records[4].headers == [("a", b"1"), ("a", b"2"), ("empty", b""), ("bin", b"\x00\xff")]
    assert records[0].headers == []
    assert records[5].timestamp == ts and records[5].timestamp_type == 0  # CreateTime
    stored = [r for b in cluster.fetch_batches(topic, 0) for r in b["records"]]
    assert [(k, v) for _o, k, v, _h in stored] == [(m["key"], m["value"]) for m in messages]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compression(cluster, codec):
    topic = unique_topic("kp-z-" + codec)
    create_topic(cluster, topic)
    n = 400
    messages = [{"key": b"k%d" % i, "value": b"value %d " % i + b"abcdefghij" * 40,
                 "headers": [("i", b"%d" % i)], "partition": 0} for i in range(n)]
    p = producer(cluster, compression_type=codec, linger_ms=20)
    try:
        send_all(p, topic, messages)
    finally:
        p.close()
    batches = cluster.fetch_batches(topic, 0)
    # kafka-python compresses whenever asked (no feature negotiation, unlike librdkafka).
    assert {b["magic"] for b in batches} == {2}
    assert {b["compression_type"] for b in batches} == {CODECS[codec]}
    records = read_partitions(cluster, topic, [0], n)
    assert [(r.key, r.value, r.headers) for r in records] == [
        (m["key"], m["value"], m["headers"]) for m in messages]

    # Seeking into the middle of a compressed batch: the broker returns the whole batch and the
    # client skips the records before the position.
    assert any(len(b["records"]) > 1 for b in batches)
    mid = next(b["base_offset"] + len(b["records"]) // 2 for b in batches
               if len(b["records"]) > 1)
    c = consumer(cluster)
    try:
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        c.seek(tp, mid)
        rest = poll_until(c, n - mid)
        assert [r.offset for r in rest] == list(range(mid, n))
    finally:
        c.close()

    # librdkafka reads kafka-python's compressed batches too.
    out = subprocess.run(["kcat", "-b", cluster.bootstrap, "-C", "-t", topic, "-p", "0",
                          "-o", "beginning", "-e", "-q", "-f", "%k\n"],
                         capture_output=True, timeout=60, check=True).stdout
    assert out.decode().split() == ["k%d" % i for i in range(n)]


def test_one_request_for_many_topics_and_partitions(cluster):
    # With linger, kafka-python puts every ready batch for a broker into one Produce request:
    # here 2 topics x 2 partitions per broker.
    topics = [unique_topic("kp-multi-a"), unique_topic("kp-multi-b")]
    for t in topics:
        create_topic(cluster, t, partitions=6)
    p = producer(cluster, linger_ms=200, acks="all")
    try:
        futures = [(t, part, i, p.send(t, value=b"%s/%d/%d" % (t.encode(), part, i),
                                       partition=part))
                   for i in range(5) for t in topics for part in range(6)]
        p.flush(timeout=30)
        metas = [(t, part, i, f.get(timeout=30)) for t, part, i, f in futures]
    finally:
        p.close()
    for t, part, i, m in metas:
        assert (m.topic, m.partition, m.offset) == (t, part, i)
    for t in topics:
        records = read_partitions(cluster, t, range(6), 30)
        for part in range(6):
            assert [r.value for r in records if r.partition == part] == [
                b"%s/%d/%d" % (t.encode(), part, i) for i in range(5)]


def raw_batch(values, codec=0):
    builder = MemoryRecordsBuilder(magic=2, compression_type=codec, batch_size=1 << 20)
    for v in values:
        builder.append(timestamp=None, key=None, value=v, headers=[])
    builder.close()
    return builder.buffer()


def raw_produce(port, topic, data, acks=-1, version=3):
    req = ProduceRequest[version](transactional_id=None, required_acks=acks, timeout=10000,
                                  topics=[(topic, [(0, data)])])
    ((_t, ((_p, err, offset, *_rest),)),) = kafka_request(port, req).topics
    return err, offset


def test_bad_produce_requests_are_rejected(cluster):
    topic = unique_topic("kp-bad")
    leaders = create_topic(cluster, topic)
    port = cluster.broker(leaders[0]).kafka_port
    good = raw_batch([b"a" * 100, b"b" * 100])
    corrupt = bytearray(good)
    corrupt[-5] ^= 0xFF  # a record byte: the CRC no longer matches
    assert raw_produce(port, topic, bytes(corrupt))[0] == CORRUPT_MESSAGE
    assert raw_produce(port, topic, good[:-10])[0] != 0  # truncated batch
    assert raw_produce(port, topic, b"\x00" * 70)[0] != 0  # garbage
    assert raw_produce(port, topic, good, acks=2)[0] == INVALID_REQUIRED_ACKS
    assert cluster.list_offset(topic, 0) == 0  # nothing appended
    # The connection-level state is fine: good requests still work, two batches at once too.
    assert raw_produce(port, topic, good) == (0, 0)
    assert raw_produce(port, topic, good + good) == (0, 2)
    assert cluster.list_offset(topic, 0) == 6
    assert [b["base_offset"] for b in cluster.fetch_batches(topic, 0)] == [0, 2, 4]


# Several requests in flight on one connection (librdkafka's default): acks=all produces to an
# RF 3 partition wait for the followers at the same time, yet every response comes back in
# request order and every append happens in request order; other requests in between see the
# effects of the earlier ones.
def test_pipelined_requests_are_answered_in_order(cluster):
    topic = unique_topic("kp-pipeline")
    leaders = cluster.create_topic(topic, partitions=1, replication_factor=3)
    port = cluster.broker(leaders[0]).kafka_port
    batch = raw_batch([b"p" * 100, b"q" * 100])
    requests = []
    for i in range(20):
        requests.append(ProduceRequest[3](transactional_id=None, required_acks=-1 if i % 3 else 1,
                                          timeout=10000, topics=[(topic, [(0, batch)])]))
        if i % 5 == 4:
            requests.append(MetadataRequest[1](topics=[topic]))
            requests.append(ListOffsetsRequest[1](replica_id=-2, topics=[(topic, [(0, -1)])]))
    responses, closed = pipelined(port, requests)
    assert not closed
    assert [cid for cid, _ in responses] == sorted(cid for cid, _ in responses)
    produced, log_ends = [], []
    for _cid, r in responses:
        if isinstance(r, ProduceResponse[3]):
            ((_t, ((_p, err, offset, _ts),)),) = r.topics
            assert err == 0
            produced.append(offset)
        elif isinstance(r, ListOffsetsResponse[1]):
            ((_t, ((_p, err, _ts, offset),)),) = r.topics
            assert err == 0
            log_ends.append(offset)
    assert produced == list(range(0, 40, 2))
    # A debugging ListOffsets (replica -2) reads the log end: every earlier append is in it.
    assert log_ends == [10, 20, 30, 40]
    assert [b["base_offset"] for b in cluster.fetch_batches(topic, 0)] == list(range(0, 40, 2))


# A bad frame behind pipelined produces: the earlier requests are still answered, then the
# connection closes; nothing after the bad frame is appended.
def test_pipelined_requests_before_a_bad_frame_are_answered(cluster):
    topic = unique_topic("kp-pipeline-bad")
    leaders = cluster.create_topic(topic, partitions=1, replication_factor=3)
    port = cluster.broker(leaders[0]).kafka_port
    batch = raw_batch([b"r" * 100])
    proto = KafkaProtocol(client_id="gregor-pipeline")
    for _ in range(5):
        proto.send_request(ProduceRequest[3](transactional_id=None, required_acks=-1,
                                             timeout=10000, topics=[(topic, [(0, batch)])]))
    payload = proto.send_bytes() + struct.pack(">i", -7)  # a negative frame size
    got, closed = [], False
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(payload)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            data = s.recv(1 << 20)
            if not data:
                closed = True
                break
            got.extend(proto.receive_bytes(data))
    assert closed
    assert [r.topics[0][1][0][2] for _cid, r in got] == [0, 1, 2, 3, 4]
    assert cluster.list_offset(topic, 0) == 5


# The replication listener is internal, but reachable: whatever arrives there that is not a
# follower's frame closes that connection only; the broker and its followers carry on.
def test_garbage_on_the_replication_listener_closes_that_connection_only(cluster):
    topic = unique_topic("kp-repl-garbage")
    leaders = cluster.create_topic(topic, partitions=1, replication_factor=3)
    leader = cluster.broker(leaders[0])
    for payload in (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x00\x00\x05\x09abcd",
                    b"\x00\x00\x00\x04\x01\xff\xff\xff", b"GET / HTTP/1.0\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", leader.replication_port), timeout=10) as s:
            s.sendall(payload)
            s.settimeout(10)
            assert s.recv(100) == b"", payload  # closed, nothing answered
    # Replication still works: an acks=all write is acknowledged by all three replicas.
    resp = kafka_request(leader.kafka_port, ProduceRequest[3](
        transactional_id=None, required_acks=-1, timeout=10000,
        topics=[(topic, [(0, raw_batch([b"after"]))])]))
    ((_t, ((_p, err, offset, _ts),)),) = resp.topics
    assert (err, offset) == (0, 0)


# As Kafka (KIP-110): zstd batches need Produce v7+, so v3 answers UNSUPPORTED_COMPRESSION_TYPE;
# a topic whose compression.type is zstd cannot be read before Fetch v10.
def test_zstd_needs_produce_v7_and_a_zstd_topic_fetch_v10(cluster):
    data = raw_batch([b"zstd %d" % i + b"x" * 100 for i in range(10)], codec=CODECS["zstd"])
    topic = unique_topic("kp-zstd-raw")
    leaders = cluster.create_topic(topic, configs={"compression.type": "zstd"})
    port = cluster.broker(leaders[0]).kafka_port
    assert raw_produce(port, topic, data) == (UNSUPPORTED_COMPRESSION_TYPE, -1)
    assert raw_produce(port, topic, data, version=7) == (0, 0)
    assert raw_produce(port, topic, data, version=5) == (UNSUPPORTED_COMPRESSION_TYPE, -1)
    assert raw_produce(port, topic, data, version=7) == (0, 10)
    wait_for_high_watermark(cluster, topic, 20)
    old = kafka_request(port, FetchRequest[4](-1, 100, 1, 1 << 20, 0, [(topic, [(0, 0, 1 << 20)])]))
    ((_t, ((_p, err, hw, _lso, _aborted, records),)),) = old.topics
    assert (err, records) == (UNSUPPORTED_COMPRESSION_TYPE, b"")
    new = kafka_request(port, FetchRequest[10](-1, 100, 1, 1 << 20, 0, 0, -1,
                                               [(topic, [(0, -1, 0, -1, 1 << 20)])], []))
    ((_t, ((_p, err, hw, _lso, log_start, _aborted, records),)),) = new.topics
    assert (err, hw, log_start) == (0, 20, 0)
    assert len(records) > 0
    # A topic that keeps what producers send is readable by every version.
    plain = unique_topic("kp-zstd-plain")
    leaders = cluster.create_topic(plain)
    port = cluster.broker(leaders[0]).kafka_port
    assert raw_produce(port, plain, data, version=7) == (0, 0)
    wait_for_high_watermark(cluster, plain, 10)
    old = kafka_request(port, FetchRequest[4](-1, 100, 1, 1 << 20, 0, [(plain, [(0, 0, 1 << 20)])]))
    ((_t, ((_p, err, hw, _lso, _aborted, records),)),) = old.topics
    assert (err, hw) == (0, 10) and len(records) > 0


def wait_for_high_watermark(cluster, topic, hw, timeout=20.0):
    deadline = time.monotonic() + timeout
    while cluster.list_offset(topic, 0) != hw:
        assert time.monotonic() < deadline, "%s-0 never reached HW %d" % (topic, hw)
        time.sleep(0.05)


# ---- consumer ------------------------------------------------------------------------------

def test_assign_seek_and_offsets(cluster):
    topic = unique_topic("kp-seek")
    create_topic(cluster, topic, partitions=3)
    base = int(time.time() * 1000) - 600000
    p = producer(cluster, acks="all")
    try:
        send_all(p, topic, [{"value": b"p%d-%d" % (part, i), "partition": part,
                             "timestamp_ms": base + i * 1000}
                            for part in range(3) for i in range(10)])
    finally:
        p.close()
    tps = [TopicPartition(topic, part) for part in range(3)]
    c = consumer(cluster)
    try:
        assert c.beginning_offsets(tps) == {tp: 0 for tp in tps}
        assert c.end_offsets(tps) == {tp: 10 for tp in tps}
        found = c.offsets_for_times({tps[1]: base + 4500, tps[2]: base + 10**8})
        assert found[tps[1]].offset == 5 and found[tps[1]].timestamp == base + 5000
        assert found[tps[2]] is None

        c.assign(tps)
        c.seek_to_beginning(tps[0])
        c.seek(tps[1], 7)
        c.seek_to_end(tps[2])
        records = poll_until(c, 10 + 3)
        assert [(r.partition, r.offset, r.value) for r in records if r.partition == 0] == [
            (0, i, b"p0-%d" % i) for i in range(10)]
        assert [(r.partition, r.offset, r.value) for r in records if r.partition == 1] == [
            (1, i, b"p1-%d" % i) for i in range(7, 10)]
        assert not [r for r in records if r.partition == 2]
        assert c.position(tps[0]) == 10 and c.position(tps[1]) == 10 and c.position(tps[2]) == 10

        # Rewind one partition; and new data shows up on the one that was at its end.
        c.seek(tps[0], 8)
        p = producer(cluster)
        try:
            send_all(p, topic, [{"value": b"late", "partition": 2}])
        finally:
            p.close()
        records = poll_until(c, 3)
        assert sorted((r.partition, r.offset) for r in records) == [(0, 8), (0, 9), (2, 10)]
    finally:
        c.close()


def test_consume_with_small_fetch_sizes(cluster):
    # max_partition_fetch_bytes below one batch: the broker still returns a whole batch (KIP-74).
    topic = unique_topic("kp-small-fetch")
    create_topic(cluster, topic)
    p = producer(cluster, batch_size=64 * 1024, linger_ms=50)
    try:
        send_all(p, topic, [{"value": b"%05d" % i + b"y" * 1000, "partition": 0}
                            for i in range(200)])
    finally:
        p.close()
    records = read_partitions(cluster, topic, [0], 200, max_partition_fetch_bytes=2048,
                              fetch_max_bytes=4096)
    assert [r.offset for r in records] == list(range(200))
    assert [r.value[:5] for r in records] == [b"%05d" % i for i in range(200)]


# ---- admin ---------------------------------------------------------------------------------

def test_admin_create_describe_delete(cluster):
    a = admin(cluster)
    try:
        t1, t2 = unique_topic("kp-admin-a"), unique_topic("kp-admin-b")
        resp = a.create_topics([NewTopic(t1, num_partitions=6, replication_factor=1),
                                NewTopic(t2, num_partitions=2, replication_factor=1)],
                               timeout_ms=30000)
        assert sorted((t, err) for t, err, *_ in resp.topic_errors) == [(t1, 0), (t2, 0)]
        leaders = cluster.wait_for_topic(t1, 6)
        assert set(leaders.values()) == {1, 2, 3}
        cluster.wait_for_topic(t2, 2)

        with pytest.raises(TopicAlreadyExistsError):
            a.create_topics([NewTopic(t1, num_partitions=1, replication_factor=1)],
                            timeout_ms=30000)
        with pytest.raises(InvalidReplicationFactorError):
            a.create_topics([NewTopic(unique_topic("kp-rf9"), num_partitions=1,
                                      replication_factor=9)], timeout_ms=30000)
        probe = unique_topic("kp-validate")
        a.create_topics([NewTopic(probe, num_partitions=1, replication_factor=1)],
                        timeout_ms=30000, validate_only=True)

        names = a.list_topics()
        assert t1 in names and t2 in names and probe not in names
        (desc,) = a.describe_topics([t1])
        assert desc["topic"] == t1 and desc["error_code"] == 0
        assert sorted((p["partition"], p["leader"]) for p in desc["partitions"]) == sorted(
            leaders.items())

        resp = a.delete_topics([t1, t2], timeout_ms=30000)
        assert sorted((t, err) for t, err in resp.topic_error_codes) == [(t1, 0), (t2, 0)]
        deadline = time.monotonic() + 30
        while t1 in a.list_topics() or t2 in a.list_topics():
            assert time.monotonic() < deadline, "deleted topics still listed"
            time.sleep(0.2)
        with pytest.raises(UnknownTopicOrPartitionError):
            a.delete_topics([t1], timeout_ms=30000)
    finally:
        a.close()
