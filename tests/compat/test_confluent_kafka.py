"""confluent-kafka 1.7.0 (librdkafka 2.0.2) against a Gregor cluster: Producer with acks=all/1/0,
Consumer with assign() and explicit offsets (no group protocol), AdminClient topics, keys, NULL
values, headers, timestamps, every compression codec, 1 MiB messages, the broker's size limit,
and NOT_LEADER_OR_FOLLOWER from a raw Produce sent to the wrong broker."""

import selectors
import socket
import time

import pytest
from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, TIMESTAMP_CREATE_TIME,
                             TIMESTAMP_LOG_APPEND_TIME, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import NewTopic
from kafka.conn import BrokerConnection
from kafka.protocol.produce import ProduceRequest
from kafka.record.memory_records import MemoryRecordsBuilder

from cluster import librdkafka_stored_codec, unique_topic
from clients import admin, consume, consumer, produce_all, producer

# Room for 1 MiB messages: the default limit (1048588) is a 1 MiB value plus 12 bytes only.
GREGOR_BROKER_OVERRIDES = {"message.max.bytes": "2097152"}

NOT_LEADER_OR_FOLLOWER = 6
UNKNOWN_TOPIC_OR_PARTITION = 3


def create_topics(cluster, *topics, partitions=1, config=None):
    a = admin(cluster)  # must outlive the futures: destroying it fails them with _DESTROY
    fs = a.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=1, config=config or {})
         for t in topics],
        operation_timeout=30, request_timeout=30)
    for t, f in fs.items():
        f.result(timeout=40)
    for t in topics:
        cluster.wait_for_topic(t, partitions)


# ---- producer / consumer ------------------------------------------------------------------

@pytest.mark.parametrize("acks", ["all", "1", "0"])
def test_produce_and_read_back(cluster, acks):
    topic = unique_topic("ck-acks" + acks)
    create_topics(cluster, topic, partitions=3)
    n = 300
    p = producer(cluster, acks=acks)
    reports = produce_all(p, topic, [{"key": b"k%d" % i, "value": b"v%d" % i,
                                      "partition": i % 3} for i in range(n)])
    if acks != "0":
        # Offsets per partition are dense, in send order.
        for part in range(3):
            offs = [o for (pp, o) in reports if pp == part]
            assert offs == list(range(n // 3)), (part, offs[:10])
    msgs = consume(cluster, topic, [0, 1, 2], expected=n)
    assert len(msgs) == n
    for part in range(3):
        got = [(m.key(), m.value(), m.offset()) for m in msgs if m.partition() == part]
        want = [(b"k%d" % i, b"v%d" % i, j) for j, i in enumerate(range(part, n, 3))]
        assert got == want
    for part in range(3):
        assert cluster.list_offset(topic, part) == n // 3


def test_keys_null_values_headers_timestamps(cluster):
    topic = unique_topic("ck-fields")
    create_topics(cluster, topic)
    ts = int(time.time() * 1000) - 3600 * 1000  # an explicit CreateTime an hour ago
    messages = [
        {"key": b"key", "value": b"value", "partition": 0},
        {"key": b"tomb", "value": None, "partition": 0},  # tombstone
        {"key": None, "value": b"no key", "partition": 0},
        {"key": None, "value": None, "partition": 0},
        {"key": b"", "value": b"", "partition": 0},  # empty is not NULL
        {"key": b"h", "value": b"with headers", "partition": 0,
         "headers": [("a", b"1"), ("a", b"2"), ("empty", b""), ("nul", None),
                     ("utf8-\u00e9", b"\x00\xff")]},
        {"key": b"ts", "value": b"timestamped", "partition": 0, "timestamp": ts},
        {"key": b"bin\x00\xff", "value": bytes(range(256)), "partition": 0},
    ]
    produce_all(producer(cluster), topic, messages)
    msgs = consume(cluster, topic, [0])
    assert [(m.key(), m.value()) for m in msgs] == [(m["key"], m["value"]) for m in messages]
    assert [m.offset() for m in msgs] == list(range(len(messages)))
    assert msgs[0].headers() is None
    assert msgs[5].headers() == [("a", b"1"), ("a", b"2"), ("empty", b""), ("nul", None),
                                 ("utf8-\u00e9", b"\x00\xff")]
    assert msgs[6].timestamp() == (TIMESTAMP_CREATE_TIME, ts)
    assert msgs[0].timestamp()[0] == TIMESTAMP_CREATE_TIME

    # The stored records carry real NULLs.
    stored = [r for b in cluster.fetch_batches(topic, 0) for r in b["records"]]
    assert [(k, v) for _o, k, v, _h in stored] == [(m["key"], m["value"]) for m in messages]


def test_explicit_offsets_watermarks_and_offsets_for_times(cluster):
    topic = unique_topic("ck-offsets")
    create_topics(cluster, topic, partitions=2)
    base = int(time.time() * 1000) - 100000
    produce_all(producer(cluster), topic,
                [{"value": b"m%d" % i, "partition": 1, "timestamp": base + i * 1000}
                 for i in range(20)])
    # Start in the middle, and at the end (nothing), of partition 1; partition 0 is empty.
    msgs = consume(cluster, topic, {1: 15, 0: OFFSET_BEGINNING})
    assert [(m.partition(), m.offset(), m.value()) for m in msgs] == [
        (1, i, b"m%d" % i) for i in range(15, 20)]
    assert consume(cluster, topic, {1: OFFSET_END}) == []

    c = consumer(cluster)
    try:
        assert c.get_watermark_offsets(TopicPartition(topic, 1), timeout=10) == (0, 20)
        assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10) == (0, 0)
        # ListOffsets by timestamp: the first offset with timestamp >= the one asked for.
        for ts, want in [(base + 7000, 7), (base + 7500, 8), (base - 5000, 0)]:
            (found,) = c.offsets_for_times([TopicPartition(topic, 1, ts)], timeout=10)
            assert (found.error, found.offset) == (None, want), (ts - base, found)
        (late,) = c.offsets_for_times([TopicPartition(topic, 1, base + 10**7)], timeout=10)
        assert late.offset == -1  # after the last message: none
    finally:
        c.close()


def test_out_of_range_offset_resets(cluster):
    topic = unique_topic("ck-oor")
    create_topics(cluster, topic)
    produce_all(producer(cluster), topic, [{"value": b"m%d" % i, "partition": 0}
                                           for i in range(10)])
    # Fetch at 1000 > high watermark: OFFSET_OUT_OF_RANGE, then auto.offset.reset applies.
    msgs = consume(cluster, topic, {0: 1000}, expected=10, **{"auto.offset.reset": "earliest"})
    assert [(m.offset(), m.value()) for m in msgs] == [(i, b"m%d" % i) for i in range(10)]
    c = consumer(cluster, **{"auto.offset.reset": "error"})
    try:
        c.assign([TopicPartition(topic, 0, 1000)])
        deadline = time.monotonic() + 20
        while True:
            assert time.monotonic() < deadline, "no out-of-range error"
            m = c.poll(0.5)
            if m is not None and m.error():
                assert m.error().code() in (KafkaError.OFFSET_OUT_OF_RANGE,
                                            KafkaError._AUTO_OFFSET_RESET), m.error()
                break
            assert m is None, "unexpected message at %d" % m.offset()
    finally:
        c.close()


def test_topic_configs_log_append_time_and_max_message_bytes(cluster):
    topic = unique_topic("ck-appendtime")
    create_topics(cluster, topic, config={"message.timestamp.type": "LogAppendTime"})
    old = int(time.time() * 1000) - 86400 * 1000
    before = int(time.time() * 1000)
    p = producer(cluster, **{"compression.type": "gzip", "linger.ms": 20})
    stamps = []
    for i in range(20):
        p.produce(topic, value=b"t%d " % i + b"z" * 200, partition=0, timestamp=old,
                  on_delivery=lambda err, msg: stamps.append((err, msg.timestamp())))
    assert p.flush(30) == 0
    after = int(time.time() * 1000)
    assert all(err is None for err, _ in stamps), stamps[:3]
    # The produce response carries the broker's append time.
    for _err, (kind, ts) in stamps:
        assert kind == TIMESTAMP_LOG_APPEND_TIME and before - 1000 <= ts <= after + 1000, stamps
    msgs = consume(cluster, topic, [0])
    assert len(msgs) == 20
    for m in msgs:
        kind, ts = m.timestamp()
        assert kind == TIMESTAMP_LOG_APPEND_TIME and before - 1000 <= ts <= after + 1000
    # The stored batches say LogAppendTime, and their CRCs (rewritten by the broker) are valid.
    batches = cluster.fetch_batches(topic, 0)
    assert {b["timestamp_type"] for b in batches} == {1}
    assert sum(len(b["records"]) for b in batches) == 20

    small = unique_topic("ck-maxbytes")
    create_topics(cluster, small, config={"max.message.bytes": "2000"})
    errors = []
    p = producer(cluster, retries=0)
    # (Separate flushes: the limit applies to whole batches.)
    p.produce(small, value=b"x" * 5000, partition=0, on_delivery=lambda e, m: errors.append(e))
    assert p.flush(30) == 0
    p.produce(small, value=b"x" * 100, partition=0, on_delivery=lambda e, m: errors.append(e))
    assert p.flush(30) == 0
    assert errors[0] is not None and errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE, errors
    assert errors[1] is None


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compression(cluster, codec):
    topic = unique_topic("ck-z-" + codec)
    create_topics(cluster, topic)
    n = 500
    messages = [{"key": b"k%d" % i, "value": (b"value %d " % i) + b"0123456789" * 50,
                 "partition": 0, "headers": [("i", b"%d" % i)]} for i in range(n)]
    produce_all(producer(cluster, **{"compression.type": codec, "linger.ms": 50}), topic,
                messages)
    msgs = consume(cluster, topic, [0])
    assert [(m.key(), m.value(), m.headers()) for m in msgs] == [
        (m["key"], m["value"], m["headers"]) for m in messages]
    batches = cluster.fetch_batches(topic, 0)
    want = librdkafka_stored_codec(cluster.api_versions(), codec)
    assert {b["compression_type"] for b in batches} == {want}
    assert sum(len(b["records"]) for b in batches) == n
    # Start in the middle of a (compressed) batch.
    big = max(batches, key=lambda b: len(b["records"]))
    mid = big["base_offset"] + len(big["records"]) // 2
    msgs = consume(cluster, topic, {0: mid})
    assert [m.offset() for m in msgs] == list(range(mid, n))


def test_one_mib_messages(cluster):
    topic = unique_topic("ck-big")
    create_topics(cluster, topic, partitions=2)
    mib = 1 << 20
    values = [bytes([i]) * mib for i in range(4)]
    values.append(bytes(range(256)) * (mib // 256))
    p = producer(cluster, **{"message.max.bytes": 2 * mib + 100000})
    produce_all(p, topic, [{"key": b"big%d" % i, "value": v, "partition": i % 2}
                           for i, v in enumerate(values)], timeout=60)
    msgs = consume(cluster, topic, [0, 1], timeout=60,
                   **{"fetch.max.bytes": 8 * mib, "max.partition.fetch.bytes": 4 * mib})
    got = {m.key(): m.value() for m in msgs}
    assert len(msgs) == len(values)
    for i, v in enumerate(values):
        assert got[b"big%d" % i] == v, "message %d differs" % i


def test_message_larger_than_broker_limit_is_rejected(cluster):
    topic = unique_topic("ck-toobig")
    create_topics(cluster, topic)
    p = producer(cluster, **{"message.max.bytes": 8 << 20, "retries": 0})
    errors = []
    p.produce(topic, value=b"x" * (3 << 20), partition=0,
              on_delivery=lambda err, msg: errors.append(err))
    assert p.flush(30) == 0
    assert len(errors) == 1 and errors[0] is not None
    # Broker error MESSAGE_TOO_LARGE (10), which librdkafka reports as MSG_SIZE_TOO_LARGE.
    assert errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE, errors[0]
    # The producer keeps working afterwards.
    assert produce_all(p, topic, [{"value": b"small", "partition": 0}]) == [(0, 0)]


# ---- admin ---------------------------------------------------------------------------------

def test_admin_create_list_delete(cluster):
    a = admin(cluster)
    t1, t2 = unique_topic("ck-admin-a"), unique_topic("ck-admin-b")
    fs = a.create_topics([NewTopic(t1, num_partitions=6, replication_factor=1),
                          NewTopic(t2, num_partitions=1, replication_factor=1)],
                         operation_timeout=30)
    for f in fs.values():
        assert f.result(timeout=40) is None
    leaders = cluster.wait_for_topic(t1, 6)
    assert set(leaders.values()) == {1, 2, 3}

    md = a.list_topics(timeout=10)
    assert {b.id: (b.host, b.port) for b in md.brokers.values()} == {
        n: ("127.0.0.1", b.kafka_port) for n, b in cluster.brokers.items()}
    assert md.controller_id in cluster.brokers
    assert t1 in md.topics and t2 in md.topics
    assert sorted(md.topics[t1].partitions) == list(range(6))
    for pid, pm in md.topics[t1].partitions.items():
        assert pm.leader == leaders[pid] and pm.replicas == [pm.leader] and pm.isrs == [pm.leader]
    one = a.list_topics(topic=t2, timeout=10)
    assert list(one.topics) == [t2] and one.topics[t2].error is None

    # Duplicates and bad requests.
    (dup,) = a.create_topics([NewTopic(t1, num_partitions=1, replication_factor=1)]).values()
    with pytest.raises(KafkaException) as e:
        dup.result(timeout=40)
    assert e.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS
    (bad_rf,) = a.create_topics([NewTopic(unique_topic("ck-rf9"), num_partitions=1,
                                          replication_factor=9)]).values()
    with pytest.raises(KafkaException) as e:
        bad_rf.result(timeout=40)
    assert e.value.args[0].code() == KafkaError.INVALID_REPLICATION_FACTOR
    # validate_only creates nothing.
    probe = unique_topic("ck-validate")
    (v,) = a.create_topics([NewTopic(probe, num_partitions=2, replication_factor=1)],
                           validate_only=True).values()
    assert v.result(timeout=40) is None
    assert probe not in a.list_topics(timeout=10).topics

    # Delete.
    fs = a.delete_topics([t1, t2], operation_timeout=30)
    for f in fs.values():
        assert f.result(timeout=40) is None
    assert cluster.metadata([t1])[2][t1][0] == UNKNOWN_TOPIC_OR_PARTITION
    deadline = time.monotonic() + 30
    while True:
        topics = a.list_topics(timeout=10).topics
        if t1 not in topics and t2 not in topics:
            break
        assert time.monotonic() < deadline, "deleted topics still listed"
        time.sleep(0.2)
    (missing,) = a.delete_topics([t1], operation_timeout=30).values()
    with pytest.raises(KafkaException) as e:
        missing.result(timeout=40)
    assert e.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART

    # The name can be used again, and the new topic starts empty.
    create_topics(cluster, t1, partitions=2)
    produce_all(producer(cluster), t1, [{"value": b"again", "partition": 1}])
    msgs = consume(cluster, t1, [0, 1])
    assert [(m.partition(), m.offset(), m.value()) for m in msgs] == [(1, 0, b"again")]


# ---- routing and NOT_LEADER_OR_FOLLOWER -----------------------------------------------------

def raw_request(port, request, timeout=10.0):
    """One request over kafka-python's low-level BrokerConnection (it probes the broker with
    ApiVersions first, like KafkaProducer does)."""
    conn = BrokerConnection("127.0.0.1", port, socket.AF_INET, request_timeout_ms=10000)
    try:
        conn.connect_blocking(timeout)
        assert conn.connected(), "cannot connect to port %d" % port
        future = conn.send(request)
        sel = selectors.DefaultSelector()
        sel.register(conn._sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while not future.is_done:
            assert time.monotonic() < deadline, "no response from port %d" % port
            sel.select(0.2)
            for response, f in conn.recv():
                f.success(response)
        sel.close()
        if future.failed():
            raise future.exception
        return future.value
    finally:
        conn.close()


def record_batch(values):
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    for v in values:
        builder.append(timestamp=None, key=None, value=v, headers=[])
    builder.close()
    return builder.buffer()


def produce_v3(topic, partition, data, acks=-1):
    return ProduceRequest[3](transactional_id=None, required_acks=acks, timeout=10000,
                             topics=[(topic, [(partition, data)])])


def test_produce_to_the_wrong_broker(cluster):
    topic = unique_topic("ck-route")
    leaders = cluster.create_topic(topic, partitions=3)
    partition = 0
    leader = leaders[partition]
    other = next(n for n in cluster.brokers if n != leader)

    # A raw Produce v3 to a broker that does not lead the partition: NOT_LEADER_OR_FOLLOWER.
    resp = raw_request(cluster.broker(other).kafka_port,
                       produce_v3(topic, partition, record_batch([b"misrouted"])))
    ((t, parts),) = resp.topics
    ((p, err, _offset, _ts),) = parts
    assert (t, p, err) == (topic, partition, NOT_LEADER_OR_FOLLOWER)
    assert cluster.list_offset(topic, partition) == 0  # nothing appended

    # Unknown partition / topic.
    resp = raw_request(cluster.broker(leader).kafka_port,
                       produce_v3(topic, 99, record_batch([b"x"])))
    assert resp.topics[0][1][0][1] == UNKNOWN_TOPIC_OR_PARTITION
    resp = raw_request(cluster.broker(leader).kafka_port,
                       produce_v3(unique_topic("ck-nosuch"), 0, record_batch([b"x"])))
    assert resp.topics[0][1][0][1] == UNKNOWN_TOPIC_OR_PARTITION

    # The same raw request to the leader works.
    resp = raw_request(cluster.broker(leader).kafka_port,
                       produce_v3(topic, partition, record_batch([b"raw0", b"raw1"])))
    ((_t, ((_p, err, offset, _ts),)),) = resp.topics
    assert (err, offset) == (0, 0)

    # librdkafka bootstrapped from the non-leader routes by leader and succeeds.
    p = Producer({"bootstrap.servers": cluster.broker(other).address, "acks": "all"})
    reports = produce_all(p, topic, [{"value": b"routed%d" % i, "partition": partition}
                                     for i in range(10)])
    assert reports == [(partition, 2 + i) for i in range(10)]
    msgs = consume(cluster, topic, [partition])
    assert [m.value() for m in msgs] == [b"raw0", b"raw1"] + [b"routed%d" % i for i in range(10)]
