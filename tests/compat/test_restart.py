"""Broker restarts with real clients: acknowledged (acks=all) messages survive a SIGTERM
(controlled shutdown) and a SIGKILL of the broker that leads them, and librdkafka's producer rides
through the outage. Replication factor 1: a stopped broker's partitions are unavailable until it
is back, so the reads wait for it."""

import os
import time

from confluent_kafka import KafkaError

from cluster import LATEST, unique_topic
from clients import consume, produce_all, producer

PARTITIONS = 3
LEADER_NOT_AVAILABLE = 5


def acked_produce(cluster, topic, start, count, **conf):
    """acks=all produce of `count` messages round-robin over the partitions; returns
    {partition: [values]} of the acknowledged ones (all of them: produce_all fails on errors)."""
    values = [b"msg-%06d" % i for i in range(start, start + count)]
    p = producer(cluster, acks="all", **conf)
    reports = produce_all(p, topic, [{"value": v, "key": b"%d" % (i % PARTITIONS),
                                      "partition": i % PARTITIONS}
                                     for i, v in enumerate(values, start)], timeout=60)
    acked = {}
    for (partition, _offset), v in zip(reports, values):
        acked.setdefault(partition, []).append(v)
    return acked


def merge(into, more):
    for p, vs in more.items():
        into.setdefault(p, []).extend(vs)


def check_everything_readable(cluster, topic, acked):
    """Every acknowledged message is there, once, in order, with dense offsets; nothing else."""
    total = sum(len(v) for v in acked.values())
    msgs = consume(cluster, topic, list(range(PARTITIONS)), expected=total, timeout=60)
    for p in range(PARTITIONS):
        got = [(m.offset(), m.value()) for m in msgs if m.partition() == p]
        assert got == list(enumerate(acked.get(p, []))), (
            "partition %d: %d message(s) read, %d acknowledged; first difference at %s" %
            (p, len(got), len(acked.get(p, [])),
             next((i for i, (a, b) in enumerate(zip(got, enumerate(acked.get(p, []))))
                   if a != b), min(len(got), len(acked.get(p, []))))))
        # The high watermark covers exactly the acknowledged messages.
        assert cluster.list_offset(topic, p, LATEST) == len(acked.get(p, []))
    # The raw batches (CRCs checked by kafka-python) say the same.
    for p in range(PARTITIONS):
        stored = [v for b in cluster.fetch_batches(topic, p) for (_o, _k, v, _h) in b["records"]]
        assert stored == acked.get(p, [])


def test_sigterm_then_sigkill_restarts_keep_acknowledged_messages(cluster):
    topic = unique_topic("restart")
    leaders = cluster.create_topic(topic, partitions=PARTITIONS)
    assert sorted(leaders.values()) == [1, 2, 3], leaders
    acked = acked_produce(cluster, topic, 0, 3000)
    check_everything_readable(cluster, topic, acked)

    # ---- SIGTERM: controlled shutdown, clean stop --------------------------------------------
    victim_partition = 1
    victim = leaders[victim_partition]
    b = cluster.broker(victim)
    assert cluster.stop_broker(victim) == 0, b.tail()
    assert os.path.exists(os.path.join(b.log_dir, ".kafka_cleanshutdown")), \
        "no clean-shutdown marker after SIGTERM"
    cluster.wait_for_brokers([n for n in cluster.brokers if n != victim])
    _, _, topics = cluster.metadata([topic])
    parts = topics[topic][1]
    assert parts[victim_partition][0] == LEADER_NOT_AVAILABLE and parts[victim_partition][1] == -1
    # The other partitions stay writable meanwhile.
    others = [p for p in range(PARTITIONS) if p != victim_partition]
    p = producer(cluster, acks="all")
    reports = produce_all(p, topic, [{"value": b"during-%d" % i, "partition": others[i % 2]}
                                     for i in range(100)])
    for (part, _o), i in zip(reports, range(100)):
        acked[part].append(b"during-%d" % i)
    # librdkafka buffers messages for the unavailable partition and retries until the leader is
    # back (message.timeout.ms covers the outage).
    pending = []
    p2 = producer(cluster, acks="all", **{"message.timeout.ms": 60000})
    for i in range(50):
        p2.produce(topic, value=b"buffered-%d" % i, partition=victim_partition,
                   on_delivery=lambda err, msg: pending.append(err))
    p2.poll(0.5)
    assert not pending, "delivered or failed while the leader was down: %s" % pending[:3]

    cluster.start_broker(victim)
    cluster.wait_for_topic(topic, PARTITIONS)
    assert p2.flush(60) == 0
    assert pending == [None] * 50, [e for e in pending if e is not None][:3]
    acked[victim_partition].extend(b"buffered-%d" % i for i in range(50))
    check_everything_readable(cluster, topic, acked)

    # ---- SIGKILL: crash, log recovery ---------------------------------------------------------
    merge(acked, acked_produce(cluster, topic, 3000, 1500))
    victim_partition = 2
    victim = leaders[victim_partition]
    b = cluster.broker(victim)
    assert cluster.kill_broker(victim) == -9
    cluster.start_broker(victim)
    cluster.wait_for_topic(topic, PARTITIONS)
    check_everything_readable(cluster, topic, acked)
    # And it takes writes again.
    merge(acked, acked_produce(cluster, topic, 4500, 300))
    check_everything_readable(cluster, topic, acked)


def test_kill_while_producing(cluster):
    """SIGKILL a leader in the middle of a stream of acks=all produces: every acknowledged
    message is readable after the restart, and the producer's failures are only for the
    partition of the killed broker."""
    topic = unique_topic("restart-live")
    leaders = cluster.create_topic(topic, partitions=PARTITIONS)
    victim_partition = 0
    victim = leaders[victim_partition]
    acked = {}
    failed = []

    def on_delivery(err, msg):
        if err is None:
            acked.setdefault(msg.partition(), []).append(msg.value())
        else:
            failed.append((msg.partition(), err))

    # A short message.timeout.ms so messages for the dead leader fail instead of waiting.
    p = producer(cluster, acks="all", **{"message.timeout.ms": 5000, "linger.ms": 5})
    sent = 0
    killed_at = None
    deadline = time.monotonic() + 60
    while sent < 4000:
        assert time.monotonic() < deadline, "producing stalled"
        try:
            p.produce(topic, value=b"live-%06d" % sent, partition=sent % PARTITIONS,
                      on_delivery=on_delivery)
            sent += 1
        except BufferError:
            p.poll(0.05)
            continue
        if sent % 100 == 0:
            p.poll(0)
        if sent == 2000:
            p.flush(30)
            killed_at = sum(len(v) for v in acked.values())
            assert cluster.kill_broker(victim) == -9
    assert p.flush(60) == 0
    assert killed_at is not None and killed_at > 0
    assert all(part == victim_partition for part, _e in failed), failed[:5]
    assert all(e.code() in (KafkaError._MSG_TIMED_OUT, KafkaError._TIMED_OUT,
                            KafkaError._TRANSPORT, KafkaError.NOT_LEADER_FOR_PARTITION,
                            KafkaError.LEADER_NOT_AVAILABLE, KafkaError.REQUEST_TIMED_OUT)
               for _p, e in failed), failed[:5]
    for part in range(PARTITIONS):
        if part != victim_partition:
            assert len(acked.get(part, [])) == sum(
                1 for i in range(sent) if i % PARTITIONS == part)

    cluster.start_broker(victim)
    cluster.wait_for_topic(topic, PARTITIONS)
    # Acknowledged messages are all there, in send order. (Unacknowledged ones may be there
    # too, at the end of the victim's partition: RF 1 has nothing to truncate against.)
    total = sum(len(v) for v in acked.values())
    msgs = consume(cluster, topic, list(range(PARTITIONS)), expected=total, timeout=60)
    for part in range(PARTITIONS):
        got = [m.value() for m in msgs if m.partition() == part]
        assert got[:len(acked.get(part, []))] == acked.get(part, []), "partition %d" % part
        if part != victim_partition:
            assert len(got) == len(acked.get(part, []))
