"""Harness for the replication failover tests (tests/replication/test_failover.py).

Builds on the client-compatibility harness (tests/compat/cluster.py, imported unchanged) and adds
what failover tests need:

* ReplicationCluster: a GregorCluster with RF 3 / min.insync.replicas 2 defaults, fast failure
  detection, SIGSTOP/SIGCONT of a broker, partition-state polling with deadlines, topic creation
  through confluent_kafka's AdminClient, a clean stop of every broker and a byte comparison of
  the replicas' logs below the high watermark.
* BackgroundProducer: a confluent-kafka (librdkafka) acks=all producer in a thread, writing
  sequence-numbered values round-robin over the partitions at a steady rate and recording every
  delivery report (value, partition, offset, time) and every error.
* consume_all / verify_delivery: read everything back with a plain Consumer (assign from offset
  0, no group) and check every acknowledged message is there, at its acknowledged offset.
* ack_gaps: the longest gap between acknowledgements around an event.

Every process is started by the cluster object and stopped by its PID; every wait has a
deadline; each process's output goes to <cluster dir>/<name>.log, whose tails are printed when
something fails.
"""

import collections
import logging
import os
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "compat"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "nemesis"))

from cluster import ClusterError, GregorCluster, kafka_request  # noqa: E402  (tests/compat/cluster.py)
from kafka.protocol.produce import ProduceRequest  # noqa: E402
from kafka.record.memory_records import MemoryRecordsBuilder  # noqa: E402
import replica_files  # noqa: E402  (tests/nemesis/replica_files.py)

# Kafka error codes seen in these tests.
NOT_LEADER_OR_FOLLOWER = 6
REQUEST_TIMED_OUT = 7
NOT_ENOUGH_REPLICAS = 19
NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class ReplicationCluster(GregorCluster):
    """1 controller + 3 brokers with replication defaults for failover tests.

    session_timeout_ms: the controller's broker.session.timeout.ms (a broker that has not
    heartbeated for that long is fenced and loses its leaderships and ISR memberships).
    lag_ms: the brokers' replica.lag.time.max.ms (a follower not caught up for that long is
    dropped from the ISR by the leader)."""

    def __init__(self, session_timeout_ms=2000, lag_ms=3000, heartbeat_ms=250,
                 broker_overrides=None, controller_overrides=None, **kwargs):
        self.session_timeout_ms = session_timeout_ms
        self.lag_ms = lag_ms
        b = {
            "default.replication.factor": "3",
            "min.insync.replicas": "2",
            "replica.lag.time.max.ms": str(lag_ms),
            "broker.heartbeat.interval.ms": str(heartbeat_ms),
            # Lets a test wait for the followers' checkpointed high watermarks quickly.
            "replica.high.watermark.checkpoint.interval.ms": "500",
            # RF 3: leaderships can move, so a SIGTERM'd broker normally leaves at once; the
            # bound only matters when every broker stops together.
            "controlled.shutdown.timeout.ms": "3000",
        }
        b.update(broker_overrides or {})
        c = {
            "broker.session.timeout.ms": str(session_timeout_ms),
            "broker.heartbeat.interval.ms": str(heartbeat_ms),
            # No preferred-leader moves in the middle of a scenario: leadership changes only
            # because of what the test does.
            "auto.leader.rebalance.enable": "false",
        }
        c.update(controller_overrides or {})
        self._repl_dir = tempfile.mkdtemp(prefix="gregor-repl-")
        super().__init__(num_brokers=3, broker_overrides=b, controller_overrides=c,
                         base_dir=self._repl_dir, **kwargs)
        self.sigstopped = set()
        self.down = set()  # brokers the test killed or stopped (and has not started again)
        self.failed = False

    # ---- lifecycle ---------------------------------------------------------------------------

    def stop(self):
        for n in list(self.sigstopped):
            self.sigcont(n)
        try:
            super().stop()
        finally:
            if self.failed or self.keep_dir:
                log("replication cluster files kept in %s" % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    def sigstop(self, node_id):
        b = self.brokers[node_id]
        assert b.running(), "broker %d is not running" % node_id
        b.send_signal(signal.SIGSTOP)
        self.sigstopped.add(node_id)

    def sigcont(self, node_id):
        b = self.brokers[node_id]
        b.send_signal(signal.SIGCONT)
        self.sigstopped.discard(node_id)

    def kill_broker(self, node_id):
        self.down.add(node_id)
        return super().kill_broker(node_id)

    def stop_broker(self, node_id, timeout=60.0):
        self.down.add(node_id)
        return super().stop_broker(node_id, timeout=timeout)

    def start_broker(self, node_id, timeout=60.0):
        """Starts the broker again and waits until every running broker lists it as live;
        fails at once (with the logs) if it exits instead."""
        self.down.discard(node_id)
        super().start_broker(node_id, timeout=timeout)
        self.check_alive(self.expected())
        self.wait_for_brokers(self.expected(), timeout=timeout)

    def expected(self):
        """Node ids of the brokers that should be running (maybe SIGSTOPped)."""
        return [n for n in self.brokers if n not in self.down]

    def serving(self):
        """Node ids of brokers that run and are not SIGSTOPped."""
        return [n for n, b in self.brokers.items() if b.running() and n not in self.sigstopped]

    def check_alive(self, expected=None):
        """Fails (with the logs) if the controller or one of the `expected` brokers exited."""
        procs = [self.controller] + [self.brokers[n] for n in (expected or [])]
        for p in procs:
            if p.popen is not None and not p.running():
                raise ClusterError("%s exited unexpectedly with %s\n%s" %
                                   (p.name, p.returncode(), self.log_tails()))

    # ---- metadata ----------------------------------------------------------------------------

    def partition_view(self, topic, via):
        """(live broker ids, {partition: (leader, replicas, isr)}) as broker `via` sees them,
        or None if it does not answer."""
        try:
            brokers, _, topics = self.metadata([topic], port=self.brokers[via].kafka_port,
                                               timeout=2.0)
        except (OSError, ClusterError):
            return None
        err, parts = topics.get(topic, (-1, {}))
        if err:
            return None
        return set(brokers), {p: (leader, replicas, isr)
                              for p, (_e, leader, replicas, isr) in parts.items()}

    def wait_for(self, what, predicate, timeout, interval=0.05):
        """Polls predicate() until it returns something truthy (returned) or the deadline passes;
        fails at once if a process the test did not stop has exited. `what` may be a callable
        (called for the failure message)."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(self.expected())
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise ClusterError("timed out after %.1fs waiting for %s\n%s" %
                                   (timeout, what() if callable(what) else what,
                                    self.log_tails()))
            time.sleep(interval)

    def wait_partitions(self, topic, what, predicate, timeout=30.0, via=None):
        """Until every broker in `via` (default: all serving brokers) reports metadata for which
        predicate(live_brokers, {partition: (leader, replicas, isr)}) is true. Returns the last
        view {partition: (leader, replicas, isr)}."""
        last = {}

        def ok():
            views = {}
            for n in (via or self.serving()):
                v = self.partition_view(topic, n)
                if v is None or not predicate(*v):
                    last["view"] = (n, v)
                    return None
                views[n] = v
            return views

        views = self.wait_for(lambda: "%s (last view from broker %s: %s)" % (
            what, *last.get("view", (None, None))), ok, timeout)
        return next(iter(views.values()))[1]

    def leader_of(self, topic, partition=0):
        for n in self.serving():
            v = self.partition_view(topic, n)
            if v is not None and v[1].get(partition, (-1,))[0] > 0:
                return v[1][partition][0]
        raise ClusterError("no broker names a leader for %s-%d" % (topic, partition))

    def wait_full_isr(self, topic, partitions, timeout=60.0):
        """Every serving broker sees every partition with a leader and all 3 replicas in sync."""
        return self.wait_partitions(
            topic, "full ISR on %s" % topic,
            lambda live, parts: len(parts) == partitions and all(
                leader in live and sorted(isr) == sorted(replicas) and len(replicas) == 3
                for leader, replicas, isr in parts.values()),
            timeout)

    def grep_log(self, node_id, needle, limit=20):
        """Lines of the broker's log (all its runs) that contain `needle` (the last `limit`);
        node_id "controller" for the controller's."""
        path = (self.controller.log_path if node_id == "controller"
                else self.brokers[node_id].log_path)
        try:
            with open(path, errors="replace") as f:
                return [l.rstrip("\n") for l in f if needle in l][-limit:]
        except OSError:
            return []

    # ---- admin -------------------------------------------------------------------------------

    def create_replicated_topic(self, topic, partitions, min_isr=2, timeout=60.0):
        """CreateTopics with confluent_kafka's AdminClient (RF 3, min.insync.replicas), then
        waits until every partition has a leader and a full ISR everywhere."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=3,
                      config={"min.insync.replicas": str(min_isr)})],
            request_timeout=30.0)
        futures[topic].result(timeout=35.0)
        return self.wait_full_isr(topic, partitions, timeout)

    # ---- on-disk checks ----------------------------------------------------------------------

    def checkpointed_hw(self, node_id, topic, partition):
        """The high watermark in the broker's replication-offset-checkpoint, or None."""
        return replica_files.checkpointed_hw(self.brokers[node_id].log_dir, topic, partition)

    def segment_bytes(self, node_id, topic, partition):
        """The partition's segments (*.log, in base-offset order), concatenated."""
        return replica_files.segment_bytes(
            os.path.join(self.brokers[node_id].log_dir, "%s-%d" % (topic, partition)))

    def stop_all_brokers_cleanly(self, timeout=60.0):
        """SIGTERM every running broker (controlled shutdown) and waits for the exits; returns
        {node_id: exit code}."""
        for n in list(self.sigstopped):
            self.sigcont(n)
        running = [b for b in self.brokers.values() if b.running()]
        self.down.update(self.brokers)
        for b in running:
            b.send_signal(signal.SIGTERM)
        return {b.node_id: b.stop(signal.SIGTERM, timeout=timeout) for b in running}


def replica_records(cluster, topic, partitions):
    """Every record of every replica, read from its segment files (brokers stopped):
    {broker id (str): {partition (str): [[offset, value]]}}, values decoded as text — the
    "replicas" of tests/nemesis/checker.py's final state."""
    return {str(n): {str(p): replica_files.partition_records(
                os.path.join(cluster.brokers[n].log_dir, "%s-%d" % (topic, p)))
            for p in range(partitions)} for n in cluster.brokers}


def batch_positions(data):
    """[(byte position, base offset, last offset delta)] of the record batches in `data`."""
    out = []
    pos = 0
    while pos + 12 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        if length <= 0 or pos + 12 + length > len(data):
            out.append((pos, base, None))  # torn tail
            break
        last_delta = struct.unpack_from(">i", data, pos + 23)[0] if length >= 15 else 0
        out.append((pos, base, last_delta))
        pos += 12 + length
    return out


def prefix_below(data, hw):
    """The bytes of `data` before the first batch whose base offset is >= hw."""
    for pos, base, _ in batch_positions(data):
        if base >= hw:
            return data[:pos]
    return data


def compare_replica_logs(cluster, topic, partitions):
    """After a clean stop of every broker: for each partition, the three replicas' segment bytes
    are identical up to the common (smallest) checkpointed high watermark. Returns {partition:
    (common hw, {node: hw}, compared bytes)}; raises AssertionError on a difference."""
    result = {}
    for p in range(partitions):
        hws = {n: cluster.checkpointed_hw(n, topic, p) for n in cluster.brokers}
        assert all(h is not None for h in hws.values()), \
            "%s-%d: missing high watermark checkpoint: %s" % (topic, p, hws)
        hw = min(hws.values())
        prefixes = {n: prefix_below(cluster.segment_bytes(n, topic, p), hw) for n in cluster.brokers}
        ref_node = min(prefixes)
        ref = prefixes[ref_node]
        for n, data in prefixes.items():
            if data == ref:
                continue
            # Describe the first differing batch.
            i = next((k for k in range(min(len(ref), len(data))) if ref[k] != data[k]),
                     min(len(ref), len(data)))
            where = [b for b in batch_positions(ref) if b[0] <= i][-1:] or [(0, None, None)]
            raise AssertionError(
                "%s-%d: broker %d and broker %d differ below the common high watermark %d "
                "(hws %s): %d vs %d bytes, first difference at byte %d (batch base offset %s)" %
                (topic, p, ref_node, n, hw, hws, len(ref), len(data), i, where[0][1]))
        result[p] = (hw, hws, len(ref))
    return result


class BackgroundProducer:
    """acks=all producer thread: values b"%09d" % seq, partition seq % partitions, `rate`
    messages per second, at most `max_outstanding` unacknowledged. Records
    acked[(seq, partition, offset, t)] and errors[(seq, partition, error, t)] (t = monotonic
    time of the delivery report)."""

    def __init__(self, bootstrap, topic, partitions, rate=400, max_outstanding=4000, conf=None):
        self.topic = topic
        self.partitions = partitions
        self.rate = rate
        self.max_outstanding = max_outstanding
        c = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 2,
            "retries": 1000000,
            "retry.backoff.ms": 100,
            "max.in.flight.requests.per.connection": 5,
            "request.timeout.ms": 5000,           # also the broker's acks=all wait
            "message.timeout.ms": 120000,         # longer than any outage in these tests
            "socket.timeout.ms": 5000,
            "topic.metadata.refresh.interval.ms": 1000,
            "reconnect.backoff.max.ms": 500,
            # librdkafka's connection-refused chatter goes to Python logging (captured by pytest).
            "logger": logging.getLogger("rdkafka.producer"),
        }
        c.update(conf or {})
        if os.environ.get("GREGOR_RDKAFKA_DEBUG"):  # e.g. "msg,protocol,metadata" to debug a stall
            c["debug"] = os.environ["GREGOR_RDKAFKA_DEBUG"]
        self.conf = c
        self.acked = []
        self.errors = []
        self.sent = 0
        self.sent_at = []  # monotonic time of produce() per sequence number
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._exc = None
        self.unflushed = None

    def _on_delivery(self, err, msg):
        t = time.monotonic()
        seq = int(msg.value())
        with self._lock:
            if err is None:
                self.acked.append((seq, msg.partition(), msg.offset(), t))
            else:
                self.errors.append((seq, msg.partition(), err, t))

    def start(self):
        self._thread = threading.Thread(target=self._run, name="producer", daemon=True)
        self._thread.start()
        return self

    def _run(self):
        try:
            p = Producer(self.conf)
            interval = 1.0 / self.rate
            next_due = time.monotonic()
            while not self._stop.is_set():
                now = time.monotonic()
                if len(p) >= self.max_outstanding:
                    p.poll(0.01)
                    next_due = time.monotonic()
                    continue
                if now < next_due:
                    p.poll(next_due - now)
                    continue
                seq = self.sent
                try:
                    p.produce(self.topic, value=b"%09d" % seq, partition=seq % self.partitions,
                              on_delivery=self._on_delivery)
                except BufferError:
                    p.poll(0.01)
                    continue
                self.sent_at.append(time.monotonic())
                self.sent += 1
                # A steady pace; after a stall no burst to catch up.
                next_due = max(next_due + interval, time.monotonic() - 0.05)
                p.poll(0)
            self.unflushed = p.flush(90)
        except BaseException as e:  # reported by stop()
            self._exc = e

    def count_acked(self, partition=None):
        with self._lock:
            if partition is None:
                return len(self.acked)
            return sum(1 for a in self.acked if a[1] == partition)

    def wait_acked(self, n, timeout, cluster=None, partition=None):
        """Until at least n more messages than now are acknowledged (on `partition`, if
        given)."""
        target = self.count_acked(partition) + n
        deadline = time.monotonic() + timeout
        while self.count_acked(partition) < target:
            if self._exc is not None:
                raise self._exc
            if cluster is not None:
                cluster.check_alive(cluster.expected())
            if time.monotonic() >= deadline:
                raise AssertionError("only %d of %d acknowledgements within %.0fs (errors: %s)" %
                                     (self.count_acked(partition), target, timeout,
                                      self.error_summary()))
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join(120)
        assert not self._thread.is_alive(), "producer thread did not finish"
        if self._exc is not None:
            raise self._exc
        assert self.unflushed == 0, (
            "%s message(s) still undelivered after flush; acknowledged per partition: %s" %
            (self.unflushed, {p: self.count_acked(p) for p in range(self.partitions)}))

    def error_summary(self):
        with self._lock:
            counts = collections.Counter(e.name() for _s, _p, e, _t in self.errors)
        return dict(counts)

    def latencies(self):
        """Sorted produce()-to-acknowledgement times (seconds) of the acknowledged messages."""
        with self._lock:
            return sorted(t - self.sent_at[s] for s, _p, _o, t in self.acked)

    def ack_times(self, partition=None):
        with self._lock:
            return sorted(t for _s, p, _o, t in self.acked if partition is None or p == partition)


def ack_gaps(times, start, end):
    """The longest gap between consecutive acknowledgement times within [start, end] (the gap
    from the last ack before `start`, and to the first after `end`, included): (gap seconds,
    gap start)."""
    before = [t for t in times if t < start]
    inside = [t for t in times if start <= t <= end]
    after = [t for t in times if t > end]
    seq = before[-1:] + inside + after[:1]
    best = (0.0, None)
    for a, b in zip(seq, seq[1:]):
        if b - a > best[0]:
            best = (b - a, a)
    return best


def consume_all(bootstrap, topic, partitions, end_offsets, timeout=60.0):
    """Reads every partition from offset 0 with a plain Consumer (assign, no group) until each
    reaches end_offsets[p]. Returns {partition: [(offset, value)]}."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "gregor-repl-unused",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "enable.partition.eof": True, "auto.offset.reset": "error",
                  "socket.timeout.ms": 10000})
    out = {p: [] for p in range(partitions)}
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        deadline = time.monotonic() + timeout
        pos = {p: 0 for p in range(partitions)}
        while any(pos[p] < end_offsets[p] for p in range(partitions)):
            if time.monotonic() >= deadline:
                raise AssertionError("consumer stuck: positions %s, want %s" % (pos, end_offsets))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(m.error())
            out[m.partition()].append((m.offset(), m.value()))
            pos[m.partition()] = m.offset() + 1
    finally:
        c.close()
    return out


def raw_produce(port, topic, partition, values, acks=-1, timeout_ms=10000, wait=30.0):
    """One Produce v3 request (kafka-python structs) straight to the broker on `port`; returns
    (error code, base offset)."""
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    for v in values:
        builder.append(timestamp=None, key=None, value=v, headers=[])
    builder.close()
    req = ProduceRequest[3](transactional_id=None, required_acks=acks, timeout=timeout_ms,
                            topics=[(topic, [(partition, builder.buffer())])])
    resp = kafka_request(port, req, timeout=wait)
    ((_t, ((_p, err, offset, _ts),)),) = resp.topics
    return err, offset


def high_watermarks(bootstrap, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "gregor-repl-unused",
                  "enable.auto.commit": False})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10.0)[1]
                for p in range(partitions)}
    finally:
        c.close()


def verify_delivery(producer, consumed, extra_acked=(), extra_sent=()):
    """Every acknowledged message was consumed at exactly its acknowledged offset (so it was
    neither lost nor overwritten); no two acknowledgements name the same offset; consumed
    offsets only go up; everything consumed was produced. Duplicates (retries) are allowed.
    extra_acked: more (value, partition, offset) acknowledged outside the producer; extra_sent:
    more values sent (acknowledged or not) outside the producer.
    Returns a summary dict."""
    problems = []
    acked = [(b"%09d" % s, p, o) for s, p, o, _t in producer.acked] + list(extra_acked)
    by_offset = {}
    for v, p, o in acked:
        if (p, o) in by_offset and by_offset[(p, o)] != v:
            problems.append("partition %d offset %d acknowledged twice: %r and %r" %
                            (p, o, by_offset[(p, o)], v))
        by_offset[(p, o)] = v
    consumed_at = {}
    dups = 0
    produced = ({b"%09d" % s for s in range(producer.sent)} | {v for v, _p, _o in extra_acked} |
                set(extra_sent))
    for p, msgs in consumed.items():
        offs = [o for o, _v in msgs]
        back = [(a, b) for a, b in zip(offs, offs[1:]) if b <= a]
        if back:
            problems.append("partition %d: consumed offsets go backwards: %s" % (p, back[:5]))
        seen = collections.Counter(v for _o, v in msgs)
        dups += sum(n - 1 for n in seen.values() if n > 1)
        strangers = [v for v in seen if v not in produced]
        if strangers:
            problems.append("partition %d: consumed values never produced: %s" % (p, strangers[:5]))
        for o, v in msgs:
            consumed_at[(p, o)] = v
    lost, overwritten = [], []
    for (p, o), v in sorted(by_offset.items()):
        got = consumed_at.get((p, o))
        if got is None:
            lost.append((p, o, v))
        elif got != v:
            overwritten.append((p, o, v, got))
    if lost:
        problems.append("%d acknowledged message(s) missing, e.g. (partition, offset, value) %s" %
                        (len(lost), lost[:10]))
    if overwritten:
        problems.append("%d acknowledged message(s) overwritten, e.g. (partition, offset, acked "
                        "value, consumed value) %s" % (len(overwritten), overwritten[:10]))
    acked_values = {v for v, _p, _o in acked}
    consumed_values = set(consumed_at.values())
    summary = {
        "sent": producer.sent,
        "acked": len(acked),
        "errors": producer.error_summary(),
        "consumed": sum(len(m) for m in consumed.values()),
        "duplicates": dups,
        "consumed_not_acked": len(consumed_values - acked_values),
    }
    assert not problems, "delivery check failed (%s):\n  %s" % (summary, "\n  ".join(problems))
    return summary
