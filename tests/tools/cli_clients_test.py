#!/usr/bin/env python3
"""End-to-end checks of `gregor produce`, `gregor consume` and `gregor perf` against a real
controller + 3 brokers (tests/compat/cluster.py: kernel-chosen ports, a fresh temp directory,
processes stopped by PID): what each prints on success, and the errors on bad input (unknown
topic, bad flag values, unreachable cluster). What the producer stored is cross-checked with
confluent-kafka (librdkafka) and kafka-python's raw fetch.

    GREGOR_BUILD_DIR=build /usr/bin/python3 tests/tools/cli_clients_test.py --gregor build/tools/gregor
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "compat"))

from cluster import ClusterError, GregorCluster, pick_free_ports, unique_topic  # noqa: E402
from clients import consume as ck_consume  # noqa: E402

FAILURES = []
GREGOR = None
CLUSTER = None


def check(cond, what, detail=""):
    if cond:
        print("ok:", what)
    else:
        FAILURES.append(what)
        print("FAIL:", what)
        if detail:
            print("   ", str(detail).replace("\n", "\n    "))


def run(*args, stdin=None, timeout=60, bootstrap=True):
    argv = [GREGOR, *args]
    if bootstrap:
        argv += ["--bootstrap-server", CLUSTER.bootstrap]
    start = time.monotonic()
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
    p.elapsed = time.monotonic() - start
    return p


def show(p):
    return "exit %s\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout[-3000:], p.stderr[-3000:])


def create_topic(name, partitions, replication_factor, configs=None, timeout=30):
    """CreateTopics, retried while the controller does not count the just-started brokers as
    alive yet (INVALID_REPLICATION_FACTOR right after start-up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return CLUSTER.create_topic(name, partitions=partitions,
                                        replication_factor=replication_factor, configs=configs)
        except ClusterError as e:
            if "alive" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(0.3)


def produce(topic, text, *args):
    p = run("produce", topic, *args, stdin=text)
    return p


# ---- help ---------------------------------------------------------------------------------------

def test_help():
    for cmd in (["produce"], ["consume"], ["perf", "produce"], ["perf", "consume"], ["perf", "e2e"]):
        p = run(*cmd, "--help", bootstrap=False)
        check(p.returncode == 0 and "Example" in p.stdout and "--bootstrap-server" in p.stdout
              and "localhost:9092" in p.stdout, "gregor %s --help shows an example and "
              "--bootstrap-server (default localhost:9092)" % " ".join(cmd), show(p))
    p = run("produce", "--help", bootstrap=False)
    for flag in ("--key-separator", "--acks", "--partition", "--compression", "--header",
                 "--linger-ms", "--property", "--file"):
        check(flag in p.stdout, "produce --help lists " + flag)
    p = run("consume", "--help", bootstrap=False)
    for flag in ("--from-beginning", "--offset", "--partition", "--group", "--max-messages",
                 "--timeout-ms", "--print-key", "--print-offset", "--print-partition",
                 "--print-timestamp", "--print-headers", "--key-separator", "--format"):
        check(flag in p.stdout, "consume --help lists " + flag)


# ---- produce / consume round trips --------------------------------------------------------------

def test_keys_headers_partition(topic):
    p = produce(topic, "k1:v1\nk2:value:with:colons\nno separator here\n:empty key\n",
                "--key-separator", ":", "--partition", "1", "--header", "src=cli",
                "--header", "n=2", "--acks", "all")
    check(p.returncode == 0 and "produced 4 messages to %s" % topic in p.stderr,
          "produce with --key-separator/--header/--partition: exit 0 and summary", show(p))

    # What was stored, read by librdkafka through confluent-kafka.
    msgs = ck_consume(CLUSTER, topic, [1], expected=4)
    got = [(m.key(), m.value(), m.headers()) for m in msgs]
    hdrs = [("src", b"cli"), ("n", b"2")]
    want = [(b"k1", b"v1", hdrs), (b"k2", b"value:with:colons", hdrs),
            (None, b"no separator here", hdrs), (b"", b"empty key", hdrs)]
    check(got == want, "stored keys (split at the first separator, null without one), values, "
          "headers", got)

    p = run("consume", topic, "--partition", "1", "--from-beginning", "--max-messages", "4",
            "--print-key", "--print-offset", "--print-partition", "--print-headers")
    want = ["Partition:1\tOffset:0\tsrc:cli,n:2\tk1\tv1",
            "Partition:1\tOffset:1\tsrc:cli,n:2\tk2\tvalue:with:colons",
            "Partition:1\tOffset:2\tsrc:cli,n:2\tnull\tno separator here",
            "Partition:1\tOffset:3\tsrc:cli,n:2\t\tempty key"]
    check(p.returncode == 0 and p.stdout.splitlines() == want,
          "consume --print-partition/offset/headers/key, Kafka's field order", show(p))
    check("Processed a total of 4 messages" in p.stderr, "consume reports the count", show(p))

    p = run("consume", topic, "--partition", "1", "--offset", "2", "--max-messages", "2",
            "--print-key", "--key-separator", " => ", "--print-timestamp")
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 2 and
          re.fullmatch(r"CreateTime:\d{13} => null => no separator here", lines[0]) and
          re.fullmatch(r"CreateTime:\d{13} =>  => empty key", lines[1]),
          "consume --offset N --partition, --key-separator, --print-timestamp", show(p))

    p = run("consume", topic, "--from-beginning", "--max-messages", "1", "--partition", "1",
            "--format", "{topic}|{partition}|{offset}|{key}|{value}|{headers}|{{literal}}")
    check(p.returncode == 0 and
          p.stdout == "%s|1|0|k1|v1|src:cli,n:2|{literal}\n" % topic,
          "consume --format with every placeholder", show(p))
    p = run("consume", topic, "--from-beginning", "--max-messages", "1", "--partition", "1",
            "--format", "{timestamp}")
    check(p.returncode == 0 and re.fullmatch(r"\d{13}\n", p.stdout), "--format {timestamp}",
          show(p))

    # Kafka's console-consumer formatter properties work too.
    p = run("consume", topic, "--partition", "1", "--from-beginning", "--max-messages", "1",
            "--property", "print.key=true", "--property", "key.separator=,")
    check(p.returncode == 0 and p.stdout == "k1,v1\n", "consume --property print.key=true "
          "key.separator=, (Kafka's names)", show(p))


def test_all_partitions_and_codecs(topic):
    create_topic(topic, partitions=3, replication_factor=1)
    sent = set()
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        # Keyed, so that the partitioner spreads them (keyless ones stick to one partition).
        lines = ["%s-%d" % (codec, i) for i in range(60)]
        sent.update(lines)
        p = produce(topic, "".join("k%d\t%s\n" % (i, v) for i, v in enumerate(lines)),
                    "--key-separator", "\\t", "--compression", codec, "--acks", "1",
                    "--linger-ms", "20")
        check(p.returncode == 0 and "produced 60 messages to %s" % topic in p.stderr,
              "produce --compression %s --acks 1" % codec, show(p))
    p = run("consume", topic, "--from-beginning", "--timeout-ms", "3000", "--format",
            "{partition} {value}")
    got = [line.split(" ", 1) for line in p.stdout.splitlines()]
    values = [v for _, v in got]
    check(p.returncode == 0 and sorted(values) == sorted(sent),
          "consume (all partitions, assigned explicitly) reads back all %d messages" % len(sent),
          "%s\n%d of %d" % (show(p)[:500], len(values), len(sent)))
    check(len({part for part, _ in got}) > 1, "messages spread over several partitions",
          sorted({part for part, _ in got}))
    check("Processed a total of %d messages" % len(sent) in p.stderr,
          "consume --timeout-ms stops after the idle time with exit 0", show(p))


def test_file_and_acks0(topic, tmp):
    path = os.path.join(tmp, "input.txt")
    with open(path, "w") as f:
        f.write("from-file-1\r\nfrom-file-2\n\nlast-without-newline")
    p = run("produce", topic, "--file", path, "--partition", "0")
    check(p.returncode == 0 and "produced 4 messages" in p.stderr, "produce --file", show(p))
    p = produce(topic, "zero-1\nzero-2\n", "--acks", "0", "--partition", "0")
    check(p.returncode == 0 and "(acks=0: sent, not acknowledged)" in p.stderr,
          "produce --acks 0 says the messages were not acknowledged", show(p))
    p = run("consume", topic, "--partition", "0", "--from-beginning", "--timeout-ms", "2000")
    check(p.stdout.splitlines() == ["from-file-1", "from-file-2", "", "last-without-newline",
                                    "zero-1", "zero-2"],
          "file lines (CRLF stripped, empty line kept) and acks=0 messages read back", show(p))


def test_latest_by_default(topic):
    # Without --from-beginning only new messages arrive: produce markers until the consumer,
    # started first, has printed one.
    produce(topic, "old-1\nold-2\n", "--partition", "0")
    argv = [GREGOR, "consume", topic, "--bootstrap-server", CLUSTER.bootstrap,
            "--max-messages", "1", "--timeout-ms", "30000"]
    c = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        i = 0
        while c.poll() is None and time.monotonic() < deadline:
            produce(topic, "new-%d\n" % i, "--partition", "0")
            i += 1
            time.sleep(0.3)
        out, err = c.communicate(timeout=30)
    finally:
        if c.poll() is None:
            c.kill()
            c.wait()
    check(c.returncode == 0 and re.fullmatch(r"new-\d+\n", out),
          "consume without --from-beginning starts at the end (latest)",
          "exit %s\nstdout %r\nstderr %s" % (c.returncode, out, err))


def test_ctrl_c(topic):
    argv = [GREGOR, "consume", topic, "--bootstrap-server", CLUSTER.bootstrap, "--from-beginning"]
    c = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        line = c.stdout.readline()  # something arrived: it is running
        c.send_signal(signal.SIGINT)
        out, err = c.communicate(timeout=max(1, deadline - time.monotonic()))
    finally:
        if c.poll() is None:
            c.kill()
            c.wait()
    check(c.returncode == 0 and line and "Processed a total of" in err,
          "consume without limits runs until Ctrl-C, then exits 0",
          "exit %s, first line %r, stderr %s" % (c.returncode, line, err))


def test_auto_create():
    topic = unique_topic("cli-auto")
    p = produce(topic, "a\nb\n")
    check(p.returncode == 0 and "produced 2 messages to %s" % topic in p.stderr,
          "produce to a new topic: the broker auto-creates it", show(p))
    p = run("consume", topic, "--from-beginning", "--max-messages", "2", "--timeout-ms", "10000")
    check(p.returncode == 0 and sorted(p.stdout.splitlines()) == ["a", "b"],
          "consume the auto-created topic", show(p))


def test_delivery_errors(tmp):
    topic = unique_topic("cli-big")
    path = os.path.join(tmp, "big.txt")
    with open(path, "w") as f:
        f.write("small-1\n" + "x" * 1_500_000 + "\nsmall-2\n")
    # The client allows 2 MB; the broker's message.max.bytes (1 MiB) refuses line 2.
    p = run("produce", topic, "--file", path, "--property", "message.max.bytes=2000000")
    check(p.returncode == 1 and "line 2: not delivered: Broker: Message size too large" in p.stderr
          and "produced 2 messages to %s; 1 failed" % topic in p.stderr,
          "a message the broker refuses: reported with its line number, exit 1", show(p))
    # The client's own limit: refused before sending.
    p = run("produce", topic, "--file", path)
    check(p.returncode == 1 and "line 2: not sent:" in p.stderr and "message.max.bytes" in p.stderr,
          "a message over the client's limit: reported with its line number and a hint", show(p))


# ---- errors -------------------------------------------------------------------------------------

def expect_error(args, pattern, what, rc=None, stdin="x\n", bootstrap=True, max_seconds=20):
    p = run(*args, stdin=stdin, bootstrap=bootstrap)
    ok = p.returncode != 0 and re.search(pattern, p.stderr) is not None
    if rc is not None:
        ok = ok and p.returncode == rc
    ok = ok and p.elapsed < max_seconds
    check(ok, "%s (exit %d in %.1fs)" % (what, p.returncode, p.elapsed), show(p))


def test_errors(topic):
    # Unknown topic (consumers never create topics), invalid names.
    expect_error(["consume", "no-such-topic-xyz", "--timeout-ms", "100"],
                 r"unknown topic 'no-such-topic-xyz' at .*existing topics: .*%s" % re.escape(topic),
                 "consume: unknown topic, listing existing ones", rc=2)
    expect_error(["perf", "consume", "--topic", "no-such-topic-xyz"],
                 r"unknown topic 'no-such-topic-xyz'", "perf consume: unknown topic", rc=2)
    expect_error(["produce", "bad topic!"], r"invalid topic name 'bad topic!'",
                 "produce: invalid topic name", rc=2)

    # Bad flag values: CLI11 validation names the flag and the choices.
    expect_error(["produce", topic, "--acks", "2"], r"--acks: 2 not in \{all,-1,1,0\}",
                 "produce --acks 2")
    expect_error(["produce", topic, "--compression", "brotli"],
                 r"--compression: brotli not in \{none,gzip,snappy,lz4,zstd\}",
                 "produce --compression brotli")
    expect_error(["produce", topic, "--partition", "-3"], r"--partition", "produce --partition -3")
    expect_error(["produce", topic, "--linger-ms", "soon"], r"--linger-ms",
                 "produce --linger-ms soon")
    expect_error(["consume", topic, "--max-messages", "0"], r"--max-messages",
                 "consume --max-messages 0")
    expect_error(["perf", "produce", "--topic", topic, "--acks", "maybe", "-n", "10"], r"--acks",
                 "perf produce --acks maybe")
    # ... and the checks that need the cluster or the other flags.
    expect_error(["produce", topic, "--partition", "7"],
                 r"partition 7 does not exist: topic '%s' has 3 partition\(s\), 0\.\.2" % topic,
                 "produce --partition beyond the topic", rc=2)
    expect_error(["consume", topic, "--partition", "7"], r"partition 7 does not exist",
                 "consume --partition beyond the topic", rc=2)
    expect_error(["produce", topic, "--property", "no.such.property=1"],
                 r"bad --property no.such.property=1.*No such configuration property",
                 "produce --property with an unknown librdkafka property", rc=2)
    expect_error(["produce", topic, "--property", "linger.ms"], r"expected key=value",
                 "produce --property without =", rc=2)
    expect_error(["produce", topic, "--header", "novalue"], r"bad --header 'novalue'",
                 "produce --header without =", rc=2)
    expect_error(["produce", topic, "--file", "/nonexistent/input.txt"],
                 r"cannot open --file /nonexistent/input.txt", "produce --file missing", rc=2)
    expect_error(["consume", topic, "--group", "g1", "--partition", "0"],
                 r"--partition and --offset read without a group", "consume --group --partition",
                 rc=2)
    expect_error(["consume", topic, "--group", "g1", "--reset", "sideways"],
                 r"bad --reset 'sideways'", "consume --group --reset sideways", rc=2)
    expect_error(["consume", topic, "--reset", "earliest"], r"--reset applies to a consumer group",
                 "consume --reset without --group", rc=2)
    expect_error(["consume", topic, "--offset", "5"], r"--offset N needs --partition",
                 "consume --offset N without --partition", rc=2)
    expect_error(["consume", topic, "--offset", "five", "--partition", "0"],
                 r"bad --offset 'five'", "consume --offset five", rc=2)
    expect_error(["consume", topic, "--offset", "100000", "--partition", "1"],
                 r"offset 100000 is out of range for %s-1: it holds offsets 0\.\.3" % topic,
                 "consume --offset beyond the end", rc=2)
    expect_error(["consume", topic, "--from-beginning", "--offset", "earliest"],
                 r"either --from-beginning or --offset", "consume --from-beginning --offset",
                 rc=2)
    expect_error(["consume", topic, "--format", "{key} {nope}"],
                 r"unknown placeholder \{nope\}", "consume --format with an unknown placeholder",
                 rc=2)
    expect_error(["perf", "produce", "--topic", topic], r"--num-records N or --duration-s S",
                 "perf produce without an amount", rc=2)
    expect_error(["perf", "e2e", "--topic", topic, "-n", "10", "--record-size", "8"],
                 r"--record-size must be at least 16", "perf e2e --record-size 8", rc=2)

    # Unreachable cluster: a port nobody listens on. Fails fast with what to do.
    port, = pick_free_ports(1)
    dead = "127.0.0.1:%d" % port
    msg = r"no broker reachable at %s — is the cluster running\? try \./run\.sh" % re.escape(dead)
    for args in (["produce", topic], ["consume", topic], ["perf", "produce", "--topic", topic,
                                                          "-n", "10"],
                 ["perf", "consume", "--topic", topic], ["perf", "e2e", "--topic", topic,
                                                         "-n", "10"]):
        expect_error(args + ["--bootstrap-server", dead], msg, "%s: unreachable cluster" %
                     " ".join(args[:2]), rc=2, bootstrap=False, max_seconds=10)


# ---- perf ---------------------------------------------------------------------------------------

SUMMARY = (r"(\d+) records %s, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg %slatency, "
           r"[\d.]+ ms max %slatency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, "
           r"[\d.]+ ms 99\.9th\.")


def test_idempotence(topic):
    p = produce(topic, "i1\ni2\ni3\n", "--idempotence", "--partition", "0")
    check(p.returncode == 0 and "produced 3 messages to %s" % topic in p.stderr,
          "produce --idempotence: exit 0 and summary", show(p))
    leader = CLUSTER.partition_leaders(topic)[0]
    p = run("log", "dump", os.path.join(CLUSTER.brokers[leader].log_dir, "%s-0" % topic),
            bootstrap=False)
    m = re.search(r"count: 3 .*producerId: (\d+) producerEpoch: 0 baseSequence: 0 "
                  r"lastSequence: 2 isTransactional: false", p.stdout)
    check(p.returncode == 0 and m, "log dump shows the producer id, epoch and sequences", show(p))
    expect_error(["produce", topic, "--idempotence", "--acks", "1"],
                 r"--idempotence needs --acks all", "produce --idempotence --acks 1", rc=2)
    p = run("perf", "produce", "--topic", topic, "--num-records", "5000", "--record-size", "100",
            "--throughput", "-1", "--idempotence", timeout=120)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 0 and re.fullmatch(SUMMARY % ("sent", "", ""), last),
          "perf produce --idempotence", show(p))


def test_perf():
    topic = unique_topic("cli-perf")
    p = run("perf", "produce", "--topic", topic, "--num-records", "20000", "--record-size", "100",
            "--throughput", "8000", "--reporting-interval-ms", "500", timeout=120)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    m = re.fullmatch(SUMMARY % ("sent", "", ""), last)
    check(p.returncode == 0 and m and m.group(1) == "20000",
          "perf produce: summary with msgs/s, MB/s, latency percentiles", show(p))
    progress = [line for line in p.stdout.splitlines()[:-1]]
    check(len(progress) >= 2 and all(
        re.fullmatch(r"\d+ records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg "
                     r"latency, [\d.]+ ms max latency\.", line) for line in progress),
          "perf produce: periodic progress lines", p.stdout)
    rates = [float(re.search(r"([\d.]+) records/sec", line).group(1)) for line in progress[1:-1]]
    check(all(4000 < r < 12000 for r in rates), "perf produce --throughput 8000 is honoured",
          rates)

    p = run("perf", "consume", "--topic", topic, "--num-records", "20000", timeout=120)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 0 and re.fullmatch(
        r"20000 records consumed, 1\.91 MB, in [\d.]+ s: [\d.]+ records/sec \([\d.]+ MB/sec\)\.",
        last), "perf consume: reads N records and reports msgs/s and MB/s", show(p))
    p = run("perf", "consume", "--topic", topic, "--num-records", "30000", "--timeout-ms", "1500",
            timeout=120)
    check(p.returncode == 1 and "only 20000 of 30000 records arrived" in p.stderr,
          "perf consume: fewer records than asked within --timeout-ms is an error", show(p))

    p = run("perf", "e2e", "--topic", topic, "--num-records", "5000", "--record-size", "64",
            "--throughput", "2500", "--acks", "all", timeout=120)
    lines = p.stdout.strip().splitlines()
    ok = (p.returncode == 0 and len(lines) >= 2 and
          re.fullmatch(SUMMARY % ("sent", "produce ", "produce "), lines[-2]) and
          re.fullmatch(SUMMARY % ("received", "end-to-end ", "end-to-end "), lines[-1]) and
          lines[-1].startswith("5000 records received"))
    check(ok, "perf e2e: produce and end-to-end latency summaries, every record received", show(p))

    p = run("perf", "produce", "--topic", topic, "--duration-s", "1.5", "--record-size", "1024",
            "--compression", "lz4", "--linger-ms", "10", "--batch-size", "65536", "--acks", "1",
            "--property", "queue.buffering.max.kbytes=16384", timeout=120)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 0 and re.fullmatch(SUMMARY % ("sent", "", ""), last),
          "perf produce --duration-s with --compression/--linger-ms/--batch-size/--property",
          show(p))


def main():
    global GREGOR
    ap = argparse.ArgumentParser()
    ap.add_argument("--gregor", required=True)
    ap.add_argument("--brokers", type=int, default=3)
    args = ap.parse_args()
    GREGOR = os.path.abspath(args.gregor)
    tmp = tempfile.mkdtemp(prefix="gregor-cli-clients-")
    try:
        return run_all(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args, tmp):
    global CLUSTER
    test_help()
    with GregorCluster(num_brokers=args.brokers) as cluster:
        CLUSTER = cluster
        rf = min(3, args.brokers)
        topic = unique_topic("cli-orders")
        create_topic(topic, partitions=3, replication_factor=rf,
                     configs={"min.insync.replicas": str(min(2, rf))})
        try:
            test_keys_headers_partition(topic)
            test_all_partitions_and_codecs(unique_topic("cli-codecs"))
            test_file_and_acks0(unique_topic("cli-file"), tmp)
            test_latest_by_default(topic)
            test_ctrl_c(topic)
            test_auto_create()
            test_delivery_errors(tmp)
            test_errors(topic)
            test_perf()
            test_idempotence(unique_topic("cli-idempotent"))
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
