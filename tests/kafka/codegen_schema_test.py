#!/usr/bin/python3
"""The Kafka codec generator refuses a malformed schema with the file and line, and writes
nothing (common/kafka/codegen). Each case is a small schema directory in a scratch folder.

Usage: codegen_schema_test.py --codegen common/kafka/codegen/kafka_codegen.py
"""

import argparse
import os
import subprocess
import sys
import tempfile

API_KEYS = "Metadata 3 9\nApiVersions 18 3\n"

GOOD = """api Metadata versions=0-9
request MetadataRequest
  topics  []MetadataRequestTopic nullable=1+
    name  string
response MetadataResponse
  throttle_time_ms  int32 versions=3+
  extra  int64 versions=9+ tag=0 default=-1
"""

# (what, schema text, expected words in the error)
BAD = [
    ("unknown type", GOOD.replace("int32 versions=3+", "int33 versions=3+"),
     ["metadata.api:6", "unknown type 'int33'"]),
    ("unknown attribute", GOOD.replace("nullable=1+", "nulable=1+"),
     ["metadata.api:3", "unknown attribute 'nulable'"]),
    ("bad version range", GOOD.replace("versions=3+", "versions=5-3"),
     ["metadata.api:6", "empty version range"]),
    ("field in no version", GOOD.replace("versions=3+", "versions=12+"),
     ["metadata.api:6", "exists in none of the API's versions"]),
    ("tag outside flexible versions", GOOD.replace("versions=9+ tag=0", "versions=8+ tag=0"),
     ["metadata.api:7", "only in flexible versions"]),
    ("duplicate tag", GOOD + "  more  int32 versions=9+ tag=0\n",
     ["metadata.api:8", "tag 0 used twice"]),
    ("duplicate field", GOOD + "  extra  int32\n", ["metadata.api:8", "field 'extra' twice"]),
    ("nullable integer", GOOD.replace("int32 versions=3+", "int32 versions=3+ nullable"),
     ["metadata.api:6", "only strings, bytes, records and arrays are nullable"]),
    ("unknown api", GOOD.replace("api Metadata", "api Metadata2"),
     ["metadata.api:1", "not in api_keys.txt"]),
    ("no response", GOOD.split("response")[0], ["want an api line, a request and a response"]),
    ("untagged struct field", GOOD + "  leader  Leader versions=9+\n    id  int32\n",
     ["metadata.api:8", "a struct field must be tagged"]),
]


def run(codegen, schema_text):
    with tempfile.TemporaryDirectory() as tmp:
        schema = os.path.join(tmp, "schema")
        out = os.path.join(tmp, "out")
        os.makedirs(schema)
        with open(os.path.join(schema, "api_keys.txt"), "w") as f:
            f.write(API_KEYS)
        with open(os.path.join(schema, "metadata.api"), "w") as f:
            f.write(schema_text)
        p = subprocess.run([sys.executable, codegen, "--schema", schema, "--out", out],
                           capture_output=True, text=True, timeout=60)
        wrote = os.path.exists(out)
        return p.returncode, p.stderr, wrote


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codegen", required=True)
    args = parser.parse_args()
    failures = []
    rc, err, wrote = run(args.codegen, GOOD)
    if rc != 0 or not wrote:
        failures.append("a good schema was refused: %s" % err.strip())
    for what, text, words in BAD:
        rc, err, wrote = run(args.codegen, text)
        if rc == 0:
            failures.append("%s: accepted" % what)
        elif wrote:
            failures.append("%s: refused but files were written" % what)
        elif not all(w in err for w in words):
            failures.append("%s: the error %r lacks %r" % (what, err.strip(), words))
        else:
            print("ok: %s: %s" % (what, err.strip()))
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
