#!/usr/bin/python3
"""Cross-checks Gregor's Kafka codec against kafka-python 2.0.2 (Debian's python3-kafka).

(i)  Requests are built with kafka-python's own protocol classes and framed by its
     KafkaProtocol (exactly the bytes it puts on the wire, size prefix and header v1 included);
     `kafka_codec_tool decode-request` must read the same fields.
(ii) Responses are encoded by `kafka_codec_tool encode-response` and parsed by kafka-python's
     KafkaProtocol.receive_bytes (its real response path: size, correlation id, Response class),
     and again strictly, requiring every byte of the frame to be consumed.

kafka-python has no ApiVersions v3 classes (only librdkafka sends v3), so that request and
response are encoded/decoded here by hand from the spec.

Usage: kafka_python_protocol_crosscheck.py --tool build/tests/kafka_codec_tool
Exits non-zero and lists every mismatch on failure.
"""

import argparse
import io
import json
import struct
import subprocess
import sys

from kafka.conn import BrokerConnection
from kafka.protocol.admin import (ApiVersionRequest, ApiVersionResponse, CreateTopicsRequest,
                                  CreateTopicsResponse, DeleteTopicsRequest,
                                  DeleteTopicsResponse)
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.offset import OffsetRequest, OffsetResponse
from kafka.protocol.parser import KafkaProtocol
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

FAILURES = []
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)


def check_eq(actual, expected, what):
    check(actual == expected, "%s: expected %r, got %r" % (what, expected, actual))


class Tool:
    def __init__(self, path):
        self.path = path

    def decode_request(self, frame):
        p = subprocess.run([self.path, "decode-request"], input=frame, capture_output=True,
                           timeout=60)
        if p.returncode != 0:
            return None, p.stderr.decode(errors="replace").strip()
        return json.loads(p.stdout), None

    def encode_response(self, api_key, version, correlation_id, obj):
        p = subprocess.run([self.path, "encode-response", str(api_key), str(version),
                            str(correlation_id)],
                           input=json.dumps(obj).encode(), capture_output=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("encode-response failed: " + p.stderr.decode(errors="replace"))
        return p.stdout


def make_batch(values, timestamp=1700000000000):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                        batch_size=1 << 20)
    for i, v in enumerate(values):
        builder.append(i, timestamp=timestamp + i, key=b"k%d" % i, value=v, headers=[])
    return bytes(builder.build())


# ------------------------------------------------------------------------------------------------
# (i) requests built by kafka-python, decoded by Gregor


def kafka_python_frame(request, correlation_id, client_id="kafka-python-2.0.2"):
    proto = KafkaProtocol(client_id=client_id)
    proto.send_request(request, correlation_id=correlation_id)
    return proto.send_bytes()


def check_request(tool, name, request, expected_body, correlation_id=7,
                  client_id="kafka-python-2.0.2", frame=None):
    if frame is None:
        frame = kafka_python_frame(request, correlation_id, client_id)
    decoded, err = tool.decode_request(frame)
    if decoded is None:
        check(False, "%s: decode-request failed: %s" % (name, err))
        return
    api_key = request.API_KEY if request is not None else decoded["api_key"]
    api_version = request.API_VERSION if request is not None else decoded["api_version"]
    check_eq(decoded["api_key"], api_key, name + " api_key")
    check_eq(decoded["api_version"], api_version, name + " api_version")
    check_eq(decoded["correlation_id"], correlation_id, name + " correlation_id")
    check_eq(decoded["client_id"], client_id, name + " client_id")
    for key, value in expected_body.items():
        check_eq(decoded["request"].get(key), value, "%s %s" % (name, key))


def check_requests(tool):
    for v in range(3):
        # v0-2 have no fields: the decoded request has none.
        check_request(tool, "ApiVersions v%d request" % v, ApiVersionRequest[v](),
                      {"client_software_name": None, "client_software_version": None})

    # ApiVersions v3, as librdkafka sends it: header v2 (int16 client id + tag byte), compact
    # strings, tag byte.
    body = (bytes([len("librdkafka") + 1]) + b"librdkafka" + bytes([len("2.0.2") + 1]) +
            b"2.0.2" + b"\x00")
    header = struct.pack(">hhih", 18, 3, 7, len("rdkafka")) + b"rdkafka" + b"\x00"
    frame = struct.pack(">i", len(header) + len(body)) + header + body
    check_request(tool, "ApiVersions v3 request (librdkafka)", None,
                  {"client_software_name": "librdkafka", "client_software_version": "2.0.2"},
                  client_id="rdkafka", frame=frame)

    # Metadata: v0 [] = all (kafka-python's probe; the codec keeps [] and the broker reads it
    # as all), v1+ None = all, [] = none. Fields absent from a version are absent.
    check_request(tool, "Metadata v0 [] request", MetadataRequest[0](topics=[]), {"topics": []})
    check_request(tool, "Metadata v0 [a,b] request", MetadataRequest[0](topics=["a", "b"]),
                  {"topics": [{"name": "a"}, {"name": "b"}]})
    for v in (1, 2, 3):
        check_request(tool, "Metadata v%d null request" % v, MetadataRequest[v](topics=None),
                      {"topics": None, "allow_auto_topic_creation": None})
        check_request(tool, "Metadata v%d [] request" % v, MetadataRequest[v](topics=[]),
                      {"topics": []})
        check_request(tool, "Metadata v%d [t] request" % v, MetadataRequest[v](topics=["t"]),
                      {"topics": [{"name": "t"}]})
    check_request(tool, "Metadata v4 [t] request",
                  MetadataRequest[4](topics=["t"], allow_auto_topic_creation=True),
                  {"topics": [{"name": "t"}], "allow_auto_topic_creation": True})
    check_request(tool, "Metadata v4 null no-auto request",
                  MetadataRequest[4](topics=None, allow_auto_topic_creation=False),
                  {"topics": None, "allow_auto_topic_creation": False})

    batch0 = make_batch([b"v0", b"v1", b"v2"])
    batch1 = make_batch([b"x" * 1000])
    produce = ProduceRequest[3](transactional_id=None, required_acks=-1, timeout=30000,
                                topics=[("t", [(0, batch0), (1, batch1)]), ("u", [(5, b"")])])
    check_request(tool, "Produce v3 request", produce, {
        "transactional_id": None, "acks": -1, "timeout_ms": 30000,
        "topic_data": [
            {"name": "t", "partition_data": [{"index": 0, "records": batch0.hex()},
                                             {"index": 1, "records": batch1.hex()}]},
            {"name": "u", "partition_data": [{"index": 5, "records": ""}]}]})
    check_request(tool, "Produce v3 transactional acks=1 request",
                  ProduceRequest[3](transactional_id="tx", required_acks=1, timeout=1500,
                                    topics=[("t", [(2, None)])]),
                  {"transactional_id": "tx", "acks": 1, "timeout_ms": 1500,
                   "topic_data": [{"name": "t",
                                   "partition_data": [{"index": 2, "records": None}]}]})
    # Produce v2 is advertised (for librdkafka) but must be rejected.
    _, err = tool.decode_request(kafka_python_frame(
        ProduceRequest[2](required_acks=1, timeout=1, topics=[]), 9))
    check(err is not None and "unsupported" in err, "Produce v2 must be rejected, got %r" % err)

    check_request(tool, "Fetch v4 request",
                  FetchRequest[4](replica_id=-1, max_wait_time=500, min_bytes=1,
                                  max_bytes=52428800, isolation_level=1,
                                  topics=[("t", [(0, 5, 1048576), (3, 0, 100)]), ("u", [])]),
                  {"replica_id": -1, "max_wait_ms": 500, "min_bytes": 1, "max_bytes": 52428800,
                   "isolation_level": 1,
                   "topics": [{"topic": "t", "partitions": [
                       {"partition": 0, "fetch_offset": 5, "partition_max_bytes": 1048576},
                       {"partition": 3, "fetch_offset": 0, "partition_max_bytes": 100}]},
                       {"topic": "u", "partitions": []}]})

    check_request(tool, "ListOffsets v1 request",
                  OffsetRequest[1](replica_id=-1, topics=[("t", [(0, -2), (1, -1)])]),
                  {"replica_id": -1, "topics": [{"name": "t", "partitions": [
                      {"partition_index": 0, "timestamp": -2},
                      {"partition_index": 1, "timestamp": -1}]}]})

    for v in range(4):
        fields = [[("t", 3, 1, [], [("cleanup.policy", "compact"), ("x", None)]),
                   ("m", -1, -1, [(0, [1, 2]), (1, [2, 3])], [])], 30000]
        if v >= 1:
            fields.append(True)
        check_request(tool, "CreateTopics v%d request" % v, CreateTopicsRequest[v](*fields), {
            "topics": [
                {"name": "t", "num_partitions": 3, "replication_factor": 1, "assignments": [],
                 "configs": [{"name": "cleanup.policy", "value": "compact"},
                             {"name": "x", "value": None}]},
                {"name": "m", "num_partitions": -1, "replication_factor": -1,
                 "assignments": [{"partition_index": 0, "broker_ids": [1, 2]},
                                 {"partition_index": 1, "broker_ids": [2, 3]}],
                 "configs": []}],
            "timeout_ms": 30000, "validate_only": True if v >= 1 else None})

    for v in range(2):
        check_request(tool, "DeleteTopics v%d request" % v,
                      DeleteTopicsRequest[v](topics=["a", "bc"], timeout=5000),
                      {"topic_names": ["a", "bc"], "timeout_ms": 5000})


# ------------------------------------------------------------------------------------------------
# (ii) responses encoded by Gregor, decoded by kafka-python


def parse_response(name, request, frame, correlation_id):
    """Parses `frame` the way kafka-python's client does, then strictly; returns the Response."""
    proto = KafkaProtocol(client_id="x")
    proto.send_request(request, correlation_id=correlation_id)
    proto.send_bytes()
    try:
        responses = proto.receive_bytes(frame)
    except Exception as e:  # pylint: disable=broad-except
        check(False, "%s: kafka-python failed to parse: %r" % (name, e))
        return None
    check_eq(len(responses), 1, name + " responses parsed")
    if len(responses) != 1:
        return None
    check_eq(responses[0][0], correlation_id, name + " correlation id")
    # Strict: size prefix exact, header v0 (4 bytes), body fully consumed.
    (size,) = struct.unpack(">i", frame[:4])
    check_eq(size, len(frame) - 4, name + " frame size")
    buf = io.BytesIO(frame[8:])
    strict = request.RESPONSE_TYPE.decode(buf)
    check_eq(buf.read(), b"", name + " bytes left after kafka-python's decode")
    check_eq(strict.to_object(), responses[0][1].to_object(), name + " strict decode")
    return responses[0][1]


ADVERTISED = [(0, 0, 9), (1, 4, 12), (2, 1, 7), (3, 0, 12), (8, 2, 7), (9, 1, 3), (10, 0, 2),
              (11, 0, 5), (12, 0, 3), (13, 0, 3), (14, 0, 3), (15, 0, 4), (16, 0, 2), (18, 0, 3),
              (19, 0, 7), (20, 0, 6), (21, 0, 2), (22, 0, 4), (23, 0, 4), (32, 0, 4), (33, 0, 2), (35, 0, 4), (37, 0, 3),
              (42, 0, 1), (43, 0, 2), (44, 0, 1), (47, 0, 0), (60, 0, 1), (61, 0, 0)]


def check_api_versions(tool):
    for v in range(3):
        for table in (ADVERTISED,):
            name = "ApiVersions v%d response" % v
            frame = tool.encode_response(18, v, 11, {"advertised": True})
            r = parse_response(name, ApiVersionRequest[v](), frame, 11)
            if r is None:
                continue
            check_eq(r.error_code, 0, name + " error_code")
            check_eq([tuple(x) for x in r.api_versions], table, name + " table")
            if v >= 1:
                check_eq(r.throttle_time_ms, 0, name + " throttle")
            # kafka-python guesses the broker version from this table (Produce v8 advertised:
            # 2.4). It then sends magic-2 batches, Produce v7, Fetch v4, ListOffsets v1 and
            # Metadata v1 (§1.4), all served; below (0, 11) it would send legacy message sets.
            api_versions = {k: (lo, hi) for k, lo, hi in r.api_versions}
            inferred = BrokerConnection._infer_broker_version_from_api_versions(None, api_versions)
            check_eq(inferred, (2, 4, 0), name + " kafka-python broker version inference")

    # v3: flexible body, but response header v0 (pitfall 4). kafka-python has no v3 class, so
    # decode by hand: int32 size | int32 correlation id | i16 error | compact array of
    # (i16 key, i16 min, i16 max, tags) | i32 throttle | tags.
    frame = tool.encode_response(18, 3, 12, {"advertised": True})
    name = "ApiVersions v3 response"
    (size, cid, error) = struct.unpack(">iih", frame[:10])
    check_eq(size, len(frame) - 4, name + " size")
    check_eq(cid, 12, name + " correlation id")
    check_eq(error, 0, name + " error_code (right after the correlation id: no header tags)")
    pos = 10
    n = frame[pos] - 1
    pos += 1
    entries = []
    for _ in range(n):
        entries.append(struct.unpack(">hhh", frame[pos:pos + 6]))
        check_eq(frame[pos + 6], 0, name + " entry tag byte")
        pos += 7
    check_eq(entries, ADVERTISED, name + " table")
    (throttle,) = struct.unpack(">i", frame[pos:pos + 4])
    check_eq(throttle, 0, name + " throttle")
    check_eq(frame[pos + 4:], b"\x00", name + " final tag byte")

    # Unsupported version (e.g. v4): v0 body, error 35, only the ApiVersions entry (KIP-511).
    frame = tool.encode_response(18, 4, 13, {"unsupported": True})
    r = parse_response("ApiVersions unsupported response", ApiVersionRequest[0](), frame, 13)
    if r is not None:
        check_eq(r.error_code, 35, "unsupported error_code")
        check_eq([tuple(x) for x in r.api_versions], [(18, 0, 3)], "unsupported table")


METADATA = {
    "throttle_time_ms": 5,
    "brokers": [{"node_id": 1, "host": "broker1.example", "port": 9092, "rack": None},
                {"node_id": 2, "host": "broker2.example", "port": 9093, "rack": "rack-b"}],
    "cluster_id": "gregor-cluster",
    "controller_id": 1,
    "topics": [
        {"error_code": 0, "name": "orders", "is_internal": False, "partitions": [
            {"error_code": 0, "partition_index": 0, "leader_id": 1, "replica_nodes": [1, 2],
             "isr_nodes": [1, 2]},
            {"error_code": 5, "partition_index": 1, "leader_id": -1, "replica_nodes": [2],
             "isr_nodes": []}]},
        {"error_code": 3, "name": "missing", "is_internal": False, "partitions": []},
        {"error_code": 0, "name": "__internal", "is_internal": True, "partitions": []}],
}


def check_metadata(tool):
    for v in range(5):
        name = "Metadata v%d response" % v
        frame = tool.encode_response(3, v, 21, METADATA)
        r = parse_response(name, MetadataRequest[v](topics=None if v else []), frame, 21)
        if r is None:
            continue
        brokers = [(b["node_id"], b["host"], b["port"]) + ((b["rack"],) if v >= 1 else ())
                   for b in METADATA["brokers"]]
        check_eq([tuple(b) for b in r.brokers], brokers, name + " brokers")
        if v >= 1:
            check_eq(r.controller_id, 1, name + " controller_id")
        if v >= 2:
            check_eq(r.cluster_id, "gregor-cluster", name + " cluster_id")
        if v >= 3:
            check_eq(r.throttle_time_ms, 5, name + " throttle")
        topics = []
        for t in METADATA["topics"]:
            parts = [(p["error_code"], p["partition_index"], p["leader_id"], p["replica_nodes"],
                      p["isr_nodes"]) for p in t["partitions"]]
            topics.append((t["error_code"], t["name"]) +
                          ((t["is_internal"],) if v >= 1 else ()) + (parts,))
        got = [tuple(t[:-1]) + ([tuple(p) for p in t[-1]],) for t in r.topics]
        check_eq(got, topics, name + " topics")


def check_produce(tool):
    frame = tool.encode_response(0, 3, 31, {
        "responses": [{"name": "t", "partition_responses": [
            {"index": 0, "error_code": 0, "base_offset": 42, "log_append_time_ms": -1},
            {"index": 1, "error_code": 6, "base_offset": -1,
             "log_append_time_ms": 1700000000000}]}],
        "throttle_time_ms": 3})
    r = parse_response("Produce v3 response",
                       ProduceRequest[3](transactional_id=None, required_acks=1, timeout=1,
                                         topics=[]), frame, 31)
    if r is not None:
        check_eq([(t[0], [tuple(p) for p in t[1]]) for t in r.topics],
                 [("t", [(0, 0, 42, -1), (1, 6, -1, 1700000000000)])], "Produce v3 topics")
        check_eq(r.throttle_time_ms, 3, "Produce v3 throttle")


def check_fetch(tool):
    batch_a = make_batch([b"a0", b"a1"])
    batch_b = make_batch([b"b0"], timestamp=1700000001000)
    # Fix up batch_b's base offset to follow batch_a (as a log would hold them); the CRC does not
    # cover the base offset.
    batch_b = struct.pack(">q", 2) + batch_b[8:]
    frame = tool.encode_response(1, 4, 41, {
        "throttle_time_ms": 0,
        "responses": [{"topic": "t", "partitions": [
            {"partition_index": 0, "error_code": 0, "high_watermark": 3,
             "last_stable_offset": 3, "aborted_transactions": [],
             "records": [{"file_hex": batch_a.hex()}, {"hex": batch_b.hex()}]},
            {"partition_index": 1, "error_code": 0, "high_watermark": 0,
             "last_stable_offset": 0},
            {"partition_index": 2, "error_code": 1, "high_watermark": -1,
             "last_stable_offset": -1}]}]})
    r = parse_response("Fetch v4 response",
                       FetchRequest[4](replica_id=-1, max_wait_time=1, min_bytes=1, max_bytes=1,
                                       isolation_level=0, topics=[]), frame, 41)
    if r is None:
        return
    check_eq(r.throttle_time_ms, 0, "Fetch throttle")
    check_eq(len(r.topics), 1, "Fetch topics")
    topic, partitions = r.topics[0]
    check_eq(topic, "t", "Fetch topic name")
    p0, p1, p2 = partitions
    check_eq(tuple(p0[:5]), (0, 0, 3, 3, []), "Fetch p0 header")
    check_eq(p0[5], batch_a + batch_b, "Fetch p0 records (file slice + owned bytes)")
    # Pitfall 6: an empty records field is b"" (length 0), never None (length -1).
    check_eq(tuple(p1[:5]), (1, 0, 0, 0, []), "Fetch p1 header")
    check_eq(p1[5], b"", "Fetch p1 records must be empty, not null")
    check_eq(tuple(p2[:2]), (2, 1), "Fetch p2 error")
    check_eq(p2[5], b"", "Fetch p2 records")
    # The consumer's own record reader (with CRC checks) reads the three records.
    records = MemoryRecords(p0[5])
    seen = []
    while records.has_next():
        batch = records.next_batch()
        check(batch.validate_crc(), "Fetch batch CRC valid")
        for rec in batch:
            seen.append((rec.offset, rec.value))
    check_eq(seen, [(0, b"a0"), (1, b"a1"), (2, b"b0")], "Fetch records read by kafka-python")


def check_list_offsets(tool):
    frame = tool.encode_response(2, 1, 51, {"topics": [{"name": "t", "partitions": [
        {"partition_index": 0, "error_code": 0, "timestamp": -1, "offset": 10},
        {"partition_index": 1, "error_code": 3, "timestamp": -1, "offset": -1}]}]})
    r = parse_response("ListOffsets v1 response",
                       OffsetRequest[1](replica_id=-1, topics=[]), frame, 51)
    if r is not None:
        check_eq([(t[0], [tuple(p) for p in t[1]]) for t in r.topics],
                 [("t", [(0, 0, -1, 10), (1, 3, -1, -1)])], "ListOffsets v1 topics")


def check_create_topics(tool):
    for v in range(4):
        name = "CreateTopics v%d response" % v
        frame = tool.encode_response(19, v, 61, {
            "throttle_time_ms": 9,
            "topics": [{"name": "t", "error_code": 0, "error_message": None},
                       {"name": "u", "error_code": 36, "error_message": "Topic 'u' already exists."}]})
        req_fields = [[], 1000] + ([False] if v >= 1 else [])
        r = parse_response(name, CreateTopicsRequest[v](*req_fields), frame, 61)
        if r is None:
            continue
        if v == 0:
            expected = [("t", 0), ("u", 36)]
        else:
            expected = [("t", 0, None), ("u", 36, "Topic 'u' already exists.")]
        check_eq([tuple(t) for t in r.topic_errors], expected, name + " topics")
        if v >= 2:
            check_eq(r.throttle_time_ms, 9, name + " throttle")


def check_delete_topics(tool):
    for v in range(2):
        name = "DeleteTopics v%d response" % v
        frame = tool.encode_response(20, v, 71, {
            "throttle_time_ms": 4,
            "responses": [{"name": "a", "error_code": 0}, {"name": "b", "error_code": 41}]})
        r = parse_response(name, DeleteTopicsRequest[v](topics=[], timeout=1), frame, 71)
        if r is None:
            continue
        check_eq([tuple(t) for t in r.topic_error_codes], [("a", 0), ("b", 41)], name + " topics")
        if v >= 1:
            check_eq(r.throttle_time_ms, 4, name + " throttle")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True, help="path to kafka_codec_tool")
    args = parser.parse_args()
    tool = Tool(args.tool)
    check_requests(tool)
    check_api_versions(tool)
    check_metadata(tool)
    check_produce(tool)
    check_fetch(tool)
    check_list_offsets(tool)
    check_create_topics(tool)
    check_delete_topics(tool)
    if FAILURES:
        print("%d of %d checks failed" % (len(FAILURES), CHECKS), file=sys.stderr)
        return 1
    print("kafka-python cross-check: all %d checks passed" % CHECKS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
