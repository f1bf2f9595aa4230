"""Helpers for the consumer-group tests (test_groups.py): group members
as separate processes (group_consumer.py / group_consumer.js, so that one can be SIGKILLed), the
checks on what they printed, and the admin views.

A Member's events are the JSON lines its process printed (see group_consumer.py), in order, each
with "t" = CLOCK_MONOTONIC seconds, which is comparable between the processes of one machine and
with this process's time.monotonic()."""

import bisect
import json
import os
import signal
import subprocess
import threading
import time

from kafka import KafkaAdminClient
from kafka.protocol.commit import GroupCoordinatorRequest, OffsetFetchRequest

from cluster import LATEST, _with_pdeathsig, kafka_request
from clients import produce_all, producer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
NODE = "/usr/bin/node"
KAFKAJS_MODULES = os.path.join(REPO_ROOT, ".deps", "js", "node_modules")
OFFSETS_TOPIC = "__consumer_offsets"


class Member:
    """One group member process. Its stdout (JSON lines) is read by a thread into events; its
    stderr (client logs) goes to <cluster dir>/member-<name>.log."""

    def __init__(self, cluster, name, argv, env=None):
        self.cluster = cluster
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(cluster.dir, "member-%s.log" % name)
        self.env = env
        self._events = []
        self._junk = []
        self._lock = threading.Lock()
        self.popen = None
        self._reader = None

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.popen = subprocess.Popen(_with_pdeathsig(self.argv), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=log, env=self.env)
        finally:
            log.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self.popen.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                with self._lock:
                    self._junk.append(line)
                continue
            with self._lock:
                self._events.append(e)

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def events(self, kind=None):
        with self._lock:
            return [e for e in self._events if kind is None or e["ev"] == kind]

    def msgs(self):
        return self.events("msg")

    def assignment(self):
        """The partitions it holds now: the last "assigned", unless a "revoked" came after it."""
        current = set()
        for e in self.events():
            if e["ev"] == "assigned":
                current = set(e["partitions"])
            elif e["ev"] == "revoked":
                current -= set(e["partitions"])
        return current

    def wait_for(self, predicate, timeout, what):
        """Until predicate(self) is truthy; fails at once if the process exits."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if not self.running():
                self._reader.join(5)
                value = predicate(self)
                if value:
                    return value
                raise AssertionError("member %s exited (%s) while waiting for %s\n%s" %
                                     (self.name, self.popen.returncode, what, self.describe()))
            if time.monotonic() >= deadline:
                raise AssertionError("timed out after %.0fs waiting for member %s: %s\n%s" %
                                     (timeout, self.name, what, self.describe()))
            time.sleep(0.05)

    def terminate(self, timeout=30, signalled=False):
        """SIGTERM (by PID): the member commits, leaves the group and exits 0."""
        if not signalled:
            assert self.running(), "member %s is not running\n%s" % (self.name, self.describe())
            self.popen.send_signal(signal.SIGTERM)
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)
            raise AssertionError("member %s ignored SIGTERM for %ss\n%s" %
                                 (self.name, timeout, self.describe()))
        self._reader.join(10)
        assert rc == 0 and self.events("closed"), (
            "member %s exited %s after SIGTERM\n%s" % (self.name, rc, self.describe()))

    def kill(self):
        """SIGKILL (by PID) and reap."""
        self.popen.send_signal(signal.SIGKILL)
        rc = self.popen.wait(timeout=10)
        self._reader.join(10)
        return rc

    def cleanup(self):
        if self.running():
            self.popen.kill()
            self.popen.wait(10)

    def describe(self, lines=25):
        try:
            with open(self.log_path, "rb") as f:
                log = f.read().decode("utf-8", "replace").splitlines()[-lines:]
        except OSError:
            log = []
        ev = self.events()
        interesting = [e for e in ev if e["ev"] != "msg"][-lines:]
        return ("member %s (pid %s, %s): %d events, %d msgs, assignment %s\n"
                "  last non-msg events: %s\n  junk on stdout: %s\n  stderr tail (%s):\n    %s" %
                (self.name, self.pid, "running" if self.running() else
                 "exited %s" % self.popen.returncode, len(ev), len(self.msgs()),
                 sorted(self.assignment()), interesting, self._junk[-5:], self.log_path,
                 "\n    ".join(log)))


class Members:
    """The member processes a test started; stops them all (by PID) at the end."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.all = []

    def python(self, name, client, group, topic, **opts):
        argv = [PYTHON, os.path.join(HERE, "group_consumer.py"), "--client", client,
                "--bootstrap", self.cluster.bootstrap, "--group", group, "--topic", topic,
                "--client-id", name]
        for k, v in opts.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        m = Member(self.cluster, name, argv).start()
        self.all.append(m)
        return m

    def kafkajs(self, name, group, topic, **opts):
        argv = [NODE, os.path.join(HERE, "group_consumer.js"), "--bootstrap",
                self.cluster.bootstrap, "--group", group, "--topic", topic]
        for k, v in opts.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        env = dict(os.environ, NODE_PATH=KAFKAJS_MODULES)
        m = Member(self.cluster, name, argv, env=env).start()
        self.all.append(m)
        return m

    def cleanup(self):
        for m in self.all:
            m.cleanup()

    def describe(self):
        return "\n".join(m.describe() for m in self.all)


def terminate_all(members, timeout=30):
    """SIGTERM to every member at once, then waits for each clean exit (see Member.terminate)."""
    for m in members:
        assert m.running(), "member %s is not running\n%s" % (m.name, m.describe())
        m.popen.send_signal(signal.SIGTERM)
    for m in members:
        m.terminate(timeout, signalled=True)


def wait_balanced(members, partitions, timeout=60, sizes=None):
    """Until the members' current assignments are disjoint, non-empty and cover
    range(partitions) (and, if given, have these sizes, in member order). Returns them."""
    deadline = time.monotonic() + timeout
    while True:
        for m in members:
            if not m.running():
                raise AssertionError("member %s exited while waiting for a balanced group\n%s"
                                     % (m.name, m.describe()))
        got = [m.assignment() for m in members]
        union = set().union(*got)
        if (all(got) and sum(len(a) for a in got) == len(union) == partitions
                and union == set(range(partitions))
                and (sizes is None or [len(a) for a in got] == list(sizes))):
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(
                "after %ss the assignments are %s, not a balance over %d partitions%s\n%s" %
                (timeout, [sorted(a) for a in got], partitions,
                 "" if sizes is None else " with sizes %s" % (sizes,),
                 "\n".join(m.describe() for m in members)))
        time.sleep(0.05)


def produce_values(cluster, topic, prefix, count, partitions, start=0):
    """acks=all, message i to partition i % partitions, value "<prefix>-<i>". Returns
    {value: (partition, offset)}."""
    values = ["%s-%06d" % (prefix, i) for i in range(start, start + count)]
    p = producer(cluster, acks="all")
    reports = produce_all(p, topic, [{"value": v.encode(), "partition": i % partitions}
                                     for i, v in enumerate(values, start)], timeout=90)
    return dict(zip(values, reports))


def consumptions(members):
    """Every "msg" event of the members: (t, partition, offset, value, member name)."""
    return sorted((e["t"], e["p"], e["o"], e["v"], m.name) for m in members for e in m.msgs())


def wait_consumed(members, values, timeout=60):
    """Until every value was consumed at least once by one of the members."""
    want = set(values)
    deadline = time.monotonic() + timeout
    while True:
        got = {v for m in members for v in (e["v"] for e in m.msgs())}
        missing = want - got
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise AssertionError("%d of %d messages not consumed within %ss (e.g. %s)\n%s" %
                                 (len(missing), len(want), timeout, sorted(missing)[:5],
                                  "\n".join(m.describe() for m in members)))
        for m in members:
            if m.popen.poll() not in (None, 0, -signal.SIGKILL):  # 0, -9: stopped by the test
                raise AssertionError("member %s exited\n%s" % (m.name, m.describe()))
        time.sleep(0.1)


def check_exactly_once(members, produced):
    """Every produced value consumed exactly once, at the partition and offset it was stored at,
    and nothing else consumed."""
    seen = {}
    for _t, p, o, v, name in consumptions(members):
        seen.setdefault(v, []).append((p, o, name))
    dups = {v: c for v, c in seen.items() if len(c) > 1}
    assert not dups, "%d message(s) consumed more than once, e.g. %s" % (
        len(dups), sorted(dups.items())[:5])
    unknown = set(seen) - set(produced)
    assert not unknown, "consumed messages nobody produced: %s" % sorted(unknown)[:5]
    missing = set(produced) - set(seen)
    assert not missing, "%d message(s) never consumed, e.g. %s" % (len(missing), sorted(missing)[:5])
    wrong = [(v, seen[v][0][:2], produced[v]) for v in produced if seen[v][0][:2] != produced[v]]
    assert not wrong, "consumed at another partition/offset than produced: %s" % wrong[:5]


def check_nothing_committed_is_consumed_again(members):
    """No member consumed a message below an offset that some member had already seen committed
    for that partition (its "commit" event came earlier): committed offsets never go backwards
    and a partition that changes hands resumes at its committed offset. Returns the duplicates
    as {(partition, offset): [member names in consumption order]}."""
    commits = {}  # partition -> sorted [(t, offset)]
    for m in members:
        for e in m.events("commit"):
            for p, off in e["offsets"].items():
                commits.setdefault(int(p), []).append((e["t"], off))
    times, running_max = {}, {}
    for p, cs in commits.items():
        cs.sort()
        times[p] = [t for t, _ in cs]
        best, out = -1, []
        for _t, off in cs:
            best = max(best, off)
            out.append(best)
        running_max[p] = out
    bad, by_message = [], {}
    for t, p, o, _v, name in consumptions(members):
        by_message.setdefault((p, o), []).append(name)
        i = bisect.bisect_left(times.get(p, []), t)
        committed = running_max[p][i - 1] if i > 0 else -1
        if o < committed:
            bad.append((name, p, o, committed))
    assert not bad, ("%d consumption(s) of messages below an offset already committed for their "
                     "partition (member, partition, offset, committed): %s" % (len(bad), bad[:10]))
    return {k: v for k, v in by_message.items() if len(v) > 1}


def admin(cluster):
    return KafkaAdminClient(bootstrap_servers=cluster.bootstrap, request_timeout_ms=30000,
                            client_id="groups-admin")


def committed_offsets(cluster, group, topic):
    """{partition: committed offset} through kafka-python's admin (FindCoordinator +
    OffsetFetch v3, all topics)."""
    a = admin(cluster)
    try:
        offsets = a.list_consumer_group_offsets(group)
    finally:
        a.close()
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic}


def end_offsets(cluster, topic, partitions):
    return {p: cluster.list_offset(topic, p, LATEST) for p in range(partitions)}


def wait_committed_to_end(cluster, group, topic, partitions, timeout=30):
    """Until the group's committed offsets are the partitions' high watermarks."""
    ends = end_offsets(cluster, topic, partitions)
    deadline = time.monotonic() + timeout
    while True:
        got = committed_offsets(cluster, group, topic)
        if got == ends:
            return ends
        if time.monotonic() >= deadline:
            raise AssertionError("committed offsets of %s are %s, the ends are %s" %
                                 (group, got, ends))
        time.sleep(0.2)


def describe_group(cluster, group):
    a = admin(cluster)
    try:
        (g,) = a.describe_consumer_groups([group])
        return g
    finally:
        a.close()


def wait_group_state(cluster, group, state, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        g = describe_group(cluster, group)
        if g.state == state:
            return g
        if time.monotonic() >= deadline:
            raise AssertionError("group %s is %s (%d member(s)), not %s, after %ss" %
                                 (group, g.state, len(g.members), state, timeout))
        time.sleep(0.2)


def java_string_hash(s):
    """Java's String.hashCode over UTF-16 code units, as a signed int32."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def offsets_partition(group, count):
    h = java_string_hash(group)
    return 0 if h == -(1 << 31) else abs(h) % count


def find_coordinator(cluster, group, port=None):
    """FindCoordinator v0 (what kafka-python sends) from one broker: (error, node_id, port)."""
    r = kafka_request(port or cluster.live_port(), GroupCoordinatorRequest[0](group), timeout=5)
    return r.error_code, r.coordinator_id, r.port


def fetch_committed_raw(cluster, group, topic, partitions, timeout=5):
    """FindCoordinator v0 + OffsetFetch v1 for explicit partitions, as a kafka-python consumer
    asks. Returns (coordinator id, {partition: offset}) or None on any error (coordinator moving,
    loading, ...); -1 means "no commit"."""
    try:
        err, node, port = find_coordinator(cluster, group)
        if err:
            return None
        r = kafka_request(port, OffsetFetchRequest[1](group, [(topic, list(range(partitions)))]),
                          timeout=timeout)
    except (OSError, AssertionError):
        return None
    out = {}
    for _topic, parts in r.topics:
        for p, offset, _meta, error in parts:
            if error:
                return None
            out[p] = offset
    return node, out


class CommitMonitor:
    """Samples the group's committed offsets (FindCoordinator + OffsetFetch, as a consumer asks)
    every 50 ms on a thread; unanswered samples (coordinator down, moving, loading) are
    skipped, never read as -1."""

    def __init__(self, cluster, group, topic, partitions):
        self.cluster, self.group, self.topic = cluster, group, topic
        self.partitions = partitions
        self.samples = []  # (t, coordinator, {partition: offset})
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            r = fetch_committed_raw(self.cluster, self.group, self.topic, self.partitions,
                                    timeout=2)
            if r is None:
                self.failed += 1
            else:
                self.samples.append((time.monotonic(), r[0], r[1]))
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join(10)

    def check_never_backwards(self):
        best, bad = {}, []  # partition -> (highest offset seen, when, from which coordinator)
        for t, node, offsets in self.samples:
            for p, o in offsets.items():
                if p in best and o < best[p][0]:
                    bad.append((p, o, best[p], (t, node)))
                elif p not in best or o > best[p][0]:
                    best[p] = (o, t, node)
        assert not bad, ("committed offsets went backwards (partition, offset, (earlier offset, "
                         "t, coordinator), (t, coordinator)): %s" % bad[:10])

    def coordinators(self):
        out = []
        for _t, node, _o in self.samples:
            if not out or out[-1] != node:
                out.append(node)
        return out
