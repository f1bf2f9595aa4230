#!/usr/bin/python3
"""Cross-checks Gregor's RecordBatch v2 codec against kafka-python 2.0.2, for every codec.

  (a) batches built by kafka-python (keys, null keys, null values, headers with null values,
      binary bytes, a 200 KB value; several batches with different base offsets in one file)
      are decoded with `batch_tool decode` and every field is compared;
  (b) batches built with `batch_tool build` are read back with kafka-python's
      DefaultRecordBatch (CRC, header fields, every record);
  (c) for the same records, both encoders produce the same bytes: identical batches when
      uncompressed, identical header fields and identical decompressed record sections when
      compressed (compressed bytes legitimately differ between compressor implementations);
  (d) a corrupted kafka-python batch makes `batch_tool decode` fail.

Run: kafka_python_crosscheck.py --batch-tool PATH [--gregor PATH]  (--gregor is accepted and
currently unused). Exits non-zero on any mismatch or if a codec library is missing.
"""

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import kafka
import kafka.codec
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

CODECS = [
    ("none", DefaultRecordBatch.CODEC_NONE, None),
    ("gzip", DefaultRecordBatch.CODEC_GZIP, kafka.codec.has_gzip),
    ("snappy", DefaultRecordBatch.CODEC_SNAPPY, kafka.codec.has_snappy),
    ("lz4", DefaultRecordBatch.CODEC_LZ4, kafka.codec.has_lz4),
    ("zstd", DefaultRecordBatch.CODEC_ZSTD, kafka.codec.has_zstd),
]
DECODERS = {
    DefaultRecordBatch.CODEC_GZIP: kafka.codec.gzip_decode,
    DefaultRecordBatch.CODEC_SNAPPY: kafka.codec.snappy_decode,
    DefaultRecordBatch.CODEC_LZ4: kafka.codec.lz4_decode,
    DefaultRecordBatch.CODEC_ZSTD: kafka.codec.zstd_decode,
}
HEADER = DefaultRecordBatch.HEADER_STRUCT  # the 61-byte batch header
HEADER_SIZE = HEADER.size
BASE_TIMESTAMP = 1_700_000_000_000


class Checker:
    def __init__(self):
        self.checks = 0
        self.failures = []

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures.append(what)
            print("  MISMATCH: " + what)
        return ok

    def equal(self, got, want, what):
        if got == want:
            self.checks += 1
            return True
        return self.check(False, "%s: got %s, want %s" % (what, short(got), short(want)))


def short(value):
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "...(%d chars)" % len(text)


def record_sets(seed):
    """A few lists of records (dicts) that together cover every case. Values are compressible
    so that kafka-python really compresses (it falls back to none when that does not help)."""
    rng = random.Random(seed)
    all_bytes = bytes(range(256))
    filler = b"the quick brown fox jumps over the lazy dog " * 4

    def rec(key, value, ts_delta=0, headers=()):
        return {"key": key, "value": value, "timestamp": BASE_TIMESTAMP + ts_delta,
                "headers": list(headers)}

    first = [
        rec(b"key-0", b"value-0 " + filler),
        rec(None, b"null key " + filler, 5),
        rec(b"tombstone", None, 3),
        rec(b"", b"", -10),  # empty (not null); timestamp below the first record's
        rec(all_bytes, all_bytes + filler, 7,
            [("h1", b"v1"), ("null-value", None), ("", b""), ("bin", all_bytes),
             ("ключ-ü", "значение".encode("utf-8"))]),
        rec(None, None, 1, [("only-null", None)]),
    ]
    first += [rec(("k%d" % i).encode(), filler + bytes([i]), i, [("i", str(i).encode())])
              for i in range(30)]
    large = bytes(rng.choice(b"abcdefgh") for _ in range(200 * 1024))
    second = [rec(b"large", large, 100, [("size", b"200k")]), rec(b"after-large", filler, 101)]
    third = [rec(b"single", filler, -5000)]
    return [first, second, third]


def build_with_kafka_python(codec, records):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=False, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, batch_size=16 * 1024 * 1024)
    for i, r in enumerate(records):
        meta = builder.append(i, timestamp=r["timestamp"], key=r["key"], value=r["value"],
                              headers=r["headers"])
        if meta is None:
            raise RuntimeError("kafka-python refused record %d" % i)
    return bytes(builder.build())


def set_base_offset(batch, base_offset):
    # baseOffset is outside the CRC: kafka-python always writes 0 (the broker assigns it).
    return struct.pack(">q", base_offset) + batch[8:]


def hex_or_none(b):
    return None if b is None else b.hex()


def expected_json_records(records, base_offset, compression):
    return [{
        "offset": base_offset + i,
        "timestamp": r["timestamp"],
        "key": hex_or_none(r["key"]),
        "value": hex_or_none(r["value"]),
        "headers": [[k.encode("utf-8").hex(), hex_or_none(v)] for k, v in r["headers"]],
        "batch_base_offset": base_offset,
        "compression": compression,
    } for i, r in enumerate(records)]


def run_tool(args, stdin=None):
    return subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)


def compare_record_lists(c, got, want, what):
    if not c.equal(len(got), len(want), what + ": record count"):
        return
    for i, (g, w) in enumerate(zip(got, want)):
        for field in w:
            c.equal(g.get(field), w[field], "%s: record %d %s" % (what, i, field))
        c.equal(sorted(g.keys()), sorted(w.keys()), "%s: record %d fields" % (what, i))


def check_kafka_python_to_gregor(c, tool, tmp, name, codec):
    """(a): kafka-python builds, batch_tool decodes."""
    base_offsets = [0, 1000, 123_456_789_012]
    data = b""
    want = []
    for base_offset, records in zip(base_offsets, record_sets(1)):
        batch = set_base_offset(build_with_kafka_python(codec, records), base_offset)
        attributes = HEADER.unpack_from(batch)[5]
        # Make sure the codec under test is really exercised.
        c.equal(attributes & 0x07, codec, "(a) %s: kafka-python batch compression" % name)
        data += batch
        want += expected_json_records(records, base_offset, name)
    path = os.path.join(tmp, "kafka_python_%s.bin" % name)
    with open(path, "wb") as f:
        f.write(data)
    result = run_tool([tool, "decode", path])
    if not c.check(result.returncode == 0, "(a) %s: batch_tool decode exited %d: %s" % (
            name, result.returncode, result.stderr.decode(errors="replace").strip())):
        return
    got = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    compare_record_lists(c, got, want, "(a) %s" % name)


def check_gregor_to_kafka_python(c, tool, tmp, name, codec):
    """(b): batch_tool builds, kafka-python reads."""
    for index, (base_offset, records) in enumerate(zip([0, 77, 9_000_000_000], record_sets(2))):
        what = "(b) %s batch %d" % (name, index)
        batch = gregor_build(c, tool, tmp, name, base_offset, records, what)
        if batch is None:
            continue
        fields = HEADER.unpack_from(batch)
        (base, length, leader_epoch, magic, _crc, attributes, last_offset_delta, first_ts, max_ts,
         producer_id, producer_epoch, base_sequence, count) = fields
        c.equal(base, base_offset, what + ": baseOffset")
        c.equal(length, len(batch) - 12, what + ": batchLength")
        c.equal(leader_epoch, 0, what + ": partitionLeaderEpoch")
        c.equal(magic, 2, what + ": magic")
        c.equal(attributes, codec, what + ": attributes")
        c.equal(last_offset_delta, len(records) - 1, what + ": lastOffsetDelta")
        c.equal(first_ts, records[0]["timestamp"], what + ": baseTimestamp")
        c.equal(max_ts, max(r["timestamp"] for r in records), what + ": maxTimestamp")
        c.equal((producer_id, producer_epoch, base_sequence), (-1, -1, -1),
                what + ": producer fields")
        c.equal(count, len(records), what + ": recordsCount")

        reader = DefaultRecordBatch(batch)
        c.check(reader.validate_crc(), what + ": kafka-python validate_crc() is False")
        c.equal(reader.compression_type, codec, what + ": compression_type")
        c.equal(reader.base_offset, base_offset, what + ": base_offset")
        try:
            got = [{"offset": r.offset, "timestamp": r.timestamp, "key": r.key, "value": r.value,
                    "headers": list(r.headers)} for r in reader]
        except Exception as e:  # kafka-python raises CorruptRecordException and others
            c.check(False, "%s: kafka-python failed to read the records: %r" % (what, e))
            continue
        want = [{"offset": base_offset + i, "timestamp": r["timestamp"], "key": r["key"],
                 "value": r["value"], "headers": r["headers"]} for i, r in enumerate(records)]
        compare_record_lists(c, got, want, what)


def gregor_build(c, tool, tmp, name, base_offset, records, what):
    lines = "".join(json.dumps({
        "key": hex_or_none(r["key"]),
        "value": hex_or_none(r["value"]),
        "timestamp": r["timestamp"],
        "headers": [[k.encode("utf-8").hex(), hex_or_none(v)] for k, v in r["headers"]],
    }) + "\n" for r in records)
    path = os.path.join(tmp, "gregor_%s_%d.bin" % (name, base_offset))
    result = run_tool([tool, "build", "--compression", name, "--base-offset", str(base_offset),
                       path], stdin=lines.encode())
    if not c.check(result.returncode == 0, "%s: batch_tool build exited %d: %s" % (
            what, result.returncode, result.stderr.decode(errors="replace").strip())):
        return None
    with open(path, "rb") as f:
        return f.read()


def check_same_encoding(c, tool, tmp, name, codec):
    """(c): both encoders agree byte for byte on everything but the compressed bytes."""
    for index, records in enumerate(record_sets(3)):
        what = "(c) %s batch %d" % (name, index)
        theirs = build_with_kafka_python(codec, records)
        ours = gregor_build(c, tool, tmp, name, 0, records, what)
        if ours is None:
            continue
        if codec == DefaultRecordBatch.CODEC_NONE:
            c.check(ours == theirs, what + ": uncompressed batches differ")
            continue
        their_fields = list(HEADER.unpack_from(theirs))
        our_fields = list(HEADER.unpack_from(ours))
        for fields in (their_fields, our_fields):
            fields[1] = fields[4] = None  # batchLength and CRC depend on the compressed bytes
        c.equal(our_fields, their_fields, what + ": header fields")
        decode = DECODERS[codec]
        try:
            same = decode(ours[HEADER_SIZE:]) == decode(theirs[HEADER_SIZE:])
        except Exception as e:  # each codec library raises its own errors
            c.check(False, "%s: kafka-python cannot decompress: %r" % (what, e))
            continue
        c.check(same, what + ": decompressed record sections differ")


def check_corruption_detected(c, tool, tmp, name, codec):
    """(d): a flipped byte inside the CRC-covered range is reported."""
    batch = bytearray(build_with_kafka_python(codec, record_sets(4)[0]))
    batch[len(batch) // 2] ^= 0x40
    path = os.path.join(tmp, "corrupt_%s.bin" % name)
    with open(path, "wb") as f:
        f.write(batch)
    result = run_tool([tool, "decode", path])
    c.check(result.returncode == 1 and result.stderr.strip() != b"",
            "(d) %s: batch_tool decode of a corrupt batch exited %d (stderr %r), want 1" % (
                name, result.returncode, result.stderr[:200]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-tool", required=True)
    parser.add_argument("--gregor", help="the gregor CLI (not used yet)")
    args = parser.parse_args()

    print("kafka-python %s from %s" % (kafka.__version__, os.path.dirname(kafka.__file__)))
    missing = [name for name, _, has in CODECS if has is not None and not has()]
    if missing:
        print("FAIL: kafka-python lacks codec libraries for: %s (install python3-snappy, "
              "python3-lz4, python3-zstandard)" % ", ".join(missing))
        return 1

    c = Checker()
    with tempfile.TemporaryDirectory(prefix="gregor_crosscheck_") as tmp:
        for name, codec, _ in CODECS:
            before = (c.checks, len(c.failures))
            for step in (check_kafka_python_to_gregor, check_gregor_to_kafka_python,
                         check_same_encoding, check_corruption_detected):
                step(c, args.batch_tool, tmp, name, codec)
            failed = len(c.failures) - before[1]
            print("%-6s %s (%d checks%s)" % (name, "ok" if failed == 0 else "FAILED",
                                            c.checks - before[0],
                                            "" if failed == 0 else ", %d mismatches" % failed))
    if c.failures:
        print("FAIL: %d of %d checks failed" % (len(c.failures), c.checks))
        return 1
    print("PASS: %d checks, kafka-python and Gregor agree for none, gzip, snappy, lz4 and zstd"
          % c.checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
