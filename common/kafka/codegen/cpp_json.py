"""Writes JSON conversions of every message (for kafka_codec_tool and the cross-checks).

ToJson(message, version) gives an object with exactly the fields that exist in that version,
in wire order; FromJson reads fields by name (a missing one keeps its default). Bytes and
records are hex strings; chunked records go through ChunksToJson / ChunksFromJson
(messages_json_support.h).
"""

from cpp import HEADER_NOTE, Emitter, cond, is_optional

INTS = ("int8", "int16", "int32", "int64", "uvarint", "varint")


def to_json_value(f, t, value):
    if t in INTS:
        return f"static_cast<int64_t>({value})" if "cpp" in f.attrs and not f.is_array else value
    if t in ("bool", "string"):
        return value
    if t == "bytes":
        return f"HexOf({value})"
    if t == "uuid":
        return f"HexOf(std::string_view(reinterpret_cast<const char*>({value}.bytes.data()), 16))"
    raise ValueError(t)


def from_json_value(f, t, j, ctype):
    if t in INTS:
        if "cpp" in f.attrs and not f.is_array:
            return f"static_cast<{f.attrs['cpp']}>({j}.get<int64_t>())"
        return f"static_cast<{ctype}>({j}.get<int64_t>())"
    if t == "bool":
        return f"{j}.get<bool>()"
    if t == "string":
        return f"{j}.get<std::string>()"
    if t == "bytes":
        return f"Unhex({j}.get<std::string>())"
    if t == "uuid":
        return f"UuidFromHex({j}.get<std::string>())"
    raise ValueError(t)


def elem_ctype(t):
    from cpp import elem_cpp
    return elem_cpp(t)


def emit_struct(e, api, struct, done):
    for f in struct.fields:
        if f.struct is not None:
            emit_struct(e, api, f.struct, done)
    if struct.name in done:
        return
    done.add(struct.name)
    e(f"Json ToJson(const {struct.name}& in, int16_t version) {{")
    e("Json j = Json::object();", 1)
    e("(void)version;", 1)
    for f in struct.fields:
        vs = f.versions
        c = cond(api, vs) or "true"  # the version is within the API's range here
        e(f"if ({c}) {{", 1)
        v = f"in.{f.name}"
        if f.is_array:
            items = f"(*{v})" if is_optional(f) else v
            if is_optional(f):
                e(f'if (!{v}.has_value()) {{ j["{f.name}"] = nullptr; }} else {{', 2)
            e("Json a = Json::array();", 2)
            if f.struct:
                e(f"for (const auto& item : {items}) a.push_back(ToJson(item, version));", 2)
            else:
                e(f"for (const auto& item : {items}) a.push_back("
                  f"{to_json_value(f, f.element, 'item')});", 2)
            e(f'j["{f.name}"] = std::move(a);', 2)
            if is_optional(f):
                e("}", 2)
        elif f.struct is not None:
            e(f'j["{f.name}"] = {v}.has_value() ? ToJson(*{v}, version) : Json(nullptr);', 2)
        elif f.type == "records":
            e(f'j["{f.name}"] = {v}.has_value() ? Json(HexOf(*{v})) : Json(nullptr);', 2)
        elif f.type == "chunked_records":
            e(f'j["{f.name}"] = ChunksToJson({v});', 2)
        elif is_optional(f):
            e(f'j["{f.name}"] = {v}.has_value() ? Json({to_json_value(f, f.type, "*" + v)}) '
              f": Json(nullptr);", 2)
        else:
            e(f'j["{f.name}"] = {to_json_value(f, f.type, v)};', 2)
        e("}", 1)
    e("return j;", 1)
    e("}")
    e()
    e(f"void FromJson(const Json& j, {struct.name}& out) {{")
    for f in struct.fields:
        e(f'if (j.contains("{f.name}")) {{', 1)
        e(f'const Json& v = j.at("{f.name}");', 2)
        if f.is_array:
            ind = 2
            if is_optional(f):
                e("if (v.is_null()) {", 2)
                e(f"out.{f.name}.reset();", 3)
                e("} else {", 2)
                e(f"auto& items = out.{f.name}.emplace();", 3)
                ind = 3
            else:
                e(f"auto& items = out.{f.name};", 2)
            e("items.clear();", ind)
            e("for (const Json& item : v) {", ind)
            if f.struct:
                e("FromJson(item, items.emplace_back());", ind + 1)
            else:
                e(f"items.push_back({from_json_value(f, f.element, 'item', elem_ctype(f.element))});",
                  ind + 1)
            e("}", ind)
            if is_optional(f):
                e("}", 2)
        elif f.struct is not None:
            e(f"if (v.is_null()) out.{f.name}.reset(); else FromJson(v, out.{f.name}.emplace());", 2)
        elif f.type == "records":
            e(f"out.{f.name} = RecordsFromJson(v);", 2)
        elif f.type == "chunked_records":
            e(f"out.{f.name} = ChunksFromJson(v);", 2)
        elif is_optional(f):
            e(f"if (v.is_null()) out.{f.name}.reset(); "
              f"else out.{f.name} = {from_json_value(f, f.type, 'v', elem_ctype(f.type))};", 2)
        else:
            ctype = elem_ctype(f.type)
            e(f"out.{f.name} = {from_json_value(f, f.type, 'v', ctype)};", 2)
        e("}", 1)
    e("}")
    e()


def api_source(e, api):
    """The JSON views of one API's messages, and Add<Api>Codecs."""
    e("namespace {")
    e()
    done = set()
    for m in api.messages:
        emit_struct(e, api, m.struct, done)
    for m in api.messages:
        s = m.struct.name
        e(f"absl::StatusOr<Json> Decode{s}Json(std::string_view body, int16_t version) {{")
        e(f"absl::StatusOr<{s}> m = Decode{s}(body, version);", 1)
        e("if (!m.ok()) return m.status();", 1)
        e("return ToJson(*m, version);", 1)
        e("}")
        e()
        e(f"absl::Status Encode{s}Json(const Json& j, int16_t version, Writer& out) {{")
        e(f"{s} m;", 1)
        e("FromJson(j, m);", 1)
        e(f"return Encode{s}(m, version, out);", 1)
        e("}")
        e()
    e("}  // namespace")
    e()
    e(f"void Add{api.name}Codecs(std::vector<MessageCodec>& codecs) {{")
    for m in api.messages:
        s = m.struct.name
        e(f'codecs.push_back({{"{s}", ApiKey::k{api.name}, '
          f'{"true" if m.kind == "request" else "false"}, {api.versions.low}, '
          f"{api.versions.high}, &Decode{s}Json, &Encode{s}Json}});", 1)
    e("}")
    e()


def source(apis):
    """messages_json.cc: every API's JSON views (one translation unit: nlohmann/json.hpp is the
    heaviest header of the build) and their list."""
    e = Emitter()
    e(HEADER_NOTE.format(src="common/kafka/schema/*.api"))
    e('#include "common/kafka/messages_json.h"')
    e()
    e("#include <utility>")
    e()
    e('#include "common/kafka/messages.h"')
    e()
    e("namespace gregor::kafka::json {")
    for api in apis:
        e()
        e(f"// {'-' * 93}")
        e(f"// {api.name} (common/kafka/schema/{api.stem}.api)")
        api_source(e, api)
    e("const std::vector<MessageCodec>& MessageCodecs() {")
    e("static const std::vector<MessageCodec> codecs = [] {", 1)
    e("std::vector<MessageCodec> all;", 2)
    for api in apis:
        e(f"Add{api.name}Codecs(all);", 2)
    e("return all;", 2)
    e("}();", 1)
    e("return codecs;", 1)
    e("}")
    e()
    e("}  // namespace gregor::kafka::json")
    return e.text()
