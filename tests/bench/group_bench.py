#!/usr/bin/python3
"""Consumer-group figures on the local cluster (3 brokers, RF 3, group.initial.rebalance.delay.ms=0).

  join        10 confluent-kafka consumers subscribe at once: time until every one has its
              partitions (a Stable group of 10); then an 11th joins: time until all 11 hold their
              new assignment. heartbeat.interval.ms=100, so members learn of a rebalance within
              0.1 s instead of librdkafka's default 3 s (which would measure the client).
  commit      synchronous commits of one partition's offset (librdkafka, OffsetCommit v7,
              acks=all on the offsets partition): p50 / p99 / max over --commits.
  load        100,000 offset commits of one group (1,000 commits of 100 partitions), then the
              coordinator is killed with -9: the new coordinator's "loaded ... in N ms" line.
  throughput  1,000,000 records of 100 B on 6 partitions: one consumer with assign() vs a group
              of 3 members (3 processes, subscribe()); records/s from the first record to the last.

  tests/bench/group_bench.py [--parts join,commit,load,throughput] [--commits 2000]
  GREGOR_BUILD_DIR=DIR  the binaries to measure (default build/)
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster_bench  # noqa: E402  (the local-cluster helper)

REPO = os.path.dirname(os.path.dirname(HERE))
CLUSTER_SH = os.path.join(REPO, "deploy", "local", "cluster.sh")
BOOTSTRAP = "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class LocalCluster(cluster_bench.LocalCluster):
    """cluster_bench's local cluster, plus deploy/local/cluster.sh commands and the gregor tool."""

    def sh(self, *args):
        subprocess.run([CLUSTER_SH] + list(args), env=self.env, check=True, stdout=subprocess.DEVNULL)

    def gregor(self, *args):
        p = subprocess.run([os.path.join(self.build, "tools", "gregor")] + list(args),
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("gregor %s: %s" % (" ".join(args), p.stderr[-500:]))
        return p.stdout


def consumer(group, **extra):
    from confluent_kafka import Consumer
    conf = {"bootstrap.servers": BOOTSTRAP, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False}
    conf.update(extra)
    return Consumer(conf)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


# ---- join -------------------------------------------------------------------------------------

def warm_up(cluster):
    """Creates __consumer_offsets (on a group's first use) so no figure includes that."""
    c = consumer("warm-up")
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c.committed([__import__("confluent_kafka").TopicPartition("warm", 0)], timeout=5)
            break
        except Exception:  # COORDINATOR_NOT_AVAILABLE while the topic is created
            time.sleep(0.2)
    c.close()


def join(cluster):
    cluster.gregor("topic", "create", "joins", "--partitions", "12", "--replication-factor", "3")
    warm_up(cluster)
    members, current, stop = [], {}, threading.Event()
    lock = threading.Lock()

    def run(i):
        c = consumer("join-bench", **{"heartbeat.interval.ms": 100, "session.timeout.ms": 10000})
        members.append(c)

        def on_assign(_, partitions):
            with lock:
                current[i] = {p.partition for p in partitions}

        def on_revoke(_, partitions):
            with lock:
                current.pop(i, None)
        c.subscribe(["joins"], on_assign=on_assign, on_revoke=on_revoke)
        while not stop.is_set():
            c.poll(0.05)
        c.close()

    def wait_all(n, since, deadline=60):
        # A Stable group of n: n members hold disjoint assignments covering all 12 partitions.
        while time.time() < since + deadline:
            with lock:
                held = [p for ps in current.values() for p in ps]
                if len(current) == n and len(held) == 12 and len(set(held)) == 12 and \
                        all(current.values()):
                    return time.time() - since
            time.sleep(0.002)
        raise RuntimeError("the group did not settle with %d members: %r" % (n, current))

    threads = []
    start = time.time()
    for i in range(10):
        threads.append(threading.Thread(target=run, args=(i,), daemon=True))
        threads[-1].start()
    first = wait_all(10, start)
    time.sleep(2)
    start = time.time()
    threads.append(threading.Thread(target=run, args=(10,), daemon=True))
    threads[-1].start()
    eleventh = wait_all(11, start)
    stop.set()
    for t in threads:
        t.join(30)
    return {"join: 10 members subscribe at once -> Stable group of 10": "%.2f s" % first,
            "join: an 11th member joins a Stable 10 -> Stable group of 11": "%.2f s" % eleventh}


# ---- commit -----------------------------------------------------------------------------------

def commit(cluster, count):
    from confluent_kafka import TopicPartition
    cluster.gregor("topic", "create", "commits", "--partitions", "1", "--replication-factor", "3")
    warm_up(cluster)
    c = consumer("commit-bench")
    c.assign([TopicPartition("commits", 0, 0)])
    c.poll(0.5)
    for i in range(50):  # warm-up: coordinator lookup, connections
        c.commit(offsets=[TopicPartition("commits", 0, i)], asynchronous=False)
    times = []
    for i in range(count):
        t = time.perf_counter()
        c.commit(offsets=[TopicPartition("commits", 0, 100 + i)], asynchronous=False)
        times.append((time.perf_counter() - t) * 1000)
    c.close()
    return {"commit latency (sync, 1 partition), %d commits" % count:
            "p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (pct(times, 0.5), pct(times, 0.99), max(times))}


# ---- load -------------------------------------------------------------------------------------

def coordinator_of(cluster, group):
    out = cluster.gregor("group", "describe", "--group", group, "--state")
    m = re.search(r"\((\d+)\)", out)
    return int(m.group(1))


def load(cluster):
    from confluent_kafka import TopicPartition
    cluster.gregor("topic", "create", "loads", "--partitions", "100", "--replication-factor", "3")
    c = consumer("load-bench")
    t0 = time.time()
    for round_ in range(1000):
        c.commit(offsets=[TopicPartition("loads", p, round_ + 1) for p in range(100)], asynchronous=False)
    wrote = time.time() - t0
    c.close()
    coordinator = coordinator_of(cluster, "load-bench")
    logs = {b: os.path.join(cluster.dir, "logs", "broker-%d.log" % b) for b in (1, 2, 3)}
    sizes = {b: os.path.getsize(p) for b, p in logs.items()}
    cluster.sh("kill", str(coordinator))
    deadline = time.time() + 60
    loaded = None
    while time.time() < deadline and loaded is None:
        for b, p in logs.items():
            if b == coordinator:
                continue
            with open(p) as f:
                f.seek(sizes[b])
                for line in f:
                    m = re.search(r"loaded (\d+) group\(s\) from __consumer_offsets-\d+ in (\d+) ms \((\d+) records", line)
                    if m and int(m.group(3)) >= 100000:
                        loaded = (b, int(m.group(2)), int(m.group(3)))
        time.sleep(0.1)
    after = consumer("load-bench")
    got = after.committed([TopicPartition("loads", p) for p in range(100)], timeout=30)
    after.close()
    assert all(tp.offset == 1000 for tp in got), [tp.offset for tp in got if tp.offset != 1000]
    cluster.sh("start")
    if loaded is None:
        raise RuntimeError("no 'loaded' line with >= 100,000 records on the new coordinator")
    return {"load: 100,000 commit records (1,000 x 100 partitions), written in":
            "%.1f s" % wrote,
            "load: new coordinator (broker %d) loads them in" % loaded[0]:
            "%d ms (%d records); every offset read back after the failover" % (loaded[1], loaded[2])}


# ---- throughput -------------------------------------------------------------------------------

MEMBER = r'''
import json, sys, time
from confluent_kafka import Consumer, TopicPartition
mode, group, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({"bootstrap.servers": "%s", "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": True, "fetch.wait.max.ms": 100})
if mode == "assign":
    c.assign([TopicPartition("tput", p, 0) for p in range(6)])
else:
    c.subscribe(["tput"])
n, first, last, idle = 0, None, None, time.time()
while time.time() - idle < 5:
    batch = c.consume(10000, 0.2)
    for m in batch:
        if m.error():
            continue
        n += 1
        last = time.time()
        first = first or last
    if batch:
        idle = time.time()
c.close()
print(json.dumps({"n": n, "first": first, "last": last}))
''' % BOOTSTRAP


def throughput(cluster):
    cluster.gregor("topic", "create", "tput", "--partitions", "6", "--replication-factor", "3")
    cluster.gregor("perf", "produce", "--topic", "tput", "--num-records", "1000000", "--record-size",
                   "100", "--acks", "all")
    rows = {}
    for mode, members in (("assign", 1), ("subscribe", 3)):
        procs = [subprocess.Popen([sys.executable, "-c", MEMBER, mode, "tput-%s" % mode, "1000000"],
                                  stdout=subprocess.PIPE, text=True) for _ in range(members)]
        results = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
        n = sum(r["n"] for r in results)
        first = min(r["first"] for r in results if r["first"])
        last = max(r["last"] for r in results if r["last"])
        rows["throughput: %s, %d consumer(s)" % (mode if mode == "assign" else "group", members)] = \
            "%d records in %.2f s = %.0f records/s" % (n, last - first, n / (last - first))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="join,commit,load,throughput")
    ap.add_argument("--commits", type=int, default=2000)
    args = ap.parse_args()
    build = os.environ.get("GREGOR_BUILD_DIR", os.path.join(REPO, "build"))
    rows = {}
    for part in args.parts.split(","):
        log("part: " + part)
        with LocalCluster(build) as cluster:
            if part == "join":
                rows.update(join(cluster))
            elif part == "commit":
                rows.update(commit(cluster, args.commits))
            elif part == "load":
                rows.update(load(cluster))
            elif part == "throughput":
                rows.update(throughput(cluster))
            else:
                sys.exit("unknown part " + part)
    width = max(len(k) for k in rows)
    for k, v in rows.items():
        print("%-*s  %s" % (width, k, v))


if __name__ == "__main__":
    main()
