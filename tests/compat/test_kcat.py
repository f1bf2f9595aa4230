"""kcat 1.7.1 (librdkafka 2.0.2) against a Gregor cluster: metadata, produce with keys, headers and
NULL values, read-back, every compression codec, offsets, and a 6-partition topic over 3 brokers
(auto-created through Metadata with the brokers' num.partitions=6)."""

import json
import shutil
import subprocess
import time

import pytest

from cluster import librdkafka_stored_codec, unique_topic

KCAT = shutil.which("kcat") or "/usr/bin/kcat"

# Auto-created topics get 6 partitions (spread over the 3 brokers).
GREGOR_BROKER_OVERRIDES = {"num.partitions": "6"}

def kcat(cluster, *args, input=None, timeout=60, check=True):
    argv = [KCAT, "-b", cluster.bootstrap, "-m", "15"] + list(args)
    p = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" %
                             (" ".join(argv), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    return p


def produce(cluster, topic, lines, *args):
    """kcat -P (acks=all, librdkafka's default) of newline-separated `lines`; fails on any
    delivery error."""
    data = "".join(line + "\n" for line in lines).encode()
    p = kcat(cluster, "-P", "-t", topic, *args, input=data)
    assert b"ERROR" not in p.stderr, p.stderr.decode("utf-8", "replace")
    return p


def consume(cluster, topic, *args):
    """kcat -C -o beginning -e -J: every message as a dict (topic, partition, offset, key,
    payload, headers)."""
    p = kcat(cluster, "-C", "-t", topic, "-o", "beginning", "-e", "-J", *args)
    assert b"ERROR" not in p.stderr, p.stderr.decode("utf-8", "replace")
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]


def test_metadata_lists_the_three_brokers(cluster):
    p = kcat(cluster, "-L", "-J")
    md = json.loads(p.stdout)
    brokers = {b["id"]: b["name"] for b in md["brokers"]}
    assert brokers == {n: b.address for n, b in cluster.brokers.items()}
    assert md["controllerid"] in brokers
    # Human-readable form too.
    text = kcat(cluster, "-L").stdout.decode()
    assert "3 brokers:" in text
    for b in cluster.brokers.values():
        assert "broker %d at %s" % (b.node_id, b.address) in text


def test_produce_keys_headers_and_read_back(cluster):
    topic = unique_topic("kcat-keys")
    cluster.create_topic(topic, partitions=1)
    lines = ["key-%d:value-%d" % (i, i) for i in range(50)]
    produce(cluster, topic, lines, "-p", "0", "-K:", "-H", "h1=one", "-H", "h2=two")
    msgs = consume(cluster, topic)
    assert [m["offset"] for m in msgs] == list(range(50))
    assert [(m["key"], m["payload"]) for m in msgs] == [
        ("key-%d" % i, "value-%d" % i) for i in range(50)]
    for m in msgs:
        assert m["partition"] == 0
        assert m["headers"] == ["h1", "one", "h2", "two"]
    # A second run appends after the first.
    produce(cluster, topic, ["k:more"], "-p", "0", "-K:")
    msgs = consume(cluster, topic)
    assert len(msgs) == 51 and msgs[-1]["offset"] == 50 and msgs[-1]["payload"] == "more"
    assert not msgs[-1].get("headers")  # kcat -J leaves "headers" out when there are none


def test_null_values_and_keys(cluster):
    topic = unique_topic("kcat-null")
    cluster.create_topic(topic, partitions=1)
    # -Z: an empty value (or key) is sent as NULL.
    produce(cluster, topic, ["k1:v1", "k2:", ":v3"], "-p", "0", "-K:", "-Z")
    msgs = consume(cluster, topic)
    assert [(m["key"], m["payload"]) for m in msgs] == [("k1", "v1"), ("k2", None), (None, "v3")]
    # What the broker stored: real NULLs, not empty strings (in one batch, or more when kcat's
    # linger ran out between lines, as on a slow machine).
    records = [r for batch in cluster.fetch_batches(topic, 0) for r in batch["records"]]
    assert [(k, v) for _o, k, v, _h in records] == [(b"k1", b"v1"), (b"k2", None), (None, b"v3")]


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_compression_round_trip(cluster, codec):
    topic = unique_topic("kcat-z-" + codec)
    cluster.create_topic(topic, partitions=1)
    # Compressible values, so librdkafka does not fall back to an uncompressed batch because the
    # compressed one would be larger.
    lines = ["k%d:value-%d-%s" % (i, i, "abcdefgh" * 40) for i in range(200)]
    p = produce(cluster, topic, lines, "-p", "0", "-K:", "-z", codec, "-d", "msg")
    msgs = consume(cluster, topic)
    assert [(m["key"], m["payload"]) for m in msgs] == [tuple(l.split(":", 1)) for l in lines]
    assert [m["offset"] for m in msgs] == list(range(200))

    batches = cluster.fetch_batches(topic, 0)
    stored = {b["compression_type"] for b in batches}
    want = librdkafka_stored_codec(cluster.api_versions(), codec)
    assert stored == {want}, (
        "kcat -z %s: broker stored batches with compression %s, expected %d\nkcat debug:\n%s" %
        (codec, stored, want, p.stderr.decode("utf-8", "replace")[-3000:]))
    assert sum(len(b["records"]) for b in batches) == 200
    if want == 0 and codec != "none":
        # librdkafka says why it did not compress.
        assert b"Broker does not support compression type %s" % codec.encode() in p.stderr


def test_auto_created_six_partitions_per_partition_produce_and_consume(cluster):
    topic = unique_topic("kcat-6p")
    # Metadata with allow_auto_topic_creation (kcat -P) creates it with num.partitions=6; kcat
    # retries until the leaders are known.
    produce(cluster, topic, ["p0-warmup"], "-p", "0")
    leaders = cluster.wait_for_topic(topic, partitions=6)
    assert sorted(leaders) == list(range(6))
    assert set(leaders.values()) == {1, 2, 3}, leaders  # spread over the three brokers

    md = json.loads(kcat(cluster, "-L", "-J", "-t", topic).stdout)
    (t,) = md["topics"]
    assert t["topic"] == topic and len(t["partitions"]) == 6
    for part in t["partitions"]:
        assert part["leader"] == leaders[part["partition"]]
        assert [r["id"] for r in part["replicas"]] == [leaders[part["partition"]]]

    expected = {0: ["p0-warmup"]}
    for p in range(6):
        lines = ["p%d-%d" % (p, i) for i in range(20)]
        produce(cluster, topic, lines, "-p", str(p))
        expected.setdefault(p, []).extend(lines)
    for p in range(6):
        msgs = consume(cluster, topic, "-p", str(p))
        assert [m["payload"] for m in msgs] == expected[p], "partition %d" % p
        assert [m["offset"] for m in msgs] == list(range(len(expected[p])))
        assert all(m["partition"] == p for m in msgs)
        assert cluster.list_offset(topic, p) == len(expected[p])  # high watermark

    # The whole topic at once (one fetcher per leader broker).
    msgs = consume(cluster, topic)
    by_partition = {}
    for m in msgs:
        by_partition.setdefault(m["partition"], []).append(m["payload"])
    assert by_partition == expected

    # Random partitioner over all six.
    produce(cluster, topic, ["r%d" % i for i in range(60)], "-p", "-1")
    msgs = consume(cluster, topic)
    assert sorted(m["payload"] for m in msgs if m["payload"].startswith("r")) == sorted(
        "r%d" % i for i in range(60))


def test_consume_from_offsets(cluster):
    topic = unique_topic("kcat-offsets")
    cluster.create_topic(topic, partitions=1)
    produce(cluster, topic, ["m%d" % i for i in range(10)], "-p", "0")
    tail = kcat(cluster, "-C", "-t", topic, "-p", "0", "-o", "7", "-e", "-J").stdout
    assert [json.loads(l)["payload"] for l in tail.decode().splitlines()] == ["m7", "m8", "m9"]
    last2 = kcat(cluster, "-C", "-t", topic, "-p", "0", "-o", "-2", "-e", "-J").stdout
    assert [json.loads(l)["payload"] for l in last2.decode().splitlines()] == ["m8", "m9"]
    first3 = kcat(cluster, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", "3",
                  "-J").stdout
    assert [json.loads(l)["payload"] for l in first3.decode().splitlines()] == ["m0", "m1", "m2"]

    # -o s@<ms>: ListOffsets by timestamp. Messages produced after `mark` come back.
    mark = int(time.time() * 1000) + 1
    time.sleep(0.01)  # timestamps are milliseconds; make the next ones strictly later
    produce(cluster, topic, ["late%d" % i for i in range(3)], "-p", "0")
    late = kcat(cluster, "-C", "-t", topic, "-p", "0", "-o", "s@%d" % mark, "-e", "-J").stdout
    assert [json.loads(l)["payload"] for l in late.decode().splitlines()] == [
        "late0", "late1", "late2"]
