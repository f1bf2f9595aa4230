"""A raw Kafka client for tests: any API and version Gregor's codec knows, through
build/tests/kafka_codec_tool (JSON in, bytes out, and back), so a test can send exactly the request
a client of a given version would and read every field of the answer. Frames, headers (v1, or v2
for flexible versions) and correlation ids are done here; see the wire reference §2.

    conn = RawConnection(port)
    resp = conn.call("Metadata", 12, {"topics": None, "allow_auto_topic_creation": False, ...})
"""

import json
import os
import socket
import struct
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
API_KEYS_TXT = os.path.join(REPO_ROOT, "common", "kafka", "schema", "api_keys.txt")


def _api_keys():
    """{name: (key, first flexible version or None)} from the schema's api_keys.txt."""
    out = {}
    with open(API_KEYS_TXT) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) == 3:
                flexible = None if line[2] in ("-", "none") else int(line[2])
                out[line[0]] = (int(line[1]), flexible)
    return out


API_KEYS = _api_keys()


def codec_tool():
    build = os.environ.get("GREGOR_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
    return os.path.join(build, "tests", "kafka_codec_tool")


def encode(message, version, obj):
    p = subprocess.run([codec_tool(), "encode", message, str(version)],
                       input=json.dumps(obj).encode(), capture_output=True, timeout=60)
    if p.returncode != 0:
        raise ValueError("encode %s v%d: %s" % (message, version, p.stderr.decode().strip()))
    return bytes.fromhex(p.stdout.decode().strip())


def decode(message, version, body):
    p = subprocess.run([codec_tool(), "decode", message, str(version)],
                       input=body.hex().encode(), capture_output=True, timeout=60)
    if p.returncode != 0:
        raise ValueError("decode %s v%d: %s" % (message, version, p.stderr.decode().strip()))
    return json.loads(p.stdout)


def is_flexible(api, version):
    flexible = API_KEYS[api][1]
    return flexible is not None and version >= flexible


def request_frame(api, version, correlation_id, body, client_id=b"gregor-raw-test"):
    key = API_KEYS[api][0]
    header = struct.pack(">hhih", key, version, correlation_id, len(client_id)) + client_id
    if is_flexible(api, version):
        header += b"\x00"  # no tagged fields
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


class ConnectionClosed(Exception):
    pass


class RawConnection:
    def __init__(self, port, host="127.0.0.1", timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.correlation_id = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionClosed("the broker closed the connection")
            data += chunk
        return data

    def send_raw(self, frame):
        self.sock.sendall(frame)

    def read_response(self, api, version):
        size, = struct.unpack(">i", self._read_exactly(4))
        frame = self._read_exactly(size)
        correlation_id, = struct.unpack(">i", frame[:4])
        body = frame[4:]
        if is_flexible(api, version) and api != "ApiVersions":
            assert body[0] == 0, "unexpected tagged fields in the response header"
            body = body[1:]
        return correlation_id, body

    def call(self, api, version, request):
        """Sends `request` (a dict in the codec's JSON form) and returns the decoded answer."""
        self.correlation_id += 1
        body = encode(api + "Request", version, request)
        self.send_raw(request_frame(api, version, self.correlation_id, body))
        correlation_id, body = self.read_response(api, version)
        assert correlation_id == self.correlation_id, (correlation_id, self.correlation_id)
        return decode(api + "Response", version, body)
