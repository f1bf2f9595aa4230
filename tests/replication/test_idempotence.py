"""Idempotent producers across failovers (issue 14): no duplicates and no reordering on retries.

Each test starts its own cluster (1 controller + 3 brokers, harness.ReplicationCluster), creates a
topic with 2 partitions, replication factor 3 and min.insync.replicas=2, and runs an idempotent
producer writing sequence-numbered values (seq % 2 its partition) while the leader of partition 0
is killed with SIGKILL three times (each time: wait for the new leader, 50 more acknowledgements,
restart the victim, wait for the full ISR). The producers:

  librdkafka  confluent-kafka, enable.idempotence=true, max.in.flight 5, linger 2 ms
  KafkaJS     2.2.4, idempotent: true, maxInFlightRequests 5, one sequential sender per partition
  sarama      Debian's 1.22, Producer.Idempotent (which requires Net.MaxOpenRequests = 1), one
              message per batch: sarama 1.22 regroups a batch's messages when its connection
              breaks, and a regrouped retry can only be refused (sarama_idempotent/main.go)

At the end: the producer stops with every message acknowledged and no error; a plain Consumer
reads each partition from offset 0 to its high watermark and finds exactly the values sent to
it, each once, in the order sent, at dense offsets (an acknowledged message at its acknowledged
offset); every broker is stopped cleanly and the three replicas' logs are byte-identical up to
that high watermark. How many retries the brokers answered as duplicates (with the original
offsets) is printed.

Run: cd build && ctest -R replication_idempotence --output-on-failure
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BackgroundProducer, compare_replica_logs, consume_all,  # noqa: E402
                     high_watermarks, log, replica_records)
from cluster import unique_topic  # noqa: E402  (tests/compat/cluster.py, through harness)
from go_build import build_sarama_program  # noqa: E402  (tests/compat/go_build.py)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "nemesis"))
import checker  # noqa: E402  (tests/nemesis/checker.py)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KAFKAJS_MODULES = os.path.join(REPO, ".deps", "js", "node_modules")
PARTITIONS = 2
P0 = 0
RATE = 1000
ROUNDS = 5


class ExternalProducer(BackgroundProducer):
    """A producer in another process (the KafkaJS and sarama drivers): JSON lines on its stdout
    are its acknowledgements and errors; closing its stdin stops it."""

    def __init__(self, argv, log_path, env=None):
        super().__init__("", "", PARTITIONS)
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.proc = None
        self.sent_per_partition = None

    def start(self):
        self._stderr = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=self.env)
        self._thread = threading.Thread(target=self._read, name="producer-output", daemon=True)
        self._thread.start()
        return self

    def _read(self):
        try:
            for line in self.proc.stdout:
                msg = json.loads(line)
                t = time.monotonic()
                with self._lock:
                    if msg.get("done"):
                        if "sent_per_partition" in msg:
                            self.sent_per_partition = msg["sent_per_partition"]
                        else:  # round-robin from 0
                            n = msg["sent"]
                            self.sent_per_partition = [len(range(p, n, PARTITIONS))
                                                       for p in range(PARTITIONS)]
                    elif "error" in msg:
                        self.errors.append((msg["seq"], msg["partition"], msg["error"], t))
                    else:
                        self.acked.append((msg["seq"], msg["partition"], msg["offset"], t))
        except BaseException as e:
            self._exc = e

    def stop(self):
        self.proc.stdin.close()
        rc = self.proc.wait(120)
        self._thread.join(10)
        self._stderr.close()
        with open(self.log_path, errors="replace") as f:
            stderr = f.read()[-3000:]
        assert rc == 0, "producer exited with %s: %s" % (rc, stderr)
        if self._exc is not None:
            raise self._exc
        assert self.sent_per_partition is not None, "producer ended without a summary: %s" % stderr

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def error_summary(self):
        with self._lock:
            return [e for _s, _p, e, _t in self.errors[:5]]


def sent_seqs(producer, partition):
    """The sequence numbers sent to `partition`, in the order sent."""
    if getattr(producer, "sent_per_partition", None) is not None:
        return list(range(partition, partition + PARTITIONS * producer.sent_per_partition[partition],
                          PARTITIONS))
    return list(range(partition, producer.sent, PARTITIONS))  # BackgroundProducer: round-robin


def kill_leader_rounds(c, topic, producer, rounds):
    for i in range(rounds):
        victim = c.leader_of(topic, P0)
        t_kill = time.monotonic()
        assert c.kill_broker(victim) == -signal.SIGKILL
        c.wait_partitions(topic, "a new leader for %s-0 instead of broker %d" % (topic, victim),
                          lambda live, parts: victim not in live and
                          parts[P0][0] not in (-1, victim), timeout=30)
        t_elected = time.monotonic()
        producer.wait_acked(50, 60, c, partition=P0)
        c.start_broker(victim)
        c.wait_full_isr(topic, PARTITIONS)
        log("round %d: killed leader %d; new leader after %.2fs; back in the ISR after %.2fs" %
            (i + 1, victim, t_elected - t_kill, time.monotonic() - t_kill))


def run_and_verify(c, name, topic, producer):
    try:
        producer.wait_acked(300, 60, c)
        kill_leader_rounds(c, topic, producer, ROUNDS)
        producer.wait_acked(100, 60, c)
        producer.stop()
    finally:
        if isinstance(producer, ExternalProducer):
            producer.kill()
    assert not producer.errors, "%d message(s) failed: %s" % (len(producer.errors),
                                                              producer.error_summary())
    sent = {p: sent_seqs(producer, p) for p in range(PARTITIONS)}
    assert len(producer.acked) == sum(len(s) for s in sent.values()), (
        "%d acknowledged of %d sent" % (len(producer.acked), sum(len(s) for s in sent.values())))

    c.wait_full_isr(topic, PARTITIONS)
    hw = high_watermarks(c.bootstrap, topic, PARTITIONS)
    consumed = consume_all(c.bootstrap, topic, PARTITIONS, hw)
    for p in range(PARTITIONS):
        want = [b"%09d" % s for s in sent[p]]
        got = [v for _o, v in consumed[p]]
        assert [o for o, _v in consumed[p]] == list(range(len(got))), "partition %d: offsets not dense" % p
        if got != want:
            i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            raise AssertionError(
                "partition %d: %d message(s) in the log, %d sent; first difference at offset %d: "
                "log %r, sent %r" % (p, len(got), len(want), i, got[i:i + 5], want[i:i + 5]))
    at = {(p, o): v for p in consumed for o, v in consumed[p]}
    for s, p, o, _t in producer.acked:
        assert at.get((p, o)) == b"%09d" % s, "seq %d acknowledged at %d-%d, which holds %r" % (
            s, p, o, at.get((p, o)))
    duplicates = sum(len(c.grep_log(n, "answered with offsets", 100000)) for n in c.brokers)
    log("%s: %s messages, each exactly once and in order (high watermarks %s); the brokers "
        "answered %d retried batch(es) with their original offsets" %
        (name, {p: len(s) for p, s in sent.items()}, hw, duplicates))

    c.wait_for("every broker to checkpoint the high watermarks %s" % hw,
               lambda: all(c.checkpointed_hw(n, topic, p) == hw[p]
                           for n in c.brokers for p in range(PARTITIONS)), 20)
    codes = c.stop_all_brokers_cleanly()
    assert all(rc == 0 for rc in codes.values()), codes
    for p, (common, hws, nbytes) in compare_replica_logs(c, topic, PARTITIONS).items():
        assert common == hw[p], (p, hws, hw[p])

    # The same run through the queue checker (tests/nemesis/checker.py), with what an
    # idempotent acks=all producer promises.
    history = [{"op": "send", "process": "producer", "value": "%09d" % s, "partition": p,
                "outcome": "ok", "offset": o} for s, p, o, _t in sorted(producer.acked)]
    for p in range(PARTITIONS):
        history.append({"op": "assign", "process": "consumer", "partition": p, "offset": 0})
        history += [{"op": "poll", "process": "consumer", "partition": p, "offset": o,
                     "value": v.decode()} for o, v in consumed[p]]
    final = {"replicas": replica_records(c, topic, PARTITIONS),
             "high_watermarks": {str(p): hw[p] for p in range(PARTITIONS)}}
    promises = checker.Promises(no_loss=True, idempotent=True, consumers_read_all=True)
    report = checker.check(history, final, promises)
    print(checker.summary(report, promises), flush=True)
    assert not report.broken(promises)


def test_librdkafka_enable_idempotence(new_cluster):
    c = new_cluster()
    topic = unique_topic("idem-rdkafka")
    c.create_replicated_topic(topic, PARTITIONS)
    producer = BackgroundProducer(c.bootstrap, topic, PARTITIONS, rate=RATE,
                                  conf={"enable.idempotence": True}).start()
    run_and_verify(c, "librdkafka", topic, producer)


def test_kafkajs_idempotent(new_cluster, tmp_path):
    assert os.path.isfile(os.path.join(KAFKAJS_MODULES, "kafkajs", "package.json")), (
        "kafkajs is not installed: run deploy/install-deps.sh")
    c = new_cluster()
    topic = unique_topic("idem-kafkajs")
    c.create_replicated_topic(topic, PARTITIONS)
    producer = ExternalProducer(
        ["node", os.path.join(HERE, "idempotent_producer.js"), "--bootstrap", c.bootstrap,
         "--topic", topic, "--partitions", str(PARTITIONS), "--rate", str(RATE)],
        str(tmp_path / "kafkajs.log"), env=dict(os.environ, NODE_PATH=KAFKAJS_MODULES)).start()
    run_and_verify(c, "KafkaJS", topic, producer)


def test_sarama_idempotent(new_cluster, tmp_path):
    binary = build_sarama_program(os.path.join(HERE, "sarama_idempotent", "main.go"), tmp_path,
                                  "saramaidempotent")
    c = new_cluster()
    topic = unique_topic("idem-sarama")
    c.create_replicated_topic(topic, PARTITIONS)
    producer = ExternalProducer(
        [binary, "-brokers", c.bootstrap, "-topic", topic, "-partitions", str(PARTITIONS),
         "-rate", str(RATE)], str(tmp_path / "sarama.log")).start()
    run_and_verify(c, "sarama", topic, producer)


# ---- the broker's answers, request by request --------------------------------------------------

OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53


def idempotent_batch(pid, epoch, seq, count):
    from kafka.record.default_records import DefaultRecordBatchBuilder
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    for i in range(count):
        b.append(i, timestamp=None, key=b"k", value=b"%09d" % (seq + i), headers=[])
    return bytes(b.build())


def produce(c, topic, data):
    from wire import RawConnection  # tests/compat/wire.py
    leader = c.leader_of(topic, P0)
    with RawConnection(c.brokers[leader].kafka_port) as conn:
        resp = conn.call("Produce", 7, {"transactional_id": None, "acks": -1, "timeout_ms": 10000,
                                        "topic_data": [{"name": topic, "partition_data": [
                                            {"index": P0, "records": data.hex()}]}]})
    (p,) = resp["responses"][0]["partition_responses"]
    return p["error_code"], p["base_offset"]


def init_producer_id(port, version=4, **fields):
    from wire import RawConnection
    request = {"transactional_id": None, "transaction_timeout_ms": 60000, "producer_id": -1,
               "producer_epoch": -1}
    request.update(fields)
    with RawConnection(port) as conn:
        resp = conn.call("InitProducerId", version, request)
    return resp["error_code"], resp["producer_id"], resp["producer_epoch"]


def describe_producers(c, topic):
    from wire import RawConnection
    leader = c.leader_of(topic, P0)
    with RawConnection(c.brokers[leader].kafka_port) as conn:
        resp = conn.call("DescribeProducers", 0, {"topics": [{"name": topic,
                                                              "partition_indexes": [P0]}]})
    (p,) = resp["topics"][0]["partitions"]
    assert p["error_code"] == 0, p
    return {s["producer_id"]: (s["producer_epoch"], s["last_sequence"])
            for s in p["active_producers"]}


def test_retries_get_their_original_offsets_from_a_new_leader_and_after_a_restart(new_cluster):
    c = new_cluster()
    topic = unique_topic("idem-raw")
    c.create_replicated_topic(topic, 1)
    ports = [b.kafka_port for b in c.brokers.values()]

    # InitProducerId: ids from each broker's block, never the same twice; a bump keeps the id.
    ids = [init_producer_id(port, version=v) for port, v in zip(ports, (0, 2, 4))]
    assert all(err == 0 and epoch == 0 for err, _pid, epoch in ids), ids
    assert len({pid for _e, pid, _ep in ids}) == 3, ids
    pid = ids[0][1]
    assert init_producer_id(ports[1], producer_id=pid, producer_epoch=0) == (0, pid, 1)
    assert init_producer_id(ports[0], transactional_id="txn")[0] == \
        TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    # A transactional producer (librdkafka) fails at once, fatally, saying why.
    from confluent_kafka import KafkaException, Producer
    t0 = time.monotonic()
    txn = Producer({"bootstrap.servers": c.bootstrap, "transactional.id": "gregor-test"})
    try:
        txn.init_transactions(30)
        raise AssertionError("init_transactions succeeded on a broker without transactions")
    except KafkaException as e:
        assert e.args[0].fatal() and "transactions are not supported by Gregor" in e.args[0].str(), e
    assert time.monotonic() - t0 < 10
    del txn  # destroyed now: no reconnect attempts to brokers the test kills below

    assert produce(c, topic, idempotent_batch(pid, 0, 0, 3)) == (0, 0)
    assert produce(c, topic, idempotent_batch(pid, 0, 0, 3)) == (0, 0)   # a retry: same offsets
    assert produce(c, topic, idempotent_batch(pid, 0, 3, 3)) == (0, 3)
    assert produce(c, topic, idempotent_batch(pid, 0, 10, 1))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(c, topic, idempotent_batch(pid, 1, 0, 3)) == (0, 6)   # after the bump
    assert produce(c, topic, idempotent_batch(pid, 0, 6, 1))[0] == INVALID_PRODUCER_EPOCH
    assert describe_producers(c, topic) == {pid: (1, 2)}

    # The leader dies; the new one (a follower that replayed the batches) knows the retry.
    victim = c.leader_of(topic, P0)
    assert c.kill_broker(victim) == -signal.SIGKILL
    c.wait_partitions(topic, "a new leader", lambda live, parts: parts[P0][0] not in (-1, victim))
    assert produce(c, topic, idempotent_batch(pid, 1, 0, 3)) == (0, 6)
    assert describe_producers(c, topic) == {pid: (1, 2)}
    c.start_broker(victim)
    c.wait_full_isr(topic, 1)

    # Every broker stops cleanly (a snapshot each) and starts again from it.
    codes = c.stop_all_brokers_cleanly()
    assert all(rc == 0 for rc in codes.values()), codes
    for n in c.brokers:
        c.start_broker(n)
    c.wait_full_isr(topic, 1)
    for n in c.brokers:
        assert any("%s-0" % topic in l and "producers=1 (from snapshot 9)" in l
                   for l in c.grep_log(n, "opened log", 1000)), c.grep_log(n, "opened log %s" % topic)
    assert produce(c, topic, idempotent_batch(pid, 1, 0, 3)) == (0, 6)
    assert produce(c, topic, idempotent_batch(pid, 1, 3, 3)) == (0, 9)
    assert high_watermarks(c.bootstrap, topic, 1) == {0: 12}
