"""One nemesis run: a netns cluster of 3 controllers and 3 brokers (deploy/netns/cluster.sh), the
workload (workload.py) on the client host, a seeded schedule of faults (faults.py), then healing,
a clean stop, every replica read from disk, and the checker's verdict (checker.py) per topic.

  nemesis.py --schedule NAME [--seed N] [--build-dir DIR] [--keep]
  nemesis.py --random MINUTES [--seed N] ...        (tests/bench/nemesis.sh)

Topics: "queue" (2 idempotent acks=all producers: nothing acknowledged may be lost, duplicated
or reordered, replicas may not diverge) and "plain" (1 acks=1 producer, for contrast: losses are
reported, not failures). RF 3, min.insync.replicas 2, 3 partitions each. Exit 0 when every
promise held, 1 when one broke (the seed and the schedule are printed to replay it), 77 when
the machine cannot run network namespaces (CTest reports a skip).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from confluent_kafka import Consumer, KafkaException, TopicPartition  # noqa: E402

import checker  # noqa: E402
import faults  # noqa: E402
from netns_cluster import NemesisError, NetnsCluster, log, unavailable_reason  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
SKIP = 77
PARTITIONS = 3
TOPICS = {  # name: (workload spec, checker promises)
    "queue": ("queue:2:all:1", checker.Promises(no_loss=True, idempotent=True,
                                                consumers_read_all=True)),
    "plain": ("plain:1:1:0", checker.Promises(no_loss=False, idempotent=False,
                                              consumers_read_all=True)),
}
# Faster failure detection than the shipped defaults, as a test cluster uses (the controller's
# broker.session.timeout.ms is 2 s already).
BROKER_CONFIG = ["replica.lag.time.max.ms=3000", "replica.high.watermark.checkpoint.interval.ms=500",
                 "controlled.shutdown.timeout.ms=5000"]


def longest_gap(times, start, end):
    """The longest time without an acknowledgement (`times`, sorted) between `start` and
    `end`: how long a partition was unavailable to its producers."""
    inside = [t for t in times if start <= t <= end]
    points = [start] + inside + [end]
    return max(b - a for a, b in zip(points, points[1:]))


class Run:
    def __init__(self, kinds, seed, build_dir, hold, gap, keep):
        self.kinds, self.seed, self.hold, self.gap, self.keep = kinds, seed, hold, gap, keep
        self.rng = random.Random(seed)
        self.dir = tempfile.mkdtemp(prefix="gregor-nemesis-")
        self.cluster = NetnsCluster(self.dir, build_dir)
        self.stop_file = os.path.join(self.dir, "stop-workload")
        self.events = []  # (fault kind, description, start, end) in workload time
        self.workload = None
        self.t0 = None

    def elapsed(self):
        """Seconds since the workload started, on the clock its operation times use."""
        return round(time.time() - self.t0, 3)

    def replay_hint(self):
        return "replay: tests/nemesis/nemesis.py %s --seed %d" % (
            "--kinds " + ",".join(self.kinds), self.seed)

    def start_workload(self):
        self.t0 = time.time()
        argv = ["/usr/bin/python3", os.path.join(HERE, "workload.py"), "--epoch", repr(self.t0),
                "--bootstrap", self.cluster.bootstrap, "--out", self.dir,
                "--stop-file", self.stop_file, "--partitions", str(PARTITIONS)]
        for spec, _promises in TOPICS.values():
            argv += ["--topic", spec]
        out = open(os.path.join(self.dir, "workload.log"), "w")
        self.workload = subprocess.Popen(self.cluster.client_command(argv), env=self.cluster.env,
                                         stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def wait_acks(self, count, timeout=60.0):
        """Until the "queue" topic holds `count` committed records (the workload writes its
        history only at the end, so the high watermarks tell how it is doing)."""
        deadline = time.monotonic() + timeout
        probe = Consumer({"bootstrap.servers": self.cluster.bootstrap, "group.id": "probe"})
        try:
            while time.monotonic() < deadline:
                if self.workload.poll() is not None:
                    raise NemesisError("the workload exited early:\n" + self.workload_log())
                try:
                    total = sum(probe.get_watermark_offsets(TopicPartition("queue", p), timeout=5)[1]
                                for p in range(PARTITIONS))
                except KafkaException:
                    total = 0
                if total >= count:
                    return
                time.sleep(0.5)
        finally:
            probe.close()
        raise NemesisError("the workload got no %d acknowledgements within %.0fs\n%s" % (
            count, timeout, self.cluster.log_tails()))

    def workload_log(self):
        with open(os.path.join(self.dir, "workload.log"), errors="replace") as f:
            return f.read()[-4000:]

    def heal_everything(self):
        self.cluster.sh("heal")
        for host in ["c1", "c2", "c3", "b1", "b2", "b3"]:
            self.cluster.sh("clock", host, "0")
        for b in (1, 2, 3):
            self.cluster.sh("disk-free", "b%d" % b)
        for name in ["controller-1", "controller-2", "controller-3", "broker-1", "broker-2", "broker-3"]:
            if self.cluster.running(name):
                self.cluster.sh("resume", name)
            else:
                self.cluster.sh("start", name)

    def execute(self):
        c = self.cluster
        c.up(broker_config=BROKER_CONFIG)
        for topic in TOPICS:
            c.create_topic(topic, PARTITIONS)
        c.wait_full_isr(TOPICS, PARTITIONS)
        self.start_workload()
        self.wait_acks(300)
        for kind in self.kinds:
            time.sleep(self.gap)  # the schedule: quiet time between faults
            start = self.elapsed()
            description, heal = faults.apply(kind, c, self.rng, "queue")
            time.sleep(self.hold * self.rng.uniform(0.8, 1.2))  # the schedule: the fault's length
            heal()
            self.events.append((kind, description, start, self.elapsed()))
            log("healed: %s" % description)
        self.heal_everything()
        c.wait_full_isr(TOPICS, PARTITIONS)
        faults_end = self.elapsed()
        log("every fault healed, full ISR; stopping the workload")
        open(self.stop_file, "w").close()
        try:
            self.workload.wait(timeout=300)
        except subprocess.TimeoutExpired:
            raise NemesisError("the workload did not finish within 300 s\n" + self.workload_log())
        if self.workload.returncode != 0:
            raise NemesisError("the workload failed (%d):\n%s" % (self.workload.returncode,
                                                                  self.workload_log()))
        summary = json.loads(self.workload_log().strip().split("\n")[-1])
        c.wait_full_isr(TOPICS, PARTITIONS)
        c.stop_brokers()
        return self.verdict(summary, faults_end)

    def verdict(self, summary, faults_end):
        ok = True
        print("\n==== nemesis run, seed %d: %d faults" % (self.seed, len(self.events)))
        for kind, description, start, end in self.events:
            print("  %6.1f-%6.1fs  %-34s %s" % (start, end, kind, description))
        for topic, (_spec, promises) in TOPICS.items():
            history = checker.load_history(os.path.join(self.dir, "history-%s.jsonl" % topic))
            final = self.cluster.final_state(topic, PARTITIONS)
            with open(os.path.join(self.dir, "final-%s.json" % topic), "w") as f:
                json.dump(final, f)
            report = checker.check(history, final, promises)
            acks = {}  # partition: sorted acknowledgement times
            for op in history:
                if op.get("op") == "send" and op["outcome"] == "ok":
                    acks.setdefault(op["partition"], []).append(op["time"])
            print("\n---- topic %s (%s) — workload: %s" % (topic, _spec, json.dumps(summary[topic])))
            print(checker.summary(report, promises))
            if acks:
                for kind, description, start, end in self.events:
                    gaps = {p: longest_gap(sorted(times), start, min(end + 5, faults_end))
                            for p, times in acks.items()}
                    worst = max(gaps, key=gaps.get)
                    print("  longest time without an acknowledgement during %-30s %5.1fs "
                          "(partition %s)" % (kind, gaps[worst], worst))
            if report.broken(promises):
                ok = False
        if not ok:
            print("\nFAILED. Seed %d. %s\nFiles: %s" % (self.seed, self.replay_hint(), self.dir))
        return ok

    def run(self):
        try:
            ok = self.execute()
        except Exception:
            print("\nERROR in the nemesis run. Seed %d. %s\nFiles: %s" % (
                self.seed, self.replay_hint(), self.dir), flush=True)
            if self.cluster.is_up:
                print(self.cluster.log_tails(), flush=True)
            raise
        finally:
            if self.workload is not None and self.workload.poll() is None:
                os.killpg(self.workload.pid, 9)  # its own session, started by us
                self.workload.wait()
            self.cluster.down()
        if ok and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schedule", help="one of: %s" % ", ".join(faults.SCHEDULES))
    ap.add_argument("--kinds", help="comma-separated fault kinds, in order (a replay)")
    ap.add_argument("--random", type=float, metavar="MINUTES", help="random faults for this long")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--hold", type=float, default=10.0, help="seconds each fault lasts")
    ap.add_argument("--gap", type=float, default=4.0, help="seconds between faults")
    ap.add_argument("--build-dir", default=os.environ.get("GREGOR_BUILD_DIR",
                                                          os.path.join(ROOT, "build")))
    ap.add_argument("--keep", action="store_true", help="keep the run's files")
    args = ap.parse_args()
    reason = unavailable_reason()
    if reason:
        print("SKIP: the netns nemesis cannot run here: %s" % reason)
        return SKIP
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    rng = random.Random(seed)
    if args.kinds:
        kinds = args.kinds.split(",")
    elif args.schedule:
        kinds = faults.scheduled_kinds(args.schedule, rng)
    elif args.random:
        kinds = faults.random_schedule(rng, max(1, int(args.random * 60 / (args.hold + args.gap))))
    else:
        ap.error("give --schedule, --kinds or --random")
    unknown = [k for k in kinds if k not in faults.KINDS]
    if unknown:
        ap.error("unknown fault kinds: %s (kinds: %s)" % (unknown, ", ".join(sorted(faults.KINDS))))
    print("nemesis: seed %d, faults: %s" % (seed, ", ".join(kinds)), flush=True)
    run = Run(kinds, seed, args.build_dir, args.hold, args.gap, args.keep)
    return 0 if run.run() else 1


if __name__ == "__main__":
    sys.exit(main())
