#!/usr/bin/env python3
"""End-to-end checks of `gregor log dump` on segment files built by kafka-python and by Gregor's
own encoder: valid dumps, --records output, corruption reported with its byte position and exit
status 1, unusable input with exit status 2."""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from kafka.record.default_records import DefaultRecordBatchBuilder

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def kafka_python_batch(base_offset, n, codec=0, epoch=0):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=False,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                        batch_size=1 << 20)
    for i in range(n):
        builder.append(i, timestamp=1700000000000 + i, key=b"key-%d" % i,
                       value=b"value-%d" % (base_offset + i), headers=[("h", b"hv")])
    buf = bytearray(builder.build())
    struct.pack_into(">q", buf, 0, base_offset)  # outside the CRC, as a broker does
    struct.pack_into(">i", buf, 12, epoch)
    return bytes(buf)


def run(gregor, *args):
    p = subprocess.run([gregor, "log", "dump", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gregor", required=True)
    ap.add_argument("--batch-tool", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="gregor-logdump-")
    try:
        part = os.path.join(tmp, "orders-0")
        os.makedirs(part)
        seg0 = os.path.join(part, "%020d.log" % 0)
        seg1 = os.path.join(part, "%020d.log" % 30)
        with open(seg0, "wb") as f:
            offset = 0
            for codec in (0, 1, 2, 3, 4):  # none gzip snappy lz4 zstd
                f.write(kafka_python_batch(offset, 6, codec, epoch=2))
                offset += 6
        # The second segment: a batch from Gregor's own encoder.
        lines = "\n".join(json.dumps({"key": b"gk".hex(), "value": ("gv-%d" % i).encode().hex(),
                                      "timestamp": 1700000001000 + i, "headers": []}) for i in range(4))
        built = os.path.join(tmp, "gregor.batch")
        p = subprocess.run([args.batch_tool, "build", "--compression", "none", "--base-offset", "30", built],
                           input=lines, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "batch_tool build succeeded (%s)" % p.stderr.strip())
        shutil.copy(built, seg1)

        code, out, err = run(args.gregor, part)
        check(code == 0, "dump of a valid partition directory exits 0 (got %d, %s)" % (code, err.strip()))
        check(out.count("baseOffset:") == 6, "six batches listed")
        for name in ("none", "gzip", "snappy", "lz4", "zstd"):
            check("compression: " + name in out, "compression %s shown" % name)
        check("partitionLeaderEpoch: 2" in out, "leader epoch shown")
        check("baseOffset: 30 lastOffset: 33 count: 4" in out, "Gregor-built batch shown")
        check("all valid" in out, "summary says all valid")

        code, out, err = run(args.gregor, part, "--records")
        check(code == 0, "--records exits 0")
        check("key: key-5 payload: value-29" in out, "records of the zstd batch decoded")
        check("headers: [h=hv]" in out, "headers printed")
        check("| offset: 33 " in out and "payload: gv-3" in out, "records of the Gregor batch")

        # Corrupt one byte inside the third batch's payload.
        data = bytearray(open(seg0, "rb").read())
        first = struct.unpack_from(">i", data, 8)[0] + 12
        second = struct.unpack_from(">i", data, first + 8)[0] + 12
        third_start = first + second
        data[third_start + 70] ^= 0xFF
        corrupt_dir = os.path.join(tmp, "corrupt-0")
        os.makedirs(corrupt_dir)
        with open(os.path.join(corrupt_dir, "%020d.log" % 0), "wb") as f:
            f.write(data)
        code, out, err = run(args.gregor, corrupt_dir)
        check(code == 1, "corrupt segment exits 1 (got %d)" % code)
        check("corrupt at byte position %d" % third_start in err, "corruption reported at position %d (%s)" % (third_start, err.strip()))
        check("CRC mismatch" in out, "CRC mismatch named")

        # A torn tail: the last batch cut short.
        torn = os.path.join(tmp, "torn-0")
        os.makedirs(torn)
        good = open(seg0, "rb").read()
        with open(os.path.join(torn, "%020d.log" % 0), "wb") as f:
            f.write(good[:-10])
        code, out, err = run(args.gregor, os.path.join(torn, "%020d.log" % 0))
        check(code == 1, "torn tail exits 1")
        check("runs past the end of the file" in err, "torn tail explained")

        # A bad index entry.
        with open(os.path.join(part, "%020d.index" % 0), "wb") as f:
            f.write(struct.pack(">II", 3, 1))  # position 1 is not a batch start
        code, out, err = run(args.gregor, part)
        check(code == 1, "bad index exits 1")
        check("does not point at a batch" in err, "bad index explained")
        code, out, err = run(args.gregor, part, "--no-verify-index")
        check(code == 0, "--no-verify-index skips it")

        code, out, err = run(args.gregor, os.path.join(tmp, "nope"))
        check(code == 2 and "no such file" in err, "missing path exits 2 with a message")
        code, out, err = run(args.gregor, built)
        check(code == 2 and "not a segment file" in err, "non-segment file exits 2")
        p = subprocess.run([args.gregor, "log", "dump", "--help"], capture_output=True, text=True)
        check(p.returncode == 0 and "Example:" in p.stdout, "--help shows an example")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
