#!/usr/bin/python3
"""The local cluster's figures in one table: failover, produce latency and throughput.

  failover   --runs kill -9, SIGSTOP and SIGTERM incidents of a partition leader with a librdkafka
             producer (tests/bench/failover_bench.py): the longest gap between acknowledgements
             over the whole incident, fault to preferred leader back
  latency    produce latency at 2,000 msg/s, 100 B, one partition, RF 3, min.insync.replicas=2:
             acks=0/1/all with librdkafka (`gregor perf produce`, linger.ms=0) and with the
             protocol-level tool (tests/bench/produce_latency.cc: one request in flight, no
             client library)
  throughput RF 3, acks=all: 1 KiB and 100 B records, 1 and 6 partitions (`gregor perf
             produce`); consuming 100 B records (`gregor perf consume`); the median of --repeat
             runs, each on a new topic

Each part starts its own cluster with deploy/local/cluster.sh (fixed local ports: no other local
cluster may run) in a temporary directory. Before every produce-throughput run the page cache
is written back and, when run as root, dropped: otherwise the pages of the previous runs slow
the next one down (measured here: 250 -> 150 MB/s over three runs in a row), which measures
the kernel, not Gregor. On this 2-core machine the brokers, the controller and the client share
the cores: the CPU seconds each used are printed with every throughput run.

  tests/bench/cluster_bench.py [--runs 10] [--repeat 3] [--parts failover,latency,throughput]
  GREGOR_BUILD_DIR=DIR  the controller and brokers to measure (default build/)
  --client-build DIR    the gregor tool and produce_latency to measure with (default: the same)
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLUSTER_SH = os.path.join(REPO, "deploy", "local", "cluster.sh")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class LocalCluster:
    def __init__(self, build):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="gregor-bench-")
        self.env = dict(os.environ, GREGOR_BUILD_DIR=build, GREGOR_CLUSTER_DIR=self.dir)

    def __enter__(self):
        subprocess.run([CLUSTER_SH, "up"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc):
        subprocess.run([CLUSTER_SH, "down"], env=self.env, stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def cpu_seconds(self):
        out = {}
        for f in os.listdir(os.path.join(self.dir, "pids")):
            try:
                pid = int(open(os.path.join(self.dir, "pids", f)).read())
                fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
                out[f[:-4]] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, ValueError):
                pass
        return out


def gregor(client, *args, timeout=600):
    p = subprocess.run([os.path.join(client, "tools", "gregor")] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("gregor %s failed: %s" % (" ".join(args), p.stdout[-500:] + p.stderr[-500:]))
    return p.stdout


def create_topic(client, name, partitions):
    gregor(client, "topic", "create", name, "--partitions", str(partitions),
           "--replication-factor", "3", "--config", "min.insync.replicas=2")


def drop_page_cache():
    subprocess.run(["sync"])
    if os.geteuid() == 0:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")


# ---- failover -------------------------------------------------------------------------------

def failover(args):
    env = dict(os.environ, GREGOR_BUILD_DIR=args.build)
    p = subprocess.run([sys.executable, os.path.join(HERE, "failover_bench.py"), "--runs",
                        str(args.runs)], env=env, capture_output=True, text=True)
    sys.stdout.write("".join(l + "\n" for l in p.stdout.splitlines() if not l.startswith("%")))
    rows = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(kill -9|SIGSTOP|SIGTERM): (longest ack gap|  around the fault|  around the restart|"
                     r"new leader visible)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
        if m:
            rows["%s: %s" % (m.group(1), m.group(2).strip())] = "%s / %s / %s s" % m.group(3, 4, 5)
    if p.returncode != 0:
        rows["failover"] = "FAILED: " + p.stderr[-300:]
    return rows


# ---- latency --------------------------------------------------------------------------------

def latency(args):
    rows = {}
    with LocalCluster(args.build):
        create_topic(args.client, "lat", 1)
        out = subprocess.run([os.path.join(args.client, "tests", "produce_latency"), "--bootstrap",
                              "127.0.0.1:9092", "--topic", "lat", "--count", "20000"],
                             capture_output=True, text=True, timeout=600).stdout
        for line in out.splitlines():
            m = re.match(r"acks=(\S+)\s.*p50 ([\d.]+) ms, p95 [\d.]+ ms, p99 ([\d.]+) ms", line)
            if m:
                rows["latency, protocol tool, acks=%s" % m.group(1)] = "p50 %s ms, p99 %s ms" % m.group(2, 3)
        for acks in ("0", "1", "all"):
            out = gregor(args.client, "perf", "produce", "--topic", "lat", "--record-size", "100",
                         "--num-records", "20000", "--throughput", "2000", "--linger-ms", "0",
                         "--acks", acks)
            m = re.search(r"([\d.]+) ms 50th, [\d.]+ ms 95th, ([\d.]+) ms 99th", out)
            if m:
                rows["latency, librdkafka, acks=%s" % acks] = "p50 %s ms, p99 %s ms" % m.group(1, 2)
    return rows


# ---- throughput -----------------------------------------------------------------------------

def throughput(args):
    rows = {}
    cases = [("1 KiB", 1024, 1, 500000), ("1 KiB", 1024, 6, 500000),
             ("100 B", 100, 1, 3000000), ("100 B", 100, 6, 3000000)]
    with LocalCluster(args.build) as cluster:
        create_topic(args.client, "warmup", 1)
        gregor(args.client, "perf", "produce", "--topic", "warmup", "--record-size", "1024",
               "--num-records", "200000", "--throughput", "-1", "--acks", "all")
        filled = {}
        for label, size, partitions, count in cases:
            rates, notes = [], []
            for i in range(args.repeat):
                topic = "tp-%d-%d-%d" % (size, partitions, i)
                create_topic(args.client, topic, partitions)
                drop_page_cache()
                before = cluster.cpu_seconds()
                t0 = os.times()
                out = gregor(args.client, "perf", "produce", "--topic", topic, "--record-size",
                             str(size), "--num-records", str(count), "--throughput", "-1",
                             "--acks", "all")
                t1 = os.times()
                after = cluster.cpu_seconds()
                m = re.search(r"([\d.]+) records/sec \(([\d.]+) MB/sec\)", out.splitlines()[-1])
                rates.append((float(m.group(1)), float(m.group(2))))
                cpu = {k: after[k] - before.get(k, 0) for k in after}
                cpu["client"] = (t1.children_user + t1.children_system) - (t0.children_user + t0.children_system)
                notes.append(" ".join("%s %.2f" % (k, v) for k, v in sorted(cpu.items())))
                log("produce %s x %d run %d: %.0f msg/s, %.1f MB/s; CPU s: %s" % (
                    label, partitions, i + 1, rates[-1][0], rates[-1][1], notes[-1]))
                filled.setdefault((size, partitions), topic)
            msgs = statistics.median(r[0] for r in rates)
            mb = statistics.median(r[1] for r in rates)
            rows["produce %s x %d partition(s)" % (label, partitions)] = (
                "%.2f M msg/s, %.0f MB/s (median of %d)" % (msgs / 1e6, mb, len(rates)))
        for partitions in (1, 6):
            topic = filled[(100, partitions)]
            rates = []
            for i in range(args.repeat):
                out = gregor(args.client, "perf", "consume", "--topic", topic, "--num-records", "3000000")
                m = re.search(r"([\d.]+) records/sec \(([\d.]+) MB/sec\)", out.splitlines()[-1])
                rates.append((float(m.group(1)), float(m.group(2))))
                log("consume 100 B x %d run %d: %.0f msg/s" % (partitions, i + 1, rates[-1][0]))
            rows["consume 100 B x %d partition(s)" % partitions] = "%.2f M msg/s (median of %d)" % (
                statistics.median(r[0] for r in rates) / 1e6, len(rates))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="failover incidents per fault")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs per case")
    ap.add_argument("--parts", default="failover,latency,throughput")
    ap.add_argument("--client-build", help="the gregor tool and produce_latency (default: the build)")
    args = ap.parse_args()
    args.build = os.path.abspath(os.environ.get("GREGOR_BUILD_DIR") or os.path.join(REPO, "build"))
    args.client = os.path.abspath(args.client_build or args.build)
    rows = {}
    for part in args.parts.split(","):
        log("---- %s (servers %s, client %s)" % (part, args.build, args.client))
        rows.update({"failover": failover, "latency": latency, "throughput": throughput}[part](args))
    width = max(len(k) for k in rows) if rows else 10
    print("\n%-*s  %s" % (width, "measure", "result (failover: min / median / max)"))
    for k, v in rows.items():
        print("%-*s  %s" % (width, k, v))


if __name__ == "__main__":
    main()
