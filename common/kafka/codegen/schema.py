"""Parses Gregor's Kafka message schemas (common/kafka/schema/*.api, api_keys.txt).

The format is ours (common/kafka/README.md has the grammar); the facts in it come from Kafka's
message JSONs. This module only reads and checks the schema; cpp.py and cpp_json.py write code.
"""

import os
import re
import sys

MAX_VERSION = 0x7FFF

PRIMITIVES = {
    # type: (C++ type, fixed wire size or None)
    "int8": ("int8_t", 1),
    "int16": ("int16_t", 2),
    "int32": ("int32_t", 4),
    "int64": ("int64_t", 8),
    "bool": ("bool", 1),
    "uvarint": ("uint32_t", None),
    "varint": ("int32_t", None),
    "uuid": ("Uuid", 16),
}
# Length-prefixed types: int16/int32 length in classic versions, uvarint N+1 in flexible ones.
VARIABLE = {"string", "bytes", "records", "chunked_records"}
ATTRIBUTES = {"versions", "nullable", "default", "cpp", "tag", "values", "null_as_empty"}


class SchemaError(Exception):
    pass


class Versions:
    """An inclusive range of versions; `high` is MAX_VERSION for "N+"."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    @staticmethod
    def parse(text, where):
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
        if not m:
            raise SchemaError(f"{where}: bad version range '{text}' (want N, N+ or N-M)")
        low = int(m.group(1))
        if m.group(2) == "+":
            return Versions(low, MAX_VERSION)
        high = int(m.group(3)) if m.group(3) else low
        if high < low:
            raise SchemaError(f"{where}: empty version range '{text}'")
        return Versions(low, high)

    def contains(self, v):
        return self.low <= v <= self.high

    def intersect(self, other):
        low, high = max(self.low, other.low), min(self.high, other.high)
        return Versions(low, high) if low <= high else None


class Field:
    def __init__(self, name, type_, attrs, comment, where):
        self.name = name
        self.type = type_  # "int32", "string", "[]int32", "[]StructName", ...
        self.attrs = attrs
        self.comment = comment
        self.where = where
        self.struct = None  # Struct, for arrays of structs

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def element(self):
        return self.type[2:]

    @property
    def tag(self):
        return int(self.attrs["tag"]) if "tag" in self.attrs else None


class Struct:
    def __init__(self, name, where):
        self.name = name
        self.where = where
        self.fields = []
        self.comment = []


class Message:
    def __init__(self, api, kind, struct):
        self.api = api
        self.kind = kind  # "request" or "response"
        self.struct = struct

    @property
    def title(self):  # for error messages: "Metadata request"
        return f"{self.api.name} {self.kind}"


class Api:
    def __init__(self, name, key, flexible, versions, path):
        self.name, self.key, self.flexible, self.versions = name, key, flexible, versions
        self.path = path
        self.messages = []
        self.comment = []

    @property
    def stem(self):
        return os.path.splitext(os.path.basename(self.path))[0]

    def is_flexible(self, v):
        return self.flexible is not None and v >= self.flexible


def read_api_keys(path):
    keys = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 3:
                raise SchemaError(f"{path}:{n}: want 'Name key first_flexible_version'")
            name, key, flex = parts
            keys.append((name, int(key), None if flex == "-" else int(flex)))
    return keys


def _split_comment(line):
    code, _, comment = line.partition("#")
    return code.rstrip(), comment.strip()


def read_api(path, api_keys):
    by_name = {name: (key, flex) for name, key, flex in api_keys}
    api = None
    stack = []  # (indent, Struct)
    pending_comment = []
    with open(path) as f:
        lines = f.read().split("\n")
    for n, raw in enumerate(lines, 1):
        where = f"{path}:{n}"
        code, comment = _split_comment(raw)
        if not code.strip():
            if raw.strip().startswith("#"):
                pending_comment.append(comment)
            continue
        indent = len(code) - len(code.lstrip(" "))
        words = code.split()
        if indent == 0 and words[0] == "api":
            if api is not None or len(words) != 3 or not words[2].startswith("versions="):
                raise SchemaError(f"{where}: want one 'api Name versions=A-B'")
            name = words[1]
            if name not in by_name:
                raise SchemaError(f"{where}: API '{name}' is not in api_keys.txt")
            key, flex = by_name[name]
            api = Api(name, key, flex, Versions.parse(words[2][9:], where), path)
            api.comment = pending_comment
            pending_comment = []
            continue
        if api is None:
            raise SchemaError(f"{where}: the file must start with 'api Name versions=A-B'")
        if indent == 0:
            if len(words) != 2 or words[0] not in ("request", "response"):
                raise SchemaError(f"{where}: want 'request Name' or 'response Name'")
            if any(m.kind == words[0] for m in api.messages):
                raise SchemaError(f"{where}: a second {words[0]}")
            struct = Struct(words[1], where)
            struct.comment = pending_comment
            pending_comment = []
            api.messages.append(Message(api, words[0], struct))
            stack = [(0, struct)]
            continue
        if not stack:
            raise SchemaError(f"{where}: a field outside a request or response")
        while stack and indent <= stack[-1][0]:
            stack.pop()
        if not stack:
            raise SchemaError(f"{where}: bad indentation")
        if len(words) < 2:
            raise SchemaError(f"{where}: want 'name type [attr=value ...]'")
        attrs = {}
        for word in words[2:]:
            k, eq, v = word.partition("=")
            if k not in ATTRIBUTES:
                raise SchemaError(f"{where}: unknown attribute '{k}'")
            attrs[k] = v if eq else True
        fld = Field(words[0], words[1], attrs, pending_comment + ([comment] if comment else []),
                    where)
        pending_comment = []
        parent = stack[-1][1]
        if any(x.name == fld.name for x in parent.fields):
            raise SchemaError(f"{where}: field '{fld.name}' twice in {parent.name}")
        parent.fields.append(fld)
        if fld.is_array and fld.element not in PRIMITIVES and fld.element not in VARIABLE:
            fld.struct = Struct(fld.element, where)
            stack.append((indent, fld.struct))
        elif not fld.is_array and fld.type[:1].isupper():
            fld.struct = Struct(fld.type, where)  # a struct field (tagged only)
            stack.append((indent, fld.struct))
    if api is None or len(api.messages) != 2:
        raise SchemaError(f"{path}: want an api line, a request and a response")
    for m in api.messages:
        _check_struct(api, m.struct)
    return api


def _check_struct(api, struct):
    tags = set()
    for f in struct.fields:
        base = f.element if f.is_array else f.type
        if f.struct is None and base not in PRIMITIVES and base not in VARIABLE:
            raise SchemaError(f"{f.where}: unknown type '{f.type}'")
        if f.struct is not None and not f.struct.fields:
            raise SchemaError(f"{f.where}: struct {f.struct.name} has no fields")
        if f.struct is not None and not f.is_array and "tag" not in f.attrs:
            raise SchemaError(f"{f.where}: a struct field must be tagged (tag=N); untagged "
                              f"structs are not supported")
        if base in ("records", "chunked_records") and f.is_array:
            raise SchemaError(f"{f.where}: arrays of records are not a Kafka type")
        f.versions = Versions.parse(f.attrs.get("versions", "0+"), f.where)
        if f.versions.intersect(api.versions) is None:
            raise SchemaError(f"{f.where}: '{f.name}' exists in none of the API's versions")
        nullable = f.attrs.get("nullable")
        if nullable is True:
            f.nullable = f.versions
        elif nullable:
            f.nullable = Versions.parse(nullable, f.where)
        else:
            f.nullable = None
        if f.nullable and not (f.is_array or f.type in ("string", "bytes", "records")):
            raise SchemaError(f"{f.where}: only strings, bytes, records and arrays are nullable")
        if f.type == "records" and not f.nullable:
            f.nullable = f.versions  # Kafka's records fields are nullable
        if "null_as_empty" in f.attrs and not (f.nullable and f.is_array):
            raise SchemaError(f"{f.where}: null_as_empty needs a nullable array")
        if "cpp" in f.attrs and f.type not in ("int8", "int16", "int32"):
            raise SchemaError(f"{f.where}: cpp= maps an integer to an enum type")
        if "values" in f.attrs and f.type not in ("int8", "int16", "int32"):
            raise SchemaError(f"{f.where}: values= checks an integer field")
        if f.tag is not None:
            if api.flexible is None:
                raise SchemaError(f"{f.where}: tagged field in an API that is never flexible")
            if f.tag in tags:
                raise SchemaError(f"{f.where}: tag {f.tag} used twice in {struct.name}")
            tags.add(f.tag)
            if f.versions.low < api.flexible:
                raise SchemaError(f"{f.where}: a tagged field exists only in flexible versions")
        if f.struct is not None:
            _check_struct(api, f.struct)


def read_schema(schema_dir):
    api_keys = read_api_keys(os.path.join(schema_dir, "api_keys.txt"))
    apis = []
    for name in sorted(os.listdir(schema_dir)):
        if name.endswith(".api"):
            apis.append(read_api(os.path.join(schema_dir, name), api_keys))
    seen = {}
    for api in apis:
        if api.name in seen:
            raise SchemaError(f"{api.path}: API {api.name} is also in {seen[api.name]}")
        seen[api.name] = api.path
    return api_keys, apis


def main_check(schema_dir):
    try:
        read_schema(schema_dir)
    except SchemaError as e:
        print(f"schema error: {e}", file=sys.stderr)
        return 1
    return 0
