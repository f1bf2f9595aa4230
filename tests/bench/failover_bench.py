#!/usr/bin/python3
"""Failover incidents as a new user sees them: the longest gap between two acknowledgements of a
librdkafka producer over a whole incident (fault, failover, restart, catch-up, rejoin, the
preferred leader back).

Each run creates a topic (3 partitions, RF 3, min.insync.replicas=2) on a fresh local-style
cluster (1 controller + 3 brokers with deploy/local/cluster.sh's settings, on free ports), runs a
confluent-kafka (librdkafka) producer with acks=all and max.in.flight=1 (every other setting at
librdkafka's default) writing round-robin at --rate msg/s, and at 4 s applies the fault to the
leader of partition 0:

  kill   kill -9, restart 8 s later
  stop   SIGSTOP, SIGCONT 8 s later
  term   SIGTERM (a controlled shutdown: leaderships move first), restart 8 s later

It then waits until the victim leads partition 0 again (the preferred leader; the local cluster
checks every 10 s) with every ISR full, and 2 s more. Per run it prints the longest gap between
acknowledgements of one partition (the worst partition) in the fault half [fault, restart) and
the restart half [restart, end], how long until the metadata showed a new leader, until the
victim led again, and the acknowledged count; then a summary (min / median / max).

  tests/bench/failover_bench.py [--runs 10] [--fault kill,stop,term] [--rate 1500]
                                [--restart-after 8] [--csv FILE]

Every process is started by this script and stopped by PID; nothing is timed against a bare
sleep except the fault schedule itself.
"""

import argparse
import os
import signal
import statistics
import sys
import threading
import time

from confluent_kafka import Producer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "compat"))

from cluster import GregorCluster, unique_topic  # noqa: E402

PARTITIONS = 3

# deploy/local/cluster.sh's settings (./run.sh); everything else is the binaries' default.
LOCAL_BROKER = {
    "num.partitions": "3",
    "default.replication.factor": "3",
    "replica.lag.time.max.ms": "10000",
}
LOCAL_CONTROLLER = {
    "leader.imbalance.check.interval.seconds": "10",
}


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class AckRecorder:
    """A producer thread: value = sequence number, partition = seq % PARTITIONS, `rate` msg/s.
    Records the time of every acknowledgement per partition."""

    def __init__(self, bootstrap, topic, rate):
        self.conf = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "max.in.flight.requests.per.connection": 1,
        }
        if os.environ.get("GREGOR_RDKAFKA_DEBUG"):
            self.conf["debug"] = os.environ["GREGOR_RDKAFKA_DEBUG"]
        self.topic = topic
        self.rate = rate
        self.acks = {p: [] for p in range(PARTITIONS)}
        self.errors = 0
        self.sent = 0
        self.unflushed = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err, msg):
        t = time.monotonic()
        if err is None:
            self.acks[msg.partition()].append(t)
        else:
            self.errors += 1

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        p = Producer(self.conf)
        interval = 1.0 / self.rate
        next_due = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now < next_due:
                p.poll(next_due - now)
                continue
            try:
                p.produce(self.topic, value=b"%09d" % self.sent, partition=self.sent % PARTITIONS,
                          on_delivery=self._on_delivery)
                self.sent += 1
            except BufferError:
                p.poll(0.01)
                continue
            next_due = max(next_due + interval, time.monotonic() - 0.05)
            p.poll(0)
        self.unflushed = p.flush(60)

    def stop(self):
        self._stop.set()
        self._thread.join(90)

    def acked(self):
        return sum(len(v) for v in self.acks.values())

    def longest_gap(self, start, end):
        """Longest gap between consecutive acknowledgements of one partition, over the window
        [start, end] (the gaps into and out of it included); the worst partition. Returns
        (gap seconds, partition, monotonic time the gap began)."""
        worst = (0.0, None, None)
        for p, times in self.acks.items():
            times = sorted(times)
            before = [t for t in times if t < start][-1:]
            inside = [t for t in times if start <= t <= end]
            after = [t for t in times if t > end][:1]
            seq = before + inside + after
            for a, b in zip(seq, seq[1:]):
                if b - a > worst[0]:
                    worst = (b - a, p, a)
            if not after and seq and end - seq[-1] > worst[0]:
                worst = (end - seq[-1], p, seq[-1])
        return worst


def leader_of(cluster, topic, via):
    try:
        _, _, topics = cluster.metadata([topic], port=cluster.brokers[via].kafka_port, timeout=1.0)
    except Exception:  # noqa: BLE001 - a broker that does not answer has no view
        return None
    err, parts = topics.get(topic, (-1, {}))
    if err or 0 not in parts:
        return None
    _e, leader, _replicas, isr = parts[0]
    return leader, isr, parts


def wait(what, predicate, timeout, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise RuntimeError("timed out after %.0fs waiting for %s" % (timeout, what))


def one_run(cluster, fault, rate, restart_after):
    topic = unique_topic("failover-bench")
    cluster.create_topic(topic, partitions=PARTITIONS, replication_factor=3,
                         configs={"min.insync.replicas": "2"})
    producer = AckRecorder(cluster.bootstrap, topic, rate).start()
    wait("first acknowledgements", lambda: producer.acked() >= rate, 30)
    t_start = time.monotonic()
    while time.monotonic() < t_start + 3.0:  # 4 s of steady producing in all
        time.sleep(0.05)
    victim, _isr, _parts = wait("a leader", lambda: leader_of(cluster, topic, 1) or
                                leader_of(cluster, topic, 2), 10)
    others = [n for n in cluster.brokers if n != victim]
    b = cluster.brokers[victim]
    t_fault = time.monotonic()
    if fault == "kill":
        b.send_signal(signal.SIGKILL)
        b.popen.wait(10)
    elif fault == "term":
        b.send_signal(signal.SIGTERM)
    else:
        b.send_signal(signal.SIGSTOP)

    def moved():
        v = leader_of(cluster, topic, others[0])
        return v is not None and v[0] not in (victim, -1)
    wait("a new leader", moved, 30, interval=0.005)
    t_moved = time.monotonic()
    while time.monotonic() < t_fault + restart_after:
        time.sleep(0.05)
    if fault == "term":
        b.popen.wait(30)
    t_restart = time.monotonic()
    if fault in ("kill", "term"):
        b.start()
    else:
        b.send_signal(signal.SIGCONT)

    def back():
        for n in cluster.brokers:
            v = leader_of(cluster, topic, n)
            if v is None or v[0] != victim:
                return False
            if any(len(isr) != 3 for _e, _l, _r, isr in v[2].values()):
                return False
        return True
    wait("broker %d to lead partition 0 again with full ISRs" % victim, back, 60)
    t_back = time.monotonic()
    while time.monotonic() < t_back + 2.0:
        time.sleep(0.05)
    t_end = time.monotonic()
    producer.stop()
    gap_fault = producer.longest_gap(t_fault, t_restart)
    gap_restart = producer.longest_gap(t_restart, t_end)
    wall = time.time() - time.monotonic()
    stamp = lambda t: "-" if t is None else time.strftime("%H:%M:%S", time.localtime(t + wall)) + (
        "%.3f" % ((t + wall) % 1))[1:]
    log("  fault at %s (%.6f), restart at %s; worst gaps: p%s from %s, p%s from %s" % (
        stamp(t_fault), t_fault + wall, stamp(t_restart), gap_fault[1], stamp(gap_fault[2]),
        gap_restart[1], stamp(gap_restart[2])))
    result = {
        "victim": victim,
        "gap_fault_s": gap_fault[0],
        "gap_restart_s": gap_restart[0],
        "moved_s": t_moved - t_fault,
        "back_s": t_back - t_restart,
        "acked": producer.acked(),
        "sent": producer.sent,
        "errors": producer.errors,
        "unflushed": producer.unflushed,
    }
    result["gap_incident_s"] = max(result["gap_fault_s"], result["gap_restart_s"])
    return result


def summary(name, rows, key, unit="s"):
    vals = [r[key] for r in rows]
    return "%-28s %8.3f %8.3f %8.3f %s" % (name, min(vals), statistics.median(vals), max(vals), unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--fault", default="kill,stop,term", help="comma-separated: kill, stop, term")
    ap.add_argument("--rate", type=int, default=1500, help="messages per second, all partitions")
    ap.add_argument("--restart-after", type=float, default=8.0)
    ap.add_argument("--csv", help="append one line per run to this file")
    args = ap.parse_args()
    faults = args.fault.split(",")
    for f in faults:
        if f not in ("kill", "stop", "term"):
            ap.error("unknown fault %r" % f)
    results = {}
    for fault in faults:
        rows = results.setdefault(fault, [])
        cluster = GregorCluster(num_brokers=3, broker_overrides=LOCAL_BROKER,
                                controller_overrides=LOCAL_CONTROLLER)
        cluster.start()
        try:
            for i in range(args.runs):
                r = one_run(cluster, fault, args.rate, args.restart_after)
                rows.append(r)
                log("%s run %d: victim %d, longest gap %.3f s (fault half %.3f s, restart half "
                    "%.3f s); new leader after %.3f s, preferred leader back %.1f s after the "
                    "restart; %d/%d acknowledged, %d errors, %s unflushed" % (
                        fault, i + 1, r["victim"], r["gap_incident_s"], r["gap_fault_s"],
                        r["gap_restart_s"], r["moved_s"], r["back_s"], r["acked"], r["sent"],
                        r["errors"], r["unflushed"]))
                if args.csv:
                    with open(args.csv, "a") as f:
                        f.write("%s,%d,%.4f,%.4f,%.4f,%.4f,%.3f\n" % (
                            fault, r["victim"], r["gap_incident_s"], r["gap_fault_s"],
                            r["gap_restart_s"], r["moved_s"], r["back_s"]))
        finally:
            cluster.stop()
    print("\n%-28s %8s %8s %8s" % ("measure (%d runs each)" % args.runs, "min", "median", "max"))
    for fault, rows in results.items():
        label = {"kill": "kill -9", "stop": "SIGSTOP", "term": "SIGTERM"}[fault]
        print(summary("%s: longest ack gap" % label, rows, "gap_incident_s"))
        print(summary("%s:   around the fault" % label, rows, "gap_fault_s"))
        print(summary("%s:   around the restart" % label, rows, "gap_restart_s"))
        print(summary("%s: new leader visible" % label, rows, "moved_s"))


if __name__ == "__main__":
    main()
