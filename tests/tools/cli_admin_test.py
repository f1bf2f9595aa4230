#!/usr/bin/env python3
"""`gregor topic ...` and `gregor cluster ...` against a real controller + 3 brokers
(tests/compat/cluster.py): success output, and errors on bad input — unknown topic, bad flag,
unreachable cluster, replication factor larger than the live brokers.

    GREGOR_BUILD_DIR=build /usr/bin/python3 tests/tools/cli_admin_test.py --gregor build/tools/gregor
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "compat"))

from cluster import GregorCluster, pick_free_ports  # noqa: E402

FAILURES = []


def check(cond, what, p=None):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        FAILURES.append(what)
        if p is not None:
            print("    exit %s\n    stdout: %s\n    stderr: %s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gregor", required=True)
    args = ap.parse_args()
    gregor = args.gregor
    with GregorCluster(num_brokers=3) as c:
        boot = ["--bootstrap-server", c.bootstrap]
        ctl = ["--controller", "127.0.0.1:%d" % c.controller_port]

        def run(*argv, timeout=60):
            return subprocess.run([gregor, *argv], capture_output=True, text=True, timeout=timeout)

        p = run("topic", "create", "orders", "--partitions", "3", "--replication-factor", "3",
                "--config", "min.insync.replicas=2", *boot)
        check(p.returncode == 0 and "Created topic orders." in p.stdout, "topic create", p)
        p = run("topic", "create", "orders", "--partitions", "3", "--replication-factor", "3", *boot)
        check(p.returncode == 1 and "TOPIC_ALREADY_EXISTS" in p.stderr, "topic create of an existing topic fails", p)
        p = run("topic", "create", "orders", "--if-not-exists", *boot)
        check(p.returncode == 0 and "already exists" in p.stdout, "--if-not-exists succeeds", p)
        p = run("topic", "create", "big", "--replication-factor", "4", *boot)
        check(p.returncode == 1 and "INVALID_REPLICATION_FACTOR" in p.stderr and "only 3 broker(s)" in p.stderr,
              "RF larger than the brokers is refused with the reason", p)
        p = run("topic", "create", "bad name!", *boot)
        check(p.returncode == 1 and "illegal" in p.stderr, "an illegal topic name is refused", p)
        p = run("topic", "create", "x", "--config", "retention.ms=soon", *boot)
        check(p.returncode == 1 and "retention.ms" in p.stderr, "a bad config value is refused naming the key", p)
        p = run("topic", "create", "x", "--partitions", "many", *boot)
        check(p.returncode != 0 and "many" in (p.stderr + p.stdout), "a bad flag value is refused", p)
        p = run("topic", "frobnicate", *boot)
        check(p.returncode != 0, "an unknown subcommand is refused", p)

        p = run("topic", "list", *boot)
        check(p.returncode == 0 and "orders" in p.stdout.split(), "topic list", p)
        p = run("topic", "describe", "orders", *ctl)
        lines = [l for l in p.stdout.splitlines() if "Partition:" in l]
        check(p.returncode == 0 and "ReplicationFactor: 3" in p.stdout and len(lines) == 3
              and all("LeaderEpoch: 0" in l and "HW: 0" in l and "LogEnd: 0" in l for l in lines),
              "topic describe shows leader, epoch, replicas, ISR and offsets", p)
        p = run("topic", "describe", "nope", *ctl)
        check(p.returncode == 1 and "does not exist" in p.stderr, "describe of an unknown topic fails", p)
        p = run("topic", "alter", "orders", "--partitions", "4", "--config", "retention.ms=60000", *boot)
        check(p.returncode == 0 and "now has 4 partitions" in p.stdout, "topic alter adds partitions and sets configs", p)
        p = run("topic", "describe", "orders", *ctl)
        check("retention.ms=60000" in p.stdout and p.stdout.count("Partition:") == 4, "alter took effect", p)
        p = run("topic", "alter", "orders", "--partitions", "2", *boot)
        check(p.returncode == 1 and "must be larger" in p.stderr, "shrinking partitions is refused", p)
        p = run("topic", "alter", "nope", "--config", "retention.ms=1", *boot)
        check(p.returncode == 1 and "does not exist" in p.stderr, "alter of an unknown topic fails", p)

        # Without counts, a topic takes the brokers' num.partitions and default.replication.factor
        # (CreateTopics v4, -1).
        p = run("topic", "create", "defaults", *boot)
        check(p.returncode == 0, "topic create without counts", p)
        p = run("topic", "describe", "defaults", *ctl)
        check("PartitionCount: 1" in p.stdout and "ReplicationFactor: 1" in p.stdout,
              "the brokers' defaults (1 and 1 here)", p)

        # gregor config: DescribeConfigs / AlterConfigs through librdkafka.
        p = run("config", "describe", "--topic", "orders", *boot)
        check(p.returncode == 0 and "Dynamic configs for topic orders are:" in p.stdout
              and "retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000"
              in p.stdout and "min.insync.replicas=2" in p.stdout
              and "segment.bytes" not in p.stdout, "config describe shows the overrides", p)
        p = run("config", "describe", "--topic", "orders", "--all", *boot)
        check(p.returncode == 0 and "segment.bytes=1073741824" in p.stdout
              and "DEFAULT_CONFIG:log.segment.bytes=1073741824" in p.stdout,
              "config describe --all shows defaults with their broker synonyms", p)
        p = run("config", "alter", "--topic", "orders", "--add-config",
                "segment.ms=7200000,cleanup.policy=[delete,compact]", "--delete-config", "retention.ms", *boot)
        check(p.returncode == 0 and "Completed updating config for topic orders." in p.stdout, "config alter", p)
        p = run("config", "describe", "--topic", "orders", *boot)
        check("segment.ms=7200000" in p.stdout and "cleanup.policy=delete,compact" in p.stdout
              and "retention.ms" not in p.stdout and "min.insync.replicas=2" in p.stdout,
              "config alter set, removed and kept the other overrides", p)
        p = run("config", "alter", "--topic", "orders", "--add-config", "retention.ms=soon", *boot)
        check(p.returncode == 1 and "INVALID_CONFIG" in p.stderr and "retention.ms" in p.stderr,
              "a bad value is refused naming the key", p)
        p = run("config", "describe", "--broker", "1", *boot)
        check(p.returncode == 0 and "Static configs for broker 1 are:" in p.stdout
              and "node.id=1" in p.stdout, "config describe --broker", p)
        p = run("config", "alter", "--broker", "1", "--add-config", "log.retention.ms=1", *boot)
        check(p.returncode == 1 and "server.properties" in p.stderr, "broker configs are static: said so", p)
        p = run("config", "describe", *boot)
        check(p.returncode == 2 and "exactly one of --topic" in p.stderr, "config describe needs a resource", p)

        p = run("cluster", "describe", *ctl)
        check(p.returncode == 0 and p.stdout.count(" alive ") == 3 and "ACTIVE" in p.stdout, "cluster describe", p)
        p = run("cluster", "health", *ctl)
        check(p.returncode == 0 and "healthy" in p.stdout, "cluster health when healthy", p)
        c.kill_broker(3)
        deadline_ok = False
        for _ in range(40):
            p = run("cluster", "health", *ctl)
            if p.returncode == 1 and "UNDER-REPLICATED" in p.stdout:
                deadline_ok = True
                break
            subprocess.run(["sleep", "0.25"])
        check(deadline_ok, "cluster health lists under-replicated partitions and exits 1 after a kill", p)
        p = run("topic", "describe", "orders", "--under-replicated-partitions", *ctl)
        check(p.returncode == 0 and "UNDER-REPLICATED" in p.stdout, "describe --under-replicated-partitions", p)
        p = run("cluster", "watch", "--duration-s", "2", *ctl)
        check(p.returncode == 0 and "[now] broker 3" in p.stdout and "fenced" in p.stdout,
              "cluster watch shows the current state", p)

        p = run("topic", "delete", "orders", *boot)
        check(p.returncode == 0 and "Deleted topic orders." in p.stdout, "topic delete", p)
        p = run("topic", "delete", "orders", *boot)
        check(p.returncode == 1 and "UNKNOWN_TOPIC" in p.stderr, "deleting an unknown topic fails", p)

        dead = pick_free_ports(2)
        p = run("topic", "list", "--bootstrap-server", "127.0.0.1:%d" % dead[0], "--timeout-ms", "2000")
        check(p.returncode == 1 and "no broker reachable" in p.stderr and "./run.sh" in p.stderr,
              "unreachable brokers: a message that says what to do", p)
        for cmd in (["cluster", "describe"], ["cluster", "health"], ["topic", "describe", "x"]):
            p = run(*cmd, "--controller", "127.0.0.1:%d" % dead[1], "--timeout-ms", "2000")
            check(p.returncode == 1 and "no controller reachable" in p.stderr and "./run.sh" in p.stderr,
                  "unreachable controller: %s says what to do" % " ".join(cmd), p)
        for cmd in (["topic", "--help"], ["cluster", "watch", "--help"], ["topic", "create", "--help"]):
            p = run(*cmd)
            check(p.returncode == 0 and ("Example" in p.stdout or "create" in p.stdout), "%s" % " ".join(cmd), p)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
