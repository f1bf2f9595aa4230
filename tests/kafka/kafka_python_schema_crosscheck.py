#!/usr/bin/python3
"""Cross-checks every generated Kafka message against kafka-python 2.0.2's protocol classes.

For every message of Gregor's schema (`kafka_codec_tool list`) and every version that both
Gregor's codec and kafka-python know, random messages are built from kafka-python's own schema
and checked in both directions:

  1. kafka-python encodes; Gregor decodes the bytes and must read the same values;
  2. Gregor re-encodes what it decoded; the bytes must equal kafka-python's exactly;
  3. kafka-python decodes Gregor's bytes and must read the same values, consuming them all.

Versions only one side knows are listed (kafka-python 2.0.2 has no flexible versions; those are
covered by the golden tests and kafka_python_protocol_crosscheck.py's hand-written checks).

Usage: kafka_python_schema_crosscheck.py --tool build/tests/kafka_codec_tool [--samples N]
Exits non-zero and lists every mismatch on failure.
"""

import argparse
import importlib
import io
import json
import pkgutil
import random
import subprocess
import sys

import kafka.protocol
from kafka.protocol.api import Request
from kafka.protocol.types import (Array, Boolean, Bytes, Int8, Int16, Int32, Int64, Schema,
                                  String)

# Values Gregor's codec rejects on purpose (the schema's values= checks), by field path.
ALLOWED = {("FetchRequest", "isolation_level"): (0, 1),
           ("ListOffsetsRequest", "isolation_level"): (0, 1)}

# Bugs of kafka-python 2.0.2's protocol classes, where Kafka's message JSONs (the truth, and
# Gregor's schema) say otherwise: (message, version) -> the kafka-python class (module, name) to
# check against instead, or None to skip that version (listed in the output).
KAFKA_PYTHON_BUGS = {
    # ProduceResponse_v8 is v7's schema: it lacks KIP-467's record_errors (per partition, after
    # log_start_offset) and error_message (nullable string), which ProduceResponse.json has from
    # v8 on. kafka-python never sends Produce v8, so it never reads one.
    ("ProduceResponse", 8): None,
    # OffsetRequest_v4 and _v5 declare current_leader_epoch as Int64; ListOffsetsRequest.json
    # has an int32 (KIP-320). kafka-python's own consumer sends ListOffsets v0/v1 only.
    ("ListOffsetsRequest", 4): None,
    ("ListOffsetsRequest", 5): None,
    # DescribeGroupsRequest_v3.RESPONSE_TYPE is DescribeGroupsResponse_v2, which lacks v3's
    # authorized_operations (int32 after members, per group); and DescribeGroupsResponse_v3
    # itself loses it too: a misplaced parenthesis makes it a third item of the ('groups', ...)
    # pair, which Schema's zip() drops. Its admin client asks for one group per request and
    # ignores unread bytes, so the 4 bytes go unnoticed there.
    ("DescribeGroupsResponse", 3): None,
    # ListGroupsRequest_v2 claims API_VERSION = 1 (so kafka-python sends v1 when it means v2, and
    # the version index below files it under v1, which has the same schema); its classes for v2
    # are otherwise right.
    ("ListGroupsRequest", 2): ("kafka.protocol.admin", "ListGroupsRequest_v2"),
    ("ListGroupsResponse", 2): ("kafka.protocol.admin", "ListGroupsResponse_v2"),
    # GroupCoordinatorResponse_v1 lacks throttle_time_ms, which FindCoordinatorResponse.json has
    # first from v1 on. kafka-python itself only ever sends v0 and has no right class for v1.
    ("FindCoordinatorResponse", 1): None,
}


def kafka_python_classes():
    """{(api_key, version, is_request): class} for every Request/Response kafka-python has."""
    classes = {}
    for info in pkgutil.iter_modules(kafka.protocol.__path__):
        module = importlib.import_module("kafka.protocol." + info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Request) and hasattr(obj, "API_KEY") \
                    and isinstance(getattr(obj, "API_VERSION", None), int) \
                    and hasattr(obj, "SCHEMA"):
                classes[(obj.API_KEY, obj.API_VERSION, True)] = obj
                classes[(obj.API_KEY, obj.API_VERSION, False)] = obj.RESPONSE_TYPE
    return classes


class Tool:
    def __init__(self, path):
        self.path = path

    def run(self, args, stdin):
        p = subprocess.run([self.path] + args, input=stdin.encode(), capture_output=True,
                           timeout=60)
        if p.returncode != 0:
            return None, p.stderr.decode(errors="replace").strip()
        return p.stdout.decode(), None

    def messages(self):
        out, err = self.run(["list"], "")
        if out is None:
            raise RuntimeError(err)
        result = []
        for line in out.splitlines():
            name, key, kind, low, high = line.split()
            result.append((name, int(key), kind == "request", int(low), int(high)))
        return result


def has_bare_string(kind):
    """kafka-python 2.0.2's FetchRequest v7-v11 declare the forgotten topics' names as `String`,
    the class rather than an instance, so it can encode those arrays only when they are empty."""
    if kind is String:
        return True
    if isinstance(kind, Array):
        return has_bare_string(kind.array_of)
    if isinstance(kind, Schema):
        return any(has_bare_string(f) for f in kind.fields)
    return False


def random_value(rng, kind, message, field):
    if isinstance(kind, Array):
        if has_bare_string(kind.array_of):
            return []
        return [random_value(rng, kind.array_of, message, field) for _ in range(rng.randint(0, 3))]
    if isinstance(kind, Schema):
        return tuple(random_value(rng, t, message, n) for n, t in zip(kind.names, kind.fields))
    if (message, field) in ALLOWED:
        return rng.choice(ALLOWED[(message, field)])
    if kind is Int8:
        return rng.randint(-128, 127)
    if kind is Int16:
        return rng.randint(-32768, 32767)
    if kind is Int32:
        return rng.randint(-2**31, 2**31 - 1)
    if kind is Int64:
        return rng.randint(-2**63, 2**63 - 1)
    if kind is Boolean:
        return rng.random() < 0.5
    if isinstance(kind, String):
        return "".join(rng.choice("abcxyz._-0123") for _ in range(rng.randint(0, 12)))
    if kind is Bytes:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
    raise TypeError("kafka-python type %r is not handled here" % (kind,))


def flat_size(schema):
    """Fields of a kafka-python Schema once its inline (non-array) structs are spread out."""
    return sum(flat_size(t) if isinstance(t, Schema) else 1 for t in schema.fields)


def same(kind, expected, actual, path, problems):
    """Compares kafka-python's value with Gregor's JSON, guided by kafka-python's schema."""
    if isinstance(kind, Array):
        if not isinstance(actual, list) or len(actual) != len(expected):
            problems.append("%s: %r vs %r" % (path, expected, actual))
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            # Kafka's schema has structs of one field where kafka-python has a bare value
            # (Metadata v0-4 topics): the same bytes on the wire.
            if not isinstance(kind.array_of, Schema) and isinstance(a, dict) and len(a) == 1:
                a = next(iter(a.values()))
            same(kind.array_of, e, a, "%s[%d]" % (path, i), problems)
        return
    if isinstance(kind, Schema):
        # kafka-python sometimes groups fields in an inline struct where Kafka's schema has
        # them side by side (CreatePartitions' new_partitions = count + assignment): the same
        # bytes on the wire, so such a struct takes as many of Gregor's fields as it has.
        if not isinstance(actual, dict) or len(actual) != flat_size(kind):
            problems.append("%s: %d fields in kafka-python, Gregor has %r" %
                            (path, flat_size(kind), actual))
            return
        items = list(actual.items())
        for (name, t), e in zip(zip(kind.names, kind.fields), expected):
            if isinstance(t, Schema):
                n = flat_size(t)
                group, items = dict(items[:n]), items[n:]
                same(t, e, group, "%s.(%s)" % (path, name), problems)
                continue
            (ours, a), items = items[0], items[1:]
            same(t, e, a, "%s.%s(%s)" % (path, ours, name), problems)
        return
    if kind is Bytes:
        if actual != expected.hex():
            problems.append("%s: %s vs %s" % (path, expected.hex(), actual))
        return
    if expected != actual:
        problems.append("%s: %r vs %r" % (path, expected, actual))


def check_version(tool, rng, name, cls, version, samples, failures):
    checked = 0
    for _ in range(samples):
        values = random_value(rng, cls.SCHEMA, name, "")
        kp_bytes = cls.SCHEMA.encode(values)
        decoded, err = tool.run(["decode", name, str(version)], kp_bytes.hex())
        if decoded is None:
            failures.append("%s v%d: Gregor cannot decode kafka-python's bytes %s: %s" %
                            (name, version, kp_bytes.hex(), err))
            continue
        message = json.loads(decoded)
        problems = []
        same(cls.SCHEMA, values, message, name, problems)
        for p in problems:
            failures.append("%s v%d: kafka-python -> Gregor: %s" % (name, version, p))
        encoded, err = tool.run(["encode", name, str(version)], decoded)
        if encoded is None:
            failures.append("%s v%d: Gregor cannot encode %s: %s" % (name, version, decoded, err))
            continue
        ours = bytes.fromhex(encoded.strip())
        if ours != kp_bytes:
            failures.append("%s v%d: Gregor's bytes %s differ from kafka-python's %s" %
                            (name, version, ours.hex(), kp_bytes.hex()))
        buf = io.BytesIO(ours)
        back = cls.SCHEMA.decode(buf)
        if buf.read() != b"":
            failures.append("%s v%d: kafka-python left bytes of Gregor's encoding" % (name, version))
        if [list(x) if isinstance(x, tuple) else x for x in back] != \
                [list(x) if isinstance(x, tuple) else x for x in values] and \
                cls.SCHEMA.encode(back) != kp_bytes:
            failures.append("%s v%d: Gregor -> kafka-python: %r vs %r" %
                            (name, version, back, values))
        checked += 1
    return checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    tool = Tool(args.tool)
    rng = random.Random(args.seed)
    classes = kafka_python_classes()
    failures = []
    covered, uncovered = [], []
    total = 0
    skipped = []
    for name, key, is_request, low, high in tool.messages():
        for version in range(low, high + 1):
            cls = classes.get((key, version, is_request))
            if (name, version) in KAFKA_PYTHON_BUGS:
                replacement = KAFKA_PYTHON_BUGS[(name, version)]
                if replacement is None:
                    skipped.append("%s v%d" % (name, version))
                    continue
                module, class_name = replacement
                cls = getattr(importlib.import_module(module), class_name)
            if cls is None:
                uncovered.append("%s v%d" % (name, version))
                continue
            total += check_version(tool, rng, name, cls, version, args.samples, failures)
            covered.append("%s v%d" % (name, version))
    print("kafka-python schema cross-check (seed %d): %d messages x versions, %d samples" %
          (args.seed, len(covered), total))
    print("  covered: " + ", ".join(covered))
    if uncovered:
        print("  not in kafka-python 2.0.2: " + ", ".join(uncovered))
    if skipped:
        print("  skipped (kafka-python 2.0.2 bugs, KAFKA_PYTHON_BUGS): " + ", ".join(skipped))
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
