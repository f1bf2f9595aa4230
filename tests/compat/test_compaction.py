"""Log compaction with real clients on a 3-broker cluster (issue 12).

A compacted RF-3 topic with small segments gets 100,000 keyed records over 1,000 keys, then
tombstones for 100 keys, then more updates (so the tombstones leave the active segment) in two
waves with a pause longer than delete.retention.ms between them (so a second clean removes the
tombstones). Then kafka-python and confluent-kafka consumers from the beginning must see exactly
the latest value of every live key and nothing of a deleted key, every replica's log must be
compacted on its own (read with `gregor log dump`), and disk usage must shrink. A broker
killed with SIGKILL in the middle of a clean must come back with a log that opens, reads
right, and gets cleaned.

The cleaner runs with a 500 ms backoff and a 4 MB/s I/O bound (so a clean of a few MB takes
long enough to be killed in the middle).
"""

import os
import random
import re
import subprocess
import time

from confluent_kafka import KafkaError, TopicPartition
from kafka import KafkaConsumer

from cluster import build_dir
from clients import consumer, produce_all, producer

GREGOR_BROKER_OVERRIDES = {
    "log.cleaner.backoff.ms": "500",
    "log.cleaner.dedupe.buffer.size": "16777216",
    "log.cleaner.io.max.bytes.per.second": "4000000",
}

SEGMENT_BYTES = 65536
TOPIC_CONFIGS = {
    "cleanup.policy": "compact",
    "segment.bytes": str(SEGMENT_BYTES),
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "1000",
}
KEYS = 1000


def wait_until(what, check, timeout=90.0, interval=0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


def produce_keyed(cluster, topic, items):
    """items: (key, value or None). librdkafka with small batches, so segments hold many."""
    p = producer(cluster, **{"acks": "all", "linger.ms": 5, "batch.num.messages": 200,
                             "queue.buffering.max.messages": 200000})
    produce_all(p, topic, [{"key": k.encode(), "value": None if v is None else v.encode()}
                           for k, v in items], timeout=120)


def segment_files(broker, topic):
    d = os.path.join(broker.log_dir, "%s-0" % topic)
    return d, sorted(os.listdir(d))


def log_bytes(broker, topic):
    d, names = segment_files(broker, topic)
    total = 0
    for n in names:
        if n.endswith(".log"):
            try:
                total += os.path.getsize(os.path.join(d, n))
            except FileNotFoundError:
                pass  # replaced by the cleaner since the listing
    return total


def record_bytes(items):
    """A lower bound of the log bytes of these records (7+ bytes of framing each)."""
    return sum(7 + len(k) + len(v or "") for k, v in items)


def cleaner_checkpoint(broker, topic):
    path = os.path.join(broker.log_dir, "cleaner-offset-checkpoint")
    try:
        lines = open(path).read().split("\n")
    except FileNotFoundError:
        return -1
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == 3 and parts[0] == topic and parts[1] == "0":
            return int(parts[2])
    return -1


def active_segment_base(broker, topic):
    _, names = segment_files(broker, topic)
    return max(int(n[:20]) for n in names if n.endswith(".log") and len(n) == 24)


def replica_view(broker, topic):
    """The records of one replica's log, read from its files with `gregor log dump`:
    [(offset, key, value or None)]. The broker is running: a dump that finds a segment renamed
    or removed by a clean since it listed the directory is read again."""
    gregor = os.path.join(build_dir(), "tools", "gregor")
    d, _ = segment_files(broker, topic)
    for _attempt in range(50):
        out = subprocess.run([gregor, "log", "dump", d, "--records"], capture_output=True,
                             text=True, timeout=120)
        if out.returncode == 0:
            break
        time.sleep(0.1)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    records = []
    for m in re.finditer(r"^\| offset: (\d+) .* key: (\S+) payload: (\S+)$", out.stdout, re.M):
        value = None if m.group(3) == "null" else m.group(3)
        records.append((int(m.group(1)), m.group(2), value))
    return records, out.stdout


def materialize(records):
    """key -> latest value, deleted keys removed."""
    view = {}
    for _offset, key, value in records:
        if value is None:
            view.pop(key, None)
        else:
            view[key] = value
    return view


def read_kafka_python(cluster, topic):
    c = KafkaConsumer(bootstrap_servers=cluster.bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=8000)
    from kafka import TopicPartition as KTP
    tp = KTP(topic, 0)
    c.assign([tp])
    end = c.end_offsets([tp])[tp]
    records = []
    deadline = time.monotonic() + 60
    while c.position(tp) < end and time.monotonic() < deadline:
        for msgs in c.poll(timeout_ms=1000).values():
            for m in msgs:
                records.append((m.offset, m.key.decode(), None if m.value is None else m.value.decode()))
    c.close()
    assert records and records[-1][0] == end - 1 or not records, "did not reach the end %d" % end
    return records, end


def read_confluent(cluster, topic):
    c = consumer(cluster)
    _low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.assign([TopicPartition(topic, 0, 0)])
    records = []
    deadline = time.monotonic() + 60
    position = 0
    while position < high and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None or m.error():
            if m is not None and m.error().code() != -191:  # _PARTITION_EOF
                raise AssertionError("consume error: %s" % m.error())
            position = c.position([TopicPartition(topic, 0)])[0].offset
            continue
        records.append((m.offset(), m.key().decode(),
                        None if m.value() is None else m.value().decode()))
        position = m.offset() + 1
    c.close()
    assert position >= high, "librdkafka stopped at %d of %d" % (position, high)
    return records, high


def random_writes(count, seed, padding=""):
    """`count` writes to random keys of KEYS, and the latest value of each key."""
    rng = random.Random(seed)
    items, model = [], {}
    for i in range(count):
        k = "key-%04d" % rng.randrange(KEYS)
        v = "v%06d%s" % (i, padding)
        items.append((k, v))
        model[k] = v
    return items, model


def test_compacted_topic_keeps_the_latest_value_of_every_key_on_every_replica(cluster):
    topic = "compacted"
    cluster.create_topic(topic, partitions=1, replication_factor=3, configs=TOPIC_CONFIGS)
    written, model = random_writes(100000, seed=12)
    deleted = ["key-%04d" % k for k in range(0, KEYS, 10)]
    written += [(k, None) for k in deleted]
    for k in deleted:
        model.pop(k)
    live = sorted(model)
    wave1 = [(k, "w1-%s" % k) for k in live] * 4
    produce_keyed(cluster, topic, written + wave1)
    for k, v in wave1:
        model[k] = v
    # (The cleaners are at work already: the files are no measure of what was written.)
    written_bytes = record_bytes(written + wave1)

    # Every replica cleans past the tombstones (stamping their delete horizon)...
    leo = len(written) + len(wave1)
    wait_until("every replica to clean its log up to its active segment",
               lambda: all(cleaner_checkpoint(b, topic) >= active_segment_base(b, topic) > 100100
                           for b in cluster.brokers.values()))
    # ... and after delete.retention.ms, more updates make it dirty again: the next clean
    # removes the tombstones (every replica has them: the floor is past them).
    time.sleep(1.5)
    wave2 = [(k, "w2-%s" % k) for k in live] * 4
    produce_keyed(cluster, topic, wave2)
    for k, v in wave2:
        model[k] = v
    leo += len(wave2)

    def tombstones_gone():
        for b in cluster.brokers.values():
            records, _ = replica_view(b, topic)
            if any(v is None for _o, _k, v in records):
                return False
        return True

    wait_until("the tombstones to be removed on every replica", tombstones_gone)

    # Consumers from the beginning: exactly the latest value of each live key, nothing of a
    # deleted key, offsets increasing, reaching the end.
    for name, read in (("kafka-python", read_kafka_python), ("librdkafka", read_confluent)):
        records, end = read(cluster, topic)
        assert end == leo, (name, end, leo)
        offsets = [o for o, _k, _v in records]
        assert offsets == sorted(set(offsets)), name + ": offsets not increasing"
        assert materialize(records) == model, name
        keys_seen = {k for _o, k, _v in records}
        assert not keys_seen & set(deleted), name + ": a deleted key came back"
        # Compacted below the active segment: far fewer records than were written.
        assert len(records) < len(written) / 10, (name, len(records))

    # Every replica compacted its own log: the same latest values, much smaller files.
    for b in cluster.brokers.values():
        records, dump = replica_view(b, topic)
        assert materialize(records) == model, "broker %d's log" % b.node_id
        assert "offset(s) in gaps" in dump
        size = log_bytes(b, topic)
        assert size < written_bytes / 5, (b.node_id, size, written_bytes)


def test_a_broker_killed_in_the_middle_of_a_clean_comes_back_clean(cluster):
    topic = "crashy"
    cluster.create_topic(topic, partitions=1, replication_factor=3, configs=TOPIC_CONFIGS)
    items, model = random_writes(150000, seed=5, padding="-" + "x" * 40)
    items += [(k, "last-%s" % k) for k in sorted(model)] * 2  # the tail rolls the big segments
    for k in sorted(model):
        model[k] = "last-%s" % k
    produce_keyed(cluster, topic, items)

    # Kill broker 2 once a few groups of segments are swapped in and others are not yet: at
    # 4 MB/s the clean takes seconds.
    victim = cluster.brokers[2]
    swapped = re.compile(r"swapping in cleaned segment \d+ for segment\(s\) [\d,]+ in log %s-0" % topic)

    def swaps():
        return len(swapped.findall(open(victim.log_path, errors="replace").read())) >= 3

    wait_until("broker 2 to swap in cleaned segments of " + topic, swaps, timeout=90,
               interval=0.02)
    _, names_before = segment_files(victim, topic)
    cluster.kill_broker(2)
    assert cleaner_checkpoint(victim, topic) < active_segment_base(victim, topic), \
        "the clean finished before the kill; files: %s" % names_before
    cluster.start_broker(2)

    # It opens (no leftovers of the swap), and its log is cleaned again from its checkpoint.
    _, names = segment_files(victim, topic)
    assert not [n for n in names if n.endswith((".cleaned", ".swap", ".deleted"))], names
    wait_until("broker 2 to clean " + topic + " after the restart",
               lambda: cleaner_checkpoint(victim, topic) >= active_segment_base(victim, topic),
               timeout=120)
    records, _ = replica_view(victim, topic)
    assert materialize(records) == model
    for name, read in (("kafka-python", read_kafka_python), ("librdkafka", read_confluent)):
        records, end = read(cluster, topic)
        assert end == len(items), (name, end)
        assert materialize(records) == model, name

    # A record without a key is refused with INVALID_RECORD, the topic's other writes unharmed.
    p = producer(cluster, **{"acks": "all", "retries": 0})
    errors = []
    p.produce(topic, value=b"no key", on_delivery=lambda err, msg: errors.append(err))
    p.flush(30)
    assert errors and errors[0] is not None and errors[0].code() == KafkaError.INVALID_RECORD, errors


def read_kcat(cluster, topic):
    out = subprocess.run(["kcat", "-C", "-b", cluster.bootstrap, "-t", topic, "-o", "beginning",
                          "-e", "-q", "-Z", "-f", "%o\t%k\t%s\n"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    records = []
    for line in out.stdout.splitlines():
        offset, key, value = line.split("\t")
        records.append((int(offset), key, None if value == "NULL" else value))
    return records


def test_a_replica_away_longer_than_delete_retention_does_not_bring_deleted_keys_back(cluster):
    """The hazard Kafka leaves open (log-compaction.md §4.3): a replica holding K=v1 is away
    while K is deleted and the tombstone cleaned away after delete.retention.ms; it comes back,
    fetches past the gap and keeps v1. Here the tombstone stays until every assigned replica has
    it."""
    topic = "away"
    cluster.create_topic(topic, partitions=1, replication_factor=3, configs=TOPIC_CONFIGS)
    keys = ["key-%04d" % k for k in range(KEYS)]
    produce_keyed(cluster, topic, [(k, "v1-" + k) for k in keys] * 3)  # acks=all: all 3 have it
    away = cluster.brokers[3]
    cluster.stop_broker(3)
    live = [b for b in cluster.brokers.values() if b.node_id != 3]

    deleted = keys[::10]
    model = {k: "v1-" + k for k in keys}
    for k in deleted:
        model.pop(k)
    survivors = sorted(model)
    produce_keyed(cluster, topic, [(k, None) for k in deleted] +
                  [(k, "w1-" + k) for k in survivors] * 4)
    tombstones_end = 3 * KEYS + len(deleted)
    wait_until("the live replicas to clean past the tombstones",
               lambda: all(cleaner_checkpoint(b, topic) >= active_segment_base(b, topic) >
                           tombstones_end for b in live))
    time.sleep(1.5)  # past delete.retention.ms: Kafka would drop them at the next clean
    cleaned_before = {b.node_id: cleaner_checkpoint(b, topic) for b in live}
    produce_keyed(cluster, topic, [(k, "w2-" + k) for k in survivors] * 4)
    for k in survivors:
        model[k] = "w2-" + k
    wait_until("the live replicas to clean again",
               lambda: all(cleaner_checkpoint(b, topic) > cleaned_before[b.node_id] and
                           cleaner_checkpoint(b, topic) >= active_segment_base(b, topic)
                           for b in live))
    for b in live:
        records, _ = replica_view(b, topic)
        kept = {k for _o, k, v in records if v is None}
        assert kept == set(deleted), \
            "broker %d removed tombstones broker 3 lacks: %d kept" % (b.node_id, len(kept))
        assert not {k for _o, k, v in records if v is not None} & set(deleted)

    # Broker 3 comes back and fetches across the gaps of the compacted leader.
    cluster.start_broker(3)
    leader_end = max(r[0] for r in replica_view(live[0], topic)[0]) + 1

    def caught_up():
        records, _ = replica_view(away, topic)
        return records and records[-1][0] + 1 >= leader_end and materialize(records) == model

    wait_until("broker 3 to catch up with no deleted key", caught_up)
    for name, records in (("kcat", read_kcat(cluster, topic)),
                          ("librdkafka", read_confluent(cluster, topic)[0])):
        assert materialize(records) == model, name

    # Now that every replica has the tombstones, the next clean removes them everywhere.
    produce_keyed(cluster, topic, [(k, "w3-" + k) for k in survivors] * 4)
    for k in survivors:
        model[k] = "w3-" + k

    def tombstones_gone():
        for b in cluster.brokers.values():
            records, _ = replica_view(b, topic)
            if any(v is None for _o, _k, v in records) or materialize(records) != model:
                return False
        return True

    wait_until("the tombstones to go once every replica has them", tombstones_gone)
