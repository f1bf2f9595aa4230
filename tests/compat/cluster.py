"""A throwaway Gregor cluster (1 controller + N brokers) for the client compatibility tests.

    with GregorCluster(num_brokers=3) as cluster:
        cluster.bootstrap            # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
        cluster.create_topic(...)    # through the Kafka CreateTopics API (kafka-python structs)
        cluster.stop_broker(2)       # SIGTERM: controlled shutdown, waits for the exit
        cluster.kill_broker(2)       # SIGKILL
        cluster.start_broker(2)      # same node id, ports and log dir; waits until it is live

Everything runs on 127.0.0.1 with ports picked by the kernel, in a fresh temp directory; each
process's stdout+stderr goes to <dir>/<name>.log. Readiness is polled with deadlines (a process
that exits early fails the wait at once, with its log tail). stop() ends exactly the processes
this object started, by PID. The children also get PR_SET_PDEATHSIG=SIGKILL, so they cannot
outlive a pytest that is killed (e.g. by a CTest timeout).

Binaries: $GREGOR_BUILD_DIR/controller/gregor-controller and $GREGOR_BUILD_DIR/broker/gregor-broker
(CTest sets GREGOR_BUILD_DIR; by hand it defaults to <repo>/build).
"""

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from kafka.protocol.admin import ApiVersionRequest, CreateTopicsRequest, DeleteTopicsRequest
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.offset import OffsetRequest
from kafka.protocol.parser import KafkaProtocol
from kafka.record import MemoryRecords

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Broker defaults for every test cluster. With replication factor 1 no leadership can move on
# SIGTERM, and the broker then waits the whole controlled.shutdown.timeout.ms (30 s by default)
# before stopping; 3 s keeps teardown and restarts quick while still going through the
# controlled-shutdown path.
DEFAULT_BROKER_OVERRIDES = {
    "controlled.shutdown.timeout.ms": "3000",
}


LATEST = -1
EARLIEST = -2


class ClusterError(AssertionError):
    pass


def build_dir():
    return os.environ.get("GREGOR_BUILD_DIR") or os.path.join(REPO_ROOT, "build")


# Children get PR_SET_PDEATHSIG=SIGKILL so they die with this process. util-linux's setpriv sets
# it and execs the binary (same PID); without setpriv, a preexec_fn does it (kept minimal: it runs
# between fork and exec in a process that may have client library threads).
_SETPRIV = shutil.which("setpriv")
_LIBC = None if _SETPRIV else ctypes.CDLL(None, use_errno=True)


def _pdeathsig():
    _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _with_pdeathsig(argv):
    return [_SETPRIV, "--pdeathsig", "KILL", "--"] + argv if _SETPRIV else argv


def _ephemeral_port_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def pick_free_ports(count):
    """`count` distinct ports that are free on 127.0.0.1 now. They come from below the kernel's
    ephemeral range when there is room, so that no client connection's local port can take one
    while a broker is down for a restart; otherwise from bind(0). All are held open together
    while choosing."""
    lo, _hi = _ephemeral_port_range()
    floor = 20000
    socks = []
    try:
        candidates = (random.sample(range(floor, lo), min(lo - floor, 50 * count))
                      if lo - floor >= 1000 else [])
        for port in candidates:
            if len(socks) == count:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                socks.append(s)
            except OSError:
                s.close()
        while len(socks) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_accepts(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "\n".join(data.splitlines()[-lines:])


def kafka_request(port, request, timeout=5.0, host="127.0.0.1", client_id="gregor-compat"):
    """Sends one Kafka request (a kafka-python protocol struct) on a new connection and returns
    the decoded response. Raises OSError / ClusterError on connection problems."""
    proto = KafkaProtocol(client_id=client_id)
    proto.send_request(request)
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(proto.send_bytes())
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ClusterError("no response to %s from port %d within %.1fs" %
                                   (type(request).__name__, port, timeout))
            s.settimeout(remaining)
            data = s.recv(1 << 20)
            if not data:
                raise ClusterError("port %d closed the connection on %s" %
                                   (port, type(request).__name__))
            responses = proto.receive_bytes(data)
            if responses:
                return responses[0][1]


def pipelined(port, requests, timeout=15.0):
    """Writes every request on one connection before reading anything; returns the responses
    as (correlation id, response) in arrival order, and whether the broker closed the
    connection afterwards."""
    proto = KafkaProtocol(client_id="gregor-pipeline")
    ids = [proto.send_request(r) for r in requests]
    out, closed = [], False
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(proto.send_bytes())
        while len(out) < len(requests):
            s.settimeout(max(0.1, deadline - time.monotonic()))
            data = s.recv(1 << 20)
            if not data:
                closed = True
                break
            out.extend(proto.receive_bytes(data))
    assert all(cid in ids for cid, _ in out)
    return out, closed


class Process:
    def __init__(self, name, argv, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.popen = None

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        assert not self.running(), "%s is already running" % self.name
        log = open(self.log_path, "ab")
        log.write(("\n===== %s: starting %s\n" % (time.strftime("%H:%M:%S"),
                                                    " ".join(self.argv))).encode())
        log.flush()
        try:
            self.popen = subprocess.Popen(_with_pdeathsig(self.argv), stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True,
                                          preexec_fn=None if _SETPRIV else _pdeathsig)
        finally:
            log.close()

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def returncode(self):
        return None if self.popen is None else self.popen.poll()

    def send_signal(self, sig):
        if self.running():
            self.popen.send_signal(sig)  # by PID, only our own child

    def wait(self, timeout):
        """Waits for the exit; returns the exit code (negative: killed by that signal)."""
        return self.popen.wait(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Signals and reaps the process; SIGKILL if it is still alive after `timeout`."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.send_signal(sig)
            try:
                return self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
                raise ClusterError("%s (pid %d) ignored signal %d for %.0fs; killed" %
                                   (self.name, self.popen.pid, sig, timeout))
        return self.popen.returncode

    def tail(self, lines=60):
        return tail(self.log_path, lines)


class Broker(Process):
    def __init__(self, node_id, kafka_port, replication_port, log_dir, argv, log_path):
        super().__init__("broker-%d" % node_id, argv, log_path)
        self.node_id = node_id
        self.kafka_port = kafka_port
        self.replication_port = replication_port
        self.log_dir = log_dir

    @property
    def address(self):
        return "127.0.0.1:%d" % self.kafka_port


class GregorCluster:
    def __init__(self, num_brokers=3, broker_overrides=None, controller_overrides=None,
                 base_dir=None, start_timeout=60.0):
        self.num_brokers = num_brokers
        self.broker_overrides = dict(DEFAULT_BROKER_OVERRIDES)
        self.broker_overrides.update(broker_overrides or {})
        self.controller_overrides = dict(controller_overrides or {})
        self.start_timeout = start_timeout
        self._own_dir = base_dir is None
        self.dir = base_dir or tempfile.mkdtemp(prefix="gregor-compat-")
        self.controller = None
        self.brokers = {}
        self.keep_dir = bool(os.environ.get("GREGOR_KEEP_TMP"))
        bdir = build_dir()
        self.controller_bin = os.path.join(bdir, "controller", "gregor-controller")
        self.broker_bin = os.path.join(bdir, "broker", "gregor-broker")
        for b in (self.controller_bin, self.broker_bin):
            if not os.access(b, os.X_OK):
                raise ClusterError("%s is missing: build it, or set GREGOR_BUILD_DIR" % b)

    # ---- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.keep_dir = True
            print(self.log_tails())
        self.stop()
        return False

    def start(self, attempts=3):
        """Starts the controller and the brokers and waits until every broker is live. Retries
        with other ports if a process could not bind its port (another test took it)."""
        for attempt in range(attempts):
            try:
                self._start_once()
                return
            except ClusterError:
                port_clash = any("in use" in p.tail(20) for p in self.processes())
                self._stop_processes()
                if not port_clash or attempt == attempts - 1:
                    self.keep_dir = True
                    self.stop()
                    raise
                # Start over with fresh data dirs (the logs keep appending).
                for name in ["controller"] + ["broker-%d" % n for n in self.brokers]:
                    shutil.rmtree(os.path.join(self.dir, name), ignore_errors=True)
            except BaseException:
                self.keep_dir = True
                self.stop()
                raise

    def _start_once(self):
        ports = pick_free_ports(1 + 2 * self.num_brokers)
        self.controller_port = ports[0]
        self.voters = "1@127.0.0.1:%d" % self.controller_port
        cdir = os.path.join(self.dir, "controller")
        argv = [self.controller_bin,
                "--override", "node.id=1",
                "--override", "controller.quorum.voters=" + self.voters,
                "--override", "metadata.log.dir=" + cdir]
        for k, v in self.controller_overrides.items():
            argv += ["--override", "%s=%s" % (k, v)]
        self.controller = Process("controller", argv, os.path.join(self.dir, "controller.log"))
        self.brokers = {}
        for i in range(self.num_brokers):
            node_id = i + 1
            kport, rport = ports[1 + 2 * i], ports[2 + 2 * i]
            log_dir = os.path.join(self.dir, "broker-%d" % node_id)
            argv = [self.broker_bin,
                    "--override", "node.id=%d" % node_id,
                    "--override", "controller.quorum.voters=" + self.voters,
                    "--override", "log.dirs=" + log_dir,
                    "--override", "listeners=PLAINTEXT://127.0.0.1:%d" % kport,
                    "--override", "replication.listener=127.0.0.1:%d" % rport]
            for k, v in self.broker_overrides.items():
                # "{id}" in a value is the broker's node id ("broker.rack": "rack-{id}").
                argv += ["--override", "%s=%s" % (k, str(v).replace("{id}", str(node_id)))]
            self.brokers[node_id] = Broker(node_id, kport, rport, log_dir, argv,
                                           os.path.join(self.dir, "broker-%d.log" % node_id))
        self.controller.start()
        deadline = time.monotonic() + self.start_timeout
        self._wait(deadline, "the controller to listen on %d" % self.controller_port,
                   lambda: port_accepts(self.controller_port), [self.controller])
        for b in self.brokers.values():
            b.start()
        self.wait_for_brokers(list(self.brokers), deadline=deadline)

    def stop(self):
        """SIGTERM every process this cluster started (brokers first, then the controller), by
        PID; SIGKILL whatever has not exited within the deadline. Removes the temp dir unless
        something failed (or GREGOR_KEEP_TMP is set)."""
        errors = self._stop_processes()
        if self.keep_dir or errors:
            print("gregor cluster files kept in %s" % self.dir)
        elif self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise ClusterError("; ".join(errors))

    def _stop_processes(self):
        errors = []
        brokers = [b for b in self.brokers.values() if b.running()]
        for b in brokers:
            b.send_signal(signal.SIGTERM)
        for b in brokers:
            try:
                b.stop(timeout=45)
            except ClusterError as e:
                errors.append(str(e))
        if self.controller is not None:
            try:
                self.controller.stop(timeout=20)
            except ClusterError as e:
                errors.append(str(e))
        return errors

    # ---- one broker --------------------------------------------------------------------------

    def broker(self, node_id):
        return self.brokers[node_id]

    def stop_broker(self, node_id, timeout=60.0):
        """SIGTERM (controlled shutdown) and wait for the exit; returns the exit code."""
        b = self.brokers[node_id]
        return b.stop(signal.SIGTERM, timeout=timeout)

    def kill_broker(self, node_id):
        """SIGKILL and reap; returns the exit code (-9)."""
        b = self.brokers[node_id]
        return b.stop(signal.SIGKILL, timeout=10)

    def start_broker(self, node_id, timeout=60.0):
        """Starts a stopped broker again (same id, ports, log dir) and waits until every
        running broker is live in the metadata again."""
        self.brokers[node_id].start()
        self.wait_for_brokers([b.node_id for b in self.brokers.values() if b.running()],
                              deadline=time.monotonic() + timeout)

    def restart_broker(self, node_id, hard=False, timeout=60.0):
        rc = self.kill_broker(node_id) if hard else self.stop_broker(node_id)
        self.start_broker(node_id, timeout=timeout)
        return rc

    # ---- addresses and metadata --------------------------------------------------------------

    @property
    def bootstrap(self):
        """Every running broker's Kafka address, comma-separated."""
        return ",".join(b.address for b in self.brokers.values() if b.running())

    def live_port(self):
        for b in self.brokers.values():
            if b.running():
                return b.kafka_port
        raise ClusterError("no broker is running")

    def metadata(self, topics=None, port=None, timeout=5.0):
        """Metadata v4 (never auto-creating topics) from one broker: ({node_id: (host, port)},
        controller_id, {topic: (error_code, {partition: (error_code, leader, replicas, isr)})}).
        topics=None asks for all topics."""
        resp = kafka_request(port or self.live_port(),
                             MetadataRequest[4](topics=topics, allow_auto_topic_creation=False),
                             timeout=timeout)
        brokers = {node_id: (host, p) for node_id, host, p, _rack in resp.brokers}
        out = {}
        for err, name, _internal, partitions in resp.topics:
            out[name] = (err, {pid: (perr, leader, list(replicas), list(isr))
                               for perr, pid, leader, replicas, isr in partitions})
        return brokers, resp.controller_id, out

    def partition_leaders(self, topic):
        _, _, topics = self.metadata([topic])
        err, parts = topics[topic]
        if err:
            raise ClusterError("metadata for %s: error %d" % (topic, err))
        return {p: leader for p, (_e, leader, _r, _i) in parts.items()}

    def wait_for_brokers(self, node_ids, timeout=60.0, deadline=None):
        """Until every running broker answers Metadata listing exactly `node_ids` as live."""
        want = set(node_ids)
        deadline = deadline or time.monotonic() + timeout
        watched = [self.controller] + [self.brokers[n] for n in want]
        last = {}

        def ready():
            for n in want:
                b = self.brokers[n]
                try:
                    brokers, _, _ = self.metadata([], port=b.kafka_port, timeout=2.0)
                except (OSError, ClusterError) as e:
                    last[n] = str(e)
                    return False
                last[n] = sorted(brokers)
                if set(brokers) != want:
                    return False
            return True

        self._wait(deadline, "brokers %s to be live (last seen: %s)" % (sorted(want), last),
                   ready, watched)

    def wait_for_topic(self, topic, partitions=None, timeout=30.0):
        """Until every running broker's metadata shows `topic` (with `partitions` partitions, if
        given) and every partition has a running leader. Returns {partition: leader}."""
        deadline = time.monotonic() + timeout
        live = {b.node_id: b for b in self.brokers.values() if b.running()}
        result = {}

        def ready():
            for b in live.values():
                try:
                    _, _, topics = self.metadata([topic], port=b.kafka_port, timeout=2.0)
                except (OSError, ClusterError):
                    return False
                err, parts = topics.get(topic, (-1, {}))
                if err or not parts or (partitions is not None and len(parts) != partitions):
                    return False
                leaders = {p: leader for p, (_e, leader, _r, _i) in parts.items()}
                if any(leader not in live for leader in leaders.values()):
                    return False
                result.clear()
                result.update(leaders)
            # The leaders must also serve the partitions (not just be named in the metadata).
            for p, leader in result.items():
                if self.list_offset(topic, p, EARLIEST, port=live[leader].kafka_port,
                                    raise_on_error=False) is None:
                    return False
            return True

        self._wait(deadline, "topic %s to have leaders on every partition" % topic, ready,
                   [self.controller] + list(live.values()))
        return dict(result)

    def api_versions(self, port=None):
        """The broker's advertised table from ApiVersions v0: {api_key: (min, max)}."""
        resp = kafka_request(port or self.live_port(), ApiVersionRequest[0]())
        if resp.error_code:
            raise ClusterError("ApiVersions: error %d" % resp.error_code)
        return {key: (lo, hi) for key, lo, hi in resp.api_versions}

    def list_offset(self, topic, partition, timestamp=-1, port=None, raise_on_error=True):
        """ListOffsets v1 to the partition's leader (or `port`): timestamp -1 = latest (the high
        watermark), -2 = earliest. Returns the offset, or None on an error if not
        raise_on_error."""
        if port is None:
            port = self.brokers[self.partition_leaders(topic)[partition]].kafka_port
        req = OffsetRequest[1](replica_id=-1, topics=[(topic, [(partition, timestamp)])])
        try:
            resp = kafka_request(port, req, timeout=5.0)
            (_t, parts), = resp.topics
            (_p, err, _ts, offset), = parts
        except (OSError, ClusterError):
            if raise_on_error:
                raise
            return None
        if err:
            if raise_on_error:
                raise ClusterError("ListOffsets %s-%d: error %d" % (topic, partition, err))
            return None
        return offset

    # ---- admin through the Kafka protocol ----------------------------------------------------

    def create_topic(self, name, partitions=1, replication_factor=1, configs=None, wait=True):
        """CreateTopics v1 through a live broker; asserts success and (by default) waits until
        every partition has a leader. Returns {partition: leader}."""
        req = CreateTopicsRequest[1](
            create_topic_requests=[(name, partitions, replication_factor, [],
                                    list((configs or {}).items()))],
            timeout=30000, validate_only=False)
        resp = kafka_request(self.live_port(), req, timeout=35.0)
        (topic, err, msg), = resp.topic_errors
        if err:
            raise ClusterError("CreateTopics %s: error %d (%s)" % (topic, err, msg))
        return self.wait_for_topic(name, partitions) if wait else None

    def delete_topic(self, name):
        resp = kafka_request(self.live_port(),
                             DeleteTopicsRequest[1](topics=[name], timeout=30000), timeout=35.0)
        (topic, err), = resp.topic_error_codes
        if err:
            raise ClusterError("DeleteTopics %s: error %d" % (topic, err))

    # ---- raw reads ---------------------------------------------------------------------------

    def fetch_batches(self, topic, partition, offset=0, timeout=10.0):
        """Reads the partition from `offset` to its high watermark with raw Fetch v4 requests to
        its leader, and decodes the stored batches with kafka-python's record classes (which
        check CRCs). Returns [{base_offset, magic, compression_type, timestamp_type, records:
        [(offset, key, value, headers)]}], to see exactly what the broker stored, e.g. its compression."""
        leader = self.partition_leaders(topic)[partition]
        port = self.brokers[leader].kafka_port
        batches = []
        deadline = time.monotonic() + timeout
        while True:
            req = FetchRequest[4](replica_id=-1, max_wait_time=0, min_bytes=0,
                                  max_bytes=64 << 20, isolation_level=0,
                                  topics=[(topic, [(partition, offset, 64 << 20)])])
            resp = kafka_request(port, req, timeout=timeout)
            (_t, parts), = resp.topics
            (_p, err, hwm, _lso, _aborted, data), = parts
            if err:
                raise ClusterError("fetch %s-%d@%d: error %d" % (topic, partition, offset, err))
            records = MemoryRecords(data)
            while True:
                batch = records.next_batch()
                if batch is None:
                    break
                if hasattr(batch, "validate_crc") and not batch.validate_crc():
                    raise ClusterError("bad CRC in %s-%d batch at %d" %
                                       (topic, partition, batch.base_offset))
                recs = [(r.offset, r.key, r.value, list(r.headers)) for r in batch]
                if recs and recs[-1][0] < offset:
                    continue
                batches.append({"base_offset": batch.base_offset, "magic": batch.magic,
                                "compression_type": batch.compression_type,
                                "timestamp_type": getattr(batch, "timestamp_type", None),
                                "records": recs})
                if recs:
                    offset = recs[-1][0] + 1
            if offset >= hwm:
                return batches
            if time.monotonic() >= deadline:
                raise ClusterError("fetch %s-%d stuck at %d < hwm %d" %
                                   (topic, partition, offset, hwm))

    # ---- diagnostics -------------------------------------------------------------------------

    def processes(self):
        return ([self.controller] if self.controller else []) + list(self.brokers.values())

    def log_tails(self, lines=60):
        out = ["gregor cluster in %s" % self.dir]
        for p in self.processes():
            state = ("running, pid %d" % p.pid if p.running()
                     else "exited %s" % p.returncode() if p.popen else "never started")
            out.append("----- %s (%s): last %d lines of %s -----" %
                       (p.name, state, lines, p.log_path))
            out.append(p.tail(lines))
        return "\n".join(out)

    def _wait(self, deadline, what, predicate, watched, interval=0.1):
        while True:
            for p in watched:
                if p.popen is not None and not p.running():
                    raise ClusterError("%s exited with %s while waiting for %s\n%s" %
                                       (p.name, p.returncode(), what, self.log_tails()))
            if predicate():
                return
            if time.monotonic() >= deadline:
                raise ClusterError("timed out waiting for %s\n%s" % (what, self.log_tails()))
            time.sleep(interval)


def wait_until(predicate, timeout, what, interval=0.1):
    """Polls `predicate` until it returns something truthy (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# Kafka API keys used by the checks below, and RecordBatch compression codes.
API_PRODUCE, API_FETCH, API_FIND_COORDINATOR = 0, 1, 10
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def librdkafka_stored_codec(api_versions, codec):
    """The compression code librdkafka 2.0.2 actually puts on the wire for `codec`, given the
    broker's ApiVersions table ({key: (min, max)}): gzip and snappy need Produce v0 to be
    advertised (reference §1.2, KAFKA-18659); lz4 also needs the LZ4 feature (FindCoordinator
    0..0); zstd needs Produce 7 and Fetch 10. Otherwise librdkafka logs "Broker does not support
    compression type ..." and sends the batch uncompressed."""

    def overlaps(key, lo, hi):
        return key in api_versions and api_versions[key][0] <= hi and api_versions[key][1] >= lo

    supported = {
        "none": True,
        "gzip": overlaps(API_PRODUCE, 0, 0),
        "snappy": overlaps(API_PRODUCE, 0, 0),
        "lz4": overlaps(API_PRODUCE, 0, 0) and overlaps(API_FIND_COORDINATOR, 0, 0),
        "zstd": overlaps(API_PRODUCE, 7, 7) and overlaps(API_FETCH, 10, 10),
    }[codec]
    return CODECS[codec] if supported else 0


def unique_topic(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), int(time.monotonic() * 1000) % 10**9)
