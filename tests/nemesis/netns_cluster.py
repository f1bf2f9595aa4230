"""A netns cluster (deploy/netns/cluster.sh) driven from Python: up/down, faults, the metadata
as the brokers report it, and the final contents of every replica after a clean stop.

Every action goes through cluster.sh, so a test does exactly what a person would type; the
script signals only the PIDs it recorded and `down` removes only what `up` created.
"""

import os
import re
import subprocess
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

import replica_files

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "deploy", "netns", "cluster.sh")

BROKERS = (1, 2, 3)
CONTROLLERS = (1, 2, 3)


class NemesisError(AssertionError):
    pass


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def unavailable_reason():
    """Why a netns cluster cannot run here (None if it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables, tmpfs mounts)"
    for tool in ("ip", "nft"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            return "'%s' is not installed (deploy/install-deps.sh installs it)" % tool
    probe = "gregor-probe-%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return "cannot create a network namespace: %s" % r.stderr.strip()
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def free_net_id():
    """A net id (1-250) whose namespaces do not exist, starting from this process's PID."""
    taken = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    used = {int(m) for m in re.findall(r"^gregor(\d+)-", taken, re.M)}
    start = os.getpid() % 200 + 20
    for i in range(250):
        n = (start + i - 1) % 250 + 1
        if n not in used:
            return n
    raise NemesisError("no free netns net id (every gregor1..250 namespace exists)")


class NetnsCluster:
    def __init__(self, directory, build_dir, net=None):
        self.dir = directory
        self.build_dir = build_dir
        self.net = net or free_net_id()
        self.env = dict(os.environ, GREGOR_NETNS_DIR=directory, GREGOR_NETNS_NET=str(self.net),
                        GREGOR_BUILD_DIR=build_dir)
        self.prefix = "10.231.%d" % self.net
        self.bootstrap = ",".join("%s.%d:9092" % (self.prefix, 20 + b) for b in BROKERS)
        self.controllers = ",".join("%s.%d:9990" % (self.prefix, 10 + c) for c in CONTROLLERS)
        self.is_up = False

    # ---- the script ------------------------------------------------------------------------

    def sh(self, *args, check=True, timeout=120):
        r = subprocess.run([SCRIPT, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        out = (r.stdout + r.stderr).strip()
        if check and r.returncode != 0:
            raise NemesisError("cluster.sh %s failed (%d):\n%s" % (" ".join(args), r.returncode, out))
        return out

    def up(self, broker_config=(), controller_config=(), disk_mb=256):
        args = ["up", "--disk-mb", str(disk_mb)]
        for kv in broker_config:
            args += ["--broker", kv]
        for kv in controller_config:
            args += ["--controller", kv]
        self.is_up = True  # even a failed `up` may have created namespaces: `down` removes them
        self.sh(*args, timeout=180)
        log("netns cluster up: net %d, brokers %s" % (self.net, self.bootstrap))

    def down(self):
        if self.is_up:
            self.sh("down", check=False, timeout=180)
            self.is_up = False

    def client_command(self, argv):
        """argv run on the client host."""
        return [SCRIPT, "exec", "client", *argv]

    def running(self, process):
        pid_file = os.path.join(self.dir, "pids", "%s.pid" % process)
        try:
            pid = int(open(pid_file).read())
            return b"gregor" in open("/proc/%d/cmdline" % pid, "rb").read()
        except (OSError, ValueError):
            return False

    def log_path(self, process):
        return os.path.join(self.dir, "logs", "%s.log" % process)

    def grep_log(self, process, needle, limit=20):
        try:
            with open(self.log_path(process), errors="replace") as f:
                return [line.rstrip("\n") for line in f if needle in line][-limit:]
        except OSError:
            return []

    def log_tails(self, lines=25):
        out = []
        for name in ["controller-%d" % c for c in CONTROLLERS] + ["broker-%d" % b for b in BROKERS]:
            try:
                with open(self.log_path(name), errors="replace") as f:
                    tail = f.readlines()[-lines:]
            except OSError:
                tail = []
            out.append("----- %s (last %d lines)\n%s" % (name, lines, "".join(tail)))
        return "\n".join(out)

    # ---- metadata --------------------------------------------------------------------------

    def admin(self):
        return AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 5000})

    def create_topic(self, topic, partitions, min_isr=2):
        admin = self.admin()  # alive until the answer: its futures fail when it is destroyed
        futures = admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=3,
                      config={"min.insync.replicas": str(min_isr)})], request_timeout=30)
        futures[topic].result(timeout=35)

    def partitions(self, topic):
        """{partition: (leader, replicas, isr)} from the brokers' metadata, or None."""
        try:
            md = self.admin().list_topics(topic, timeout=5)
        except KafkaException:
            return None
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return None
        return {p: (pm.leader, list(pm.replicas), list(pm.isrs)) for p, pm in t.partitions.items()}

    def leader_of(self, topic, partition):
        parts = self.partitions(topic)
        if parts and parts.get(partition) and parts[partition][0] in BROKERS:
            return parts[partition][0]
        return None

    def active_controller(self):
        out = subprocess.run([os.path.join(self.build_dir, "tools", "gregor"), "cluster",
                              "describe", "--controller", self.controllers, "--timeout-ms", "3000"],
                             capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"controller (\d+) at \S+\s+ACTIVE", out)
        return int(m.group(1)) if m else None

    def wait_full_isr(self, topics, partitions, timeout=120.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            ok = True
            for topic in topics:
                parts = self.partitions(topic)
                last = (topic, parts)
                if not parts or len(parts) != partitions or any(
                        leader not in BROKERS or sorted(isr) != sorted(replicas)
                        for leader, replicas, isr in parts.values()):
                    ok = False
                    break
            if ok:
                return
            time.sleep(0.5)
        raise NemesisError("no full ISR within %.0fs (last: %s)\n%s" % (timeout, last,
                                                                       self.log_tails()))

    # ---- the end of a run --------------------------------------------------------------------

    def stop_brokers(self):
        for b in BROKERS:
            if self.running("broker-%d" % b):
                self.sh("stop", "broker-%d" % b, timeout=90)

    def final_state(self, topic, partitions):
        """After stop_brokers(): the checker's final state of `topic`."""
        replicas, hws = {}, {}
        for b in BROKERS:
            log_dir = os.path.join(self.dir, "data", "b%d" % b, "log")
            replicas[str(b)] = {}
            for p in range(partitions):
                pdir = os.path.join(log_dir, "%s-%d" % (topic, p))
                if os.path.isdir(pdir):
                    replicas[str(b)][str(p)] = replica_files.partition_records(pdir)
                hw = replica_files.checkpointed_hw(log_dir, topic, p)
                if hw is not None:
                    hws[str(p)] = max(hws.get(str(p), 0), hw)
        return {"replicas": replicas, "high_watermarks": hws}
