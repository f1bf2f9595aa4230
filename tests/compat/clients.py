"""confluent-kafka (librdkafka) helpers shared by the test files."""

import time

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient


def producer(cluster, **conf):
    c = {"bootstrap.servers": cluster.bootstrap, "socket.timeout.ms": 10000}
    c.update(conf)
    return Producer(c)


def produce_all(p, topic, messages, timeout=30):
    """messages: dicts of Producer.produce() kwargs. Waits for every delivery report and
    returns them in send order as (partition, offset); fails on any delivery error."""
    reports = [None] * len(messages)

    def on_delivery(i):
        def cb(err, msg):
            reports[i] = (err, msg.partition() if msg else None, msg.offset() if msg else None)
        return cb

    for i, m in enumerate(messages):
        while True:
            try:
                p.produce(topic, on_delivery=on_delivery(i), **m)
                break
            except BufferError:
                p.poll(0.1)
    remaining = p.flush(timeout)
    assert remaining == 0, "%d message(s) not delivered within %ss" % (remaining, timeout)
    errors = [(i, r[0]) for i, r in enumerate(reports) if r[0] is not None]
    assert not errors, "delivery errors: %s" % errors[:5]
    return [(r[1], r[2]) for r in reports]


def consumer(cluster, **conf):
    # confluent-kafka's Consumer refuses to start without a group.id, but with assign() (no
    # subscribe) and no commits librdkafka never joins the group (test_groups.py covers groups).
    c = {"bootstrap.servers": cluster.bootstrap, "group.id": "gregor-compat-unused",
         "enable.auto.commit": False, "enable.auto.offset.store": False,
         "enable.partition.eof": True, "socket.timeout.ms": 10000}
    c.update(conf)
    return Consumer(c)


def consume(cluster, topic, partitions, start=OFFSET_BEGINNING, expected=None, timeout=30,
            **conf):
    """Assigns `partitions` (list of ints, or {partition: start offset}) and reads until every
    partition has reported EOF (and at least `expected` messages arrived). Returns the
    messages."""
    starts = partitions if isinstance(partitions, dict) else {p: start for p in partitions}
    c = consumer(cluster, **conf)
    try:
        c.assign([TopicPartition(topic, p, o) for p, o in starts.items()])
        msgs, eof = [], set()
        deadline = time.monotonic() + timeout
        while True:
            if len(eof) == len(starts) and (expected is None or len(msgs) >= expected):
                return msgs
            assert time.monotonic() < deadline, (
                "consumed %d message(s) of %s, EOF on %s of %s within %ss" %
                (len(msgs), expected, sorted(eof), sorted(starts), timeout))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                raise KafkaException(m.error())
            eof.discard(m.partition())
            msgs.append(m)
    finally:
        c.close()


def admin(cluster):
    return AdminClient({"bootstrap.servers": cluster.bootstrap})
