#!/usr/bin/env python3
"""End-to-end checks of `gregor consume --group` and `gregor group ...` against a real controller
+ 3 brokers (tests/compat/cluster.py): two members share a topic and resume from their commits;
describe shows offsets, lag and owners, --members and --state; reset-offsets is refused while the
group is active and works (dry run, --execute, --export, clamping) once it is empty; delete and
delete-offsets; errors for unknown groups.

    /usr/bin/python3 tests/tools/cli_groups_test.py --gregor build/tools/gregor
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "compat"))

from cluster import GregorCluster, unique_topic  # noqa: E402

FAILURES = []
GREGOR = None
CLUSTER = None


def check(cond, what, detail=""):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        FAILURES.append(what)
        if detail:
            print("   ", str(detail).replace("\n", "\n    "))


def run(*args, stdin=None, timeout=60):
    argv = [GREGOR, *args, "--bootstrap-server", CLUSTER.bootstrap]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


def show(p):
    return "exit %s\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout[-3000:], p.stderr[-3000:])


def table(text):
    """The rows of a printed table as dicts keyed by its header."""
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        return []
    header = lines[0].split()
    return [dict(zip(header, l.split())) for l in lines[1:]]


def wait_for(cond, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    check(False, "timed out waiting for " + what)
    return None


def produce(topic, partition, values):
    p = run("produce", topic, "--partition", str(partition), stdin="".join(v + "\n" for v in values))
    check(p.returncode == 0, "produced %d messages to %s-%d" % (len(values), topic, partition), show(p))


def test_members_share_and_resume(topic, group):
    for part in range(4):
        produce(topic, part, ["p%d-%d" % (part, i) for i in range(25)])
    argv = [GREGOR, "consume", topic, "--group", group, "--from-beginning", "--print-partition",
            "--timeout-ms", "8000", "--bootstrap-server", CLUSTER.bootstrap]
    members = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    # While both run: two members, two partitions each, nothing lost.
    rows = wait_for(lambda: (lambda r: r if len(r) == 4 and all(x["CONSUMER-ID"] != "-" for x in r)
                             and len({x["CONSUMER-ID"] for x in r}) == 2 else None)(
        table(run("group", "describe", "--group", group).stdout)), "two members owning 4 partitions")
    if rows:
        check(all(x["HOST"] == "/127.0.0.1" and x["LOG-END-OFFSET"] == "25" for x in rows),
              "describe: host /127.0.0.1 and log end 25 per partition", rows)
    p = run("group", "describe", "--group", group, "--members", "--verbose")
    members_rows = table(p.stdout)
    check(p.returncode == 0 and len(members_rows) == 2 and
          all(r["#PARTITIONS"] == "2" for r in members_rows) and
          all(re.match(re.escape(topic) + r"\(\d,\d\)", r["ASSIGNMENT"]) for r in members_rows),
          "describe --members --verbose: 2 members with 2 partitions each", show(p))
    p = run("group", "describe", "--group", group, "--state")
    state = table(p.stdout)
    check(p.returncode == 0 and state and state[0]["STATE"] == "Stable" and
          state[0]["#MEMBERS"] == "2" and state[0]["ASSIGNMENT-STRATEGY"] == "range",
          "describe --state: Stable, range, 2 members", show(p))
    p = run("group", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute")
    check(p.returncode == 1 and "Assignments can only be reset if the group '%s' is inactive, but "
          "the current state is Stable." % group in p.stderr,
          "reset-offsets refused while the group is active", show(p))
    outs = [m.communicate(timeout=60) for m in members]
    lines = [l for out, _ in outs for l in out.splitlines()]
    check(sorted(lines) == sorted("Partition:%d\tp%d-%d" % (p_, p_, i) for p_ in range(4) for i in range(25)),
          "the two members consumed every message exactly once", lines[:10])
    check(all(m.returncode == 0 for m in members), "both members exited 0", [e for _, e in outs])
    # Everything committed: lag 0; a restart reads only what is new.
    p = run("group", "describe", "--group", group)
    rows = table(p.stdout)
    check(len(rows) == 4 and all(r["CURRENT-OFFSET"] == "25" and r["LAG"] == "0" and
                                 r["CONSUMER-ID"] == "-" for r in rows) and
          "has no active members" in p.stderr,
          "describe after both stopped: committed 25, lag 0, no owner, 'no active members'", show(p))
    produce(topic, 1, ["late-1", "late-2"])
    p = run("consume", topic, "--group", group, "--timeout-ms", "4000")
    check(p.returncode == 0 and p.stdout.split() == ["late-1", "late-2"],
          "a restarted member reads only the messages after the group's commits", show(p))


def test_reset_offsets(topic, group):
    p = run("group", "reset-offsets", "--group", group, "--topic", "%s:0,1" % topic, "--shift-by", "-5")
    rows = table(p.stdout)
    check(p.returncode == 0 and [r["NEW-OFFSET"] for r in rows] == ["20", "22"] and
          "dry run" in p.stderr, "reset-offsets --shift-by -5 (dry run)", show(p))
    check(table(run("group", "describe", "--group", group).stdout)[0]["CURRENT-OFFSET"] == "25",
          "a dry run changes nothing")
    p = run("group", "reset-offsets", "--group", group, "--topic", topic, "--to-offset", "1000",
            "--execute", "--export")
    check(p.returncode == 0 and "%s,0,25" % topic in p.stdout and "%s,1,27" % topic in p.stdout and
          "is higher than latest offset for topic partition %s-0. Value will be set to 25" % topic in p.stderr,
          "reset-offsets --to-offset beyond the end: clamped with a warning, CSV export", show(p))
    p = run("group", "reset-offsets", "--group", group, "--all-topics", "--to-earliest", "--execute")
    check(p.returncode == 0 and len(table(p.stdout)) == 4, "reset-offsets --all-topics --to-earliest", show(p))
    p = run("consume", topic, "--group", group, "--timeout-ms", "4000")
    check(p.returncode == 0 and len(p.stdout.split()) == 102,
          "after the reset the group reads everything again", show(p))
    p = run("group", "reset-offsets", "--group", group, "--all-topics", "--by-duration", "PT1H", "--execute")
    check(p.returncode == 0 and all(r["NEW-OFFSET"] == "0" for r in table(p.stdout)),
          "reset-offsets --by-duration PT1H: the first offsets of the last hour", show(p))
    p = run("group", "reset-offsets", "--group", group, "--all-topics", "--to-datetime", "2999-01-01T00:00:00.000Z")
    check(p.returncode == 0 and "Falling back to latest known offset" in p.stderr,
          "reset-offsets --to-datetime in the future: the log end, with a warning", show(p))
    p = run("group", "reset-offsets", "--group", group, "--all-topics", "--to-datetime", "yesterday")
    check(p.returncode == 2 and "bad --to-datetime 'yesterday'" in p.stderr, "bad --to-datetime", show(p))
    p = run("group", "reset-offsets", "--group", group, "--topic", topic)
    check(p.returncode == 2 and "give exactly one of --to-earliest" in p.stderr,
          "reset-offsets without a spec", show(p))


def test_list_delete(topic, group):
    p = run("group", "list")
    check(p.returncode == 0 and group in p.stdout.split(), "group list shows the group", show(p))
    p = run("group", "list", "--state")
    check(p.returncode == 0 and {"GROUP": group, "STATE": "Empty"} in table(p.stdout),
          "group list --state: Empty", show(p))
    p = run("group", "delete-offsets", "--group", group, "--topic", "%s:3" % topic)
    check(p.returncode == 0 and table(p.stdout) == [{"TOPIC": topic, "PARTITION": "3", "STATUS": "Successful"}],
          "delete-offsets of one partition", show(p))
    check(len(table(run("group", "describe", "--group", group).stdout)) == 3,
          "describe no longer shows the deleted partition")
    p = run("group", "delete", "--group", group, "--group", "no-such-group")
    check(p.returncode == 1 and "Deletion of requested consumer groups ('%s') was successful." % group in p.stdout
          and "Group 'no-such-group' could not be deleted" in p.stderr,
          "delete: one deleted, an unknown one reported", show(p))
    p = run("group", "describe", "--group", group)
    check(p.returncode == 1 and "Consumer group '%s' does not exist." % group in p.stderr,
          "describe of a deleted group", show(p))
    p = run("consume", topic, "--group", "fresh-" + group, "--reset", "none", "--timeout-ms", "4000")
    check(p.returncode == 1 and "has no committed offset here and --reset none was given" in p.stderr,
          "consume --reset none for a group without offsets: an error", show(p))


def main():
    global GREGOR, CLUSTER
    ap = argparse.ArgumentParser()
    ap.add_argument("--gregor", required=True)
    args = ap.parse_args()
    GREGOR = os.path.abspath(args.gregor)
    overrides = {"group.initial.rebalance.delay.ms": "0"}
    with GregorCluster(num_brokers=3, broker_overrides=overrides) as cluster:
        CLUSTER = cluster
        topic, group = unique_topic("cli-groups"), unique_topic("billing")
        cluster.create_topic(topic, partitions=4, replication_factor=3)
        try:
            test_members_share_and_resume(topic, group)
            test_reset_offsets(topic, group)
            test_list_delete(topic, group)
        except BaseException:
            cluster.keep_dir = True
            raise
        if FAILURES:
            cluster.keep_dir = True
            print(cluster.log_tails(30))
    print("\n%d failure(s)" % len(FAILURES))
    for f in FAILURES:
        print("  -", f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
