#!/usr/bin/env python3
"""Generates Gregor's Kafka codec from common/kafka/schema (run by the build).

  kafka_codegen.py --schema DIR --out DIR [--list]

Writes, under OUT/common/kafka/: api_keys.{h,cc}, messages/<api>.h per schema file,
messages.h (all of them), messages.cc (every codec) and messages_json.cc (every JSON view). A
file is rewritten only when its content changes. --list prints the files it would write
(CMake uses it at configure time).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cpp  # noqa: E402
import cpp_json  # noqa: E402
from schema import SchemaError, read_schema  # noqa: E402


def outputs(apis):
    files = ["api_keys.h", "api_keys.cc", "messages.h", "messages.cc", "messages_json.cc"]
    for api in apis:
        files.append(f"messages/{api.stem}.h")
    return files


def generate(keys, apis):
    names = {}
    for api in apis:
        for m in api.messages:
            for s in _structs(m.struct):
                if s.name in names and names[s.name] != api.path:
                    raise SchemaError(f"{api.path}: struct {s.name} is also in {names[s.name]}")
                names[s.name] = api.path
    files = {
        "api_keys.h": cpp.api_keys_header(keys),
        "api_keys.cc": cpp.api_keys_source(keys),
        "messages.h": cpp.umbrella(apis),
        "messages.cc": cpp.source(apis),
        "messages_json.cc": cpp_json.source(apis),
    }
    for api in apis:
        files[f"messages/{api.stem}.h"] = cpp.header(api)

    return files


def _structs(struct):
    yield struct
    for f in struct.fields:
        if f.struct is not None:
            yield from _structs(f.struct)


def write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--out")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    try:
        keys, apis = read_schema(args.schema)
        if args.list:
            print(";".join(outputs(apis)))
            return 0
        if not args.out:
            parser.error("--out is required")
        for name, text in generate(keys, apis).items():
            write_if_changed(os.path.join(args.out, "common", "kafka", name), text)
    except SchemaError as e:
        print(f"kafka_codegen: schema error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
