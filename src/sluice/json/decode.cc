#include <cstring>
#include <limits>
#include <string>

#include "sluice/batch/limits.h"
#include "sluice/json/convert_internal.h"
#include "sluice/json/decode_internal.h"

namespace sluice::json {

using batch::Column;
using batch::TypeId;

struct Decoder::Node {
  std::vector<std::string_view> names;  // struct fields (views into the schema)
  std::unordered_map<std::string_view, int> index;
  std::vector<Node> children;   // struct: per field; list: [element]; map: [key, value]
  std::vector<uint64_t> stamp;  // struct: the object that last set each field
  uint64_t object_count = 0;
  int guess = 0;  // the field expected next
  Meter* meter;
  uint64_t entry_slot = 0;  // list, map: the slot bytes of one entry

  Node(const batch::DataType& type, Meter* m) : meter(m) {
    switch (type.id) {
      case TypeId::kStruct:
        for (size_t i = 0; i < type.children.size(); ++i) {
          names.push_back(type.children[i].name);
          index.emplace(names.back(), static_cast<int>(i));
          children.emplace_back(type.children[i].type, m);
        }
        stamp.assign(type.children.size(), 0);
        break;
      case TypeId::kList:
        children.emplace_back(type.children[0].type, m);
        entry_slot = batch::RowSlotBytes(type.children[0].type);
        break;
      case TypeId::kMap:
        for (const auto& f : type.children) children.emplace_back(f.type, m);  // key, value
        entry_slot = 1 + batch::RowSlotBytes(type.children[0].type) +
                     batch::RowSlotBytes(type.children[1].type);
        break;
      default:
        break;
    }
  }

  // Counts one more entry of this list or map against the record's limit.
  Status Charge(const PathStep* path) {
    meter->used += entry_slot;
    if (meter->used <= meter->limit) return Status::Ok();
    return batch::LimitExceeded(
        "one record (the slots of its list and map entries, at '" + RenderPath(path) + "')",
        meter->used, "batch", meter->limit);
  }

  // The child for `key`, or -1.
  int Find(std::string_view key) {
    if (guess < static_cast<int>(names.size()) && names[guess] == key) return guess++;
    const auto it = index.find(key);
    if (it == index.end()) return -1;
    guess = it->second + 1;
    return it->second;
  }
};

namespace {

using Node = Decoder::Node;

void MarkValid(Column* c) {
  if (!c->validity.empty()) c->validity.push_back(1);
  ++c->length;
}

template <class T>
void PushFixed(Column* c, T v) {
  const size_t at = c->fixed.size();
  c->fixed.resize(at + sizeof(T));
  std::memcpy(c->fixed.data() + at, &v, sizeof(T));
  MarkValid(c);
}

void PushBytes(Column* c, std::string_view s) {
  c->chars.insert(c->chars.end(), s.begin(), s.end());
  c->offsets.push_back(static_cast<int64_t>(c->chars.size()));
  MarkValid(c);
}

const char* KindOf(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

Status Misfit(const Column& c, const PathStep* path, const std::string& what) {
  return Err(ErrorCode::kSchemaMismatch, "field '" + RenderPath(path) + "': " + what +
                                             " does not fit the column's type " +
                                             batch::TypeName(c.type));
}

// The value's JSON text, for VARCHAR/JSON columns and for messages. Consumes the value.
Result<std::string_view> RawText(od::value& v, od::json_type t, const PathStep* path) {
  std::string_view raw;
  if (t == od::json_type::array) {
    od::array arr;
    if (auto e = v.get_array().get(arr)) return Malformed(e, path);
    if (auto e = arr.raw_json().get(raw)) return Malformed(e, path);
  } else if (t == od::json_type::object) {
    od::object obj;
    if (auto e = v.get_object().get(obj)) return Malformed(e, path);
    if (auto e = obj.raw_json().get(raw)) return Malformed(e, path);
  } else {
    raw = v.raw_json_token();
  }
  return TrimAscii(raw);  // simdjson keeps the whitespace after a token
}

Status Describe(od::value& v, od::json_type t, const Column& c, const PathStep* path,
                const std::string& why = "") {
  std::string what = KindOf(t);
  if (t != od::json_type::array && t != od::json_type::object) {
    auto raw = RawText(v, t, path);
    if (raw.ok()) what = "the value " + QuoteValue(*raw);
  }
  return Misfit(c, path, what + why);
}

Status PutValue(od::value v, Column* c, Node* node, const PathStep* path);

Status PutFields(od::object obj, std::vector<Column>* columns, Node* node, const PathStep* path) {
  const uint64_t stamp = ++node->object_count;
  node->guess = 0;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Malformed(e, path);
    const PathStep step{path, key};
    const int i = node->Find(key);
    if (i < 0) {
      return Err(ErrorCode::kSchemaMismatch,
                 "field '" + RenderPath(&step) +
                     "' is not in the schema (it first appears after the records the schema "
                     "was inferred from)");
    }
    if (node->stamp[i] == stamp) {
      return Err(ErrorCode::kCorruptFile,
                 "field '" + RenderPath(&step) + "' appears twice in one object");
    }
    node->stamp[i] = stamp;
    od::value v;
    if (auto e = field.value().get(v)) return Malformed(e, &step);
    SLUICE_RETURN_IF_ERROR(PutValue(v, &(*columns)[i], &node->children[i], &step));
  }
  for (size_t i = 0; i < node->stamp.size(); ++i) {
    if (node->stamp[i] != stamp) AppendNull(&(*columns)[i]);
  }
  return Status::Ok();
}

template <class Get>
Status PutInteger(od::value& v, od::json_type t, Column* c, const PathStep* path, int64_t lo,
                  int64_t hi, Get get) {
  int64_t x;
  if (t == od::json_type::number) {
    if (auto e = get(v).get(x)) {
      if (!IsTypeError(e)) return Malformed(e, path);
      return Describe(v, t, *c, path);
    }
  } else if (t == od::json_type::string) {
    std::string_view s;
    if (auto e = v.get_string().get(s)) return Malformed(e, path);
    const auto parsed = ParseInt64(s);
    if (!parsed) return Misfit(*c, path, "the string \"" + QuoteValue(s) + "\"");
    x = *parsed;
  } else {
    return Describe(v, t, *c, path);
  }
  if (x < lo || x > hi)
    return Misfit(*c, path, "the value " + std::to_string(x) + " (out of range)");
  PushFixed<int64_t>(c, x);
  return Status::Ok();
}

Status PutDecimal(od::value& v, od::json_type t, Column* c, const PathStep* path) {
  std::string_view text;
  if (t == od::json_type::number) {
    SLUICE_ASSIGN_OR_RETURN(text, RawText(v, t, path));
  } else if (t == od::json_type::string) {
    if (auto e = v.get_string().get(text)) return Malformed(e, path);
  } else {
    return Describe(v, t, *c, path);
  }
  __int128 x = 0;
  switch (ParseDecimal(text, c->type.precision, c->type.scale, &x)) {
    case DecimalError::kNone:
      PushFixed<__int128>(c, x);
      return Status::Ok();
    case DecimalError::kNotANumber:
      return Misfit(*c, path, "the value " + QuoteValue(text) + " (not a number)");
    case DecimalError::kFractionLost:
      return Misfit(*c, path,
                    "the value " + QuoteValue(text) + " (more fraction digits than the scale " +
                        std::to_string(c->type.scale) + "; sluice does not round)");
    case DecimalError::kOverflow:
      return Misfit(*c, path, "the value " + QuoteValue(text) + " (too many digits)");
  }
  return Status::Ok();
}

Status PutString(od::value& v, od::json_type t, Column* c, const PathStep* path,
                 std::string_view* out) {
  if (t != od::json_type::string) return Describe(v, t, *c, path);
  if (auto e = v.get_string().get(*out)) return Malformed(e, path);
  return Status::Ok();
}

Status PutMapKey(std::string_view key, Column* c, const PathStep* path) {
  if (batch::IsStringLike(c->type.id)) {
    PushBytes(c, key);
    return Status::Ok();
  }
  switch (c->type.id) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64: {
      const auto x = ParseInt64(key);
      if (!x) return Misfit(*c, path, "the key \"" + QuoteValue(key) + "\"");
      PushFixed<int64_t>(c, *x);
      return Status::Ok();
    }
    default:
      return Misfit(*c, path, "a key (JSON object keys are strings)");
  }
}

Status PutValue(od::value v, Column* c, Node* node, const PathStep* path) {
  od::json_type t;
  if (auto e = v.type().get(t)) return Malformed(e, path);
  if (t == od::json_type::null) {
    bool is_null = false;
    if (auto e = v.is_null().get(is_null); e || !is_null) {
      return Malformed(e ? e : simdjson::N_ATOM_ERROR, path);
    }
    AppendNull(c);
    return Status::Ok();
  }
  switch (c->type.id) {
    case TypeId::kNull:
      return Describe(v, t, *c, path, " (the records the schema was inferred from had only nulls)");
    case TypeId::kBool: {
      bool b;
      if (t != od::json_type::boolean) return Describe(v, t, *c, path);
      if (auto e = v.get_bool().get(b)) return Malformed(e, path);
      PushFixed<uint8_t>(c, b ? 1 : 0);
      return Status::Ok();
    }
    case TypeId::kInt8:
      return PutInteger(v, t, c, path, INT8_MIN, INT8_MAX,
                        [](od::value& x) { return x.get_int64(); });
    case TypeId::kInt16:
      return PutInteger(v, t, c, path, INT16_MIN, INT16_MAX,
                        [](od::value& x) { return x.get_int64(); });
    case TypeId::kInt32:
      return PutInteger(v, t, c, path, INT32_MIN, INT32_MAX,
                        [](od::value& x) { return x.get_int64(); });
    case TypeId::kInt64:
      if (t == od::json_type::number) {
        int64_t x;
        if (auto e = v.get_int64().get(x); !e) {
          PushFixed<int64_t>(c, x);
          return Status::Ok();
        }
      }
      return PutInteger(v, t, c, path, INT64_MIN, INT64_MAX,
                        [](od::value& x) { return x.get_int64(); });
    case TypeId::kUInt8:
      return PutInteger(v, t, c, path, 0, UINT8_MAX, [](od::value& x) { return x.get_int64(); });
    case TypeId::kUInt16:
      return PutInteger(v, t, c, path, 0, UINT16_MAX, [](od::value& x) { return x.get_int64(); });
    case TypeId::kUInt32:
      return PutInteger(v, t, c, path, 0, UINT32_MAX, [](od::value& x) { return x.get_int64(); });
    case TypeId::kUInt64: {
      uint64_t x;
      if (t == od::json_type::number) {
        if (auto e = v.get_uint64().get(x)) {
          if (!IsTypeError(e)) return Malformed(e, path);
          return Describe(v, t, *c, path);
        }
      } else if (t == od::json_type::string) {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return Malformed(e, path);
        const auto parsed = ParseUInt64(s);
        if (!parsed) return Misfit(*c, path, "the string \"" + QuoteValue(s) + "\"");
        x = *parsed;
      } else {
        return Describe(v, t, *c, path);
      }
      PushFixed<uint64_t>(c, x);
      return Status::Ok();
    }
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double d;
      if (t != od::json_type::number) return Describe(v, t, *c, path);
      if (auto e = v.get_double().get(d)) return Malformed(e, path);
      if (c->type.id == TypeId::kFloat) {
        PushFixed<float>(c, static_cast<float>(d));
      } else {
        PushFixed<double>(c, d);
      }
      return Status::Ok();
    }
    case TypeId::kDecimal:
      return PutDecimal(v, t, c, path);
    case TypeId::kString: {
      std::string_view s;
      if (t == od::json_type::string) {
        if (auto e = v.get_string().get(s)) return Malformed(e, path);
      } else {
        SLUICE_ASSIGN_OR_RETURN(s, RawText(v, t, path));
      }
      PushBytes(c, s);
      return Status::Ok();
    }
    case TypeId::kJson: {
      SLUICE_ASSIGN_OR_RETURN(auto s, RawText(v, t, path));
      PushBytes(c, s);
      return Status::Ok();
    }
    case TypeId::kBinary: {
      std::string_view s;
      SLUICE_RETURN_IF_ERROR(PutString(v, t, c, path, &s));
      PushBytes(c, s);
      return Status::Ok();
    }
    case TypeId::kUuid: {
      std::string_view s;
      SLUICE_RETURN_IF_ERROR(PutString(v, t, c, path, &s));
      uint8_t bytes[16];
      if (!ParseUuid(s, bytes)) return Misfit(*c, path, "the string \"" + QuoteValue(s) + "\"");
      c->fixed.insert(c->fixed.end(), bytes, bytes + 16);
      MarkValid(c);
      return Status::Ok();
    }
    case TypeId::kDate: {
      std::string_view s;
      SLUICE_RETURN_IF_ERROR(PutString(v, t, c, path, &s));
      const auto d = ParseDate(s);
      if (!d) return Misfit(*c, path, "the string \"" + QuoteValue(s) + "\" (not YYYY-MM-DD)");
      PushFixed<int32_t>(c, *d);
      return Status::Ok();
    }
    case TypeId::kTimestamp: {
      std::string_view s;
      SLUICE_RETURN_IF_ERROR(PutString(v, t, c, path, &s));
      const auto ts = ParseTimestamp(s);
      const auto x = ts ? TimestampIn(*ts, c->type.unit) : std::nullopt;
      if (!x) {
        return Misfit(*c, path,
                      "the string \"" + QuoteValue(s) + "\" (not an ISO-8601 timestamp" +
                          (ts ? " in range or precision)" : ")"));
      }
      PushFixed<int64_t>(c, *x);
      return Status::Ok();
    }
    case TypeId::kTime: {
      std::string_view s;
      SLUICE_RETURN_IF_ERROR(PutString(v, t, c, path, &s));
      const auto x = ParseTime(s, c->type.unit);
      if (!x) return Misfit(*c, path, "the string \"" + QuoteValue(s) + "\" (not HH:MM:SS[.f])");
      PushFixed<int64_t>(c, *x);
      return Status::Ok();
    }
    case TypeId::kList: {
      if (t != od::json_type::array) return Describe(v, t, *c, path);
      od::array arr;
      if (auto e = v.get_array().get(arr)) return Malformed(e, path);
      Column* child = &c->children[0];
      int64_t i = 0;
      for (auto item : arr) {
        const PathStep step{path, {}, i++};
        SLUICE_RETURN_IF_ERROR(node->Charge(&step));
        od::value ev;
        if (auto e = item.get(ev)) return Malformed(e, &step);
        SLUICE_RETURN_IF_ERROR(PutValue(ev, child, &node->children[0], &step));
      }
      c->offsets.push_back(child->length);
      MarkValid(c);
      return Status::Ok();
    }
    case TypeId::kStruct: {
      if (t != od::json_type::object) return Describe(v, t, *c, path);
      od::object obj;
      if (auto e = v.get_object().get(obj)) return Malformed(e, path);
      SLUICE_RETURN_IF_ERROR(PutFields(obj, &c->children, node, path));
      MarkValid(c);
      return Status::Ok();
    }
    case TypeId::kMap: {
      if (t != od::json_type::object) return Describe(v, t, *c, path);
      od::object obj;
      if (auto e = v.get_object().get(obj)) return Malformed(e, path);
      Column* entries = &c->children[0];
      for (auto field : obj) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return Malformed(e, path);
        const PathStep step{path, key};
        SLUICE_RETURN_IF_ERROR(node->Charge(&step));
        SLUICE_RETURN_IF_ERROR(PutMapKey(key, &entries->children[0], &step));
        od::value fv;
        if (auto e = field.value().get(fv)) return Malformed(e, &step);
        SLUICE_RETURN_IF_ERROR(PutValue(fv, &entries->children[1], &node->children[1], &step));
        MarkValid(entries);
      }
      c->offsets.push_back(entries->length);
      MarkValid(c);
      return Status::Ok();
    }
    case TypeId::kInterval:
      return Describe(v, t, *c, path, " (INTERVAL columns are not read from JSON)");
  }
  return Describe(v, t, *c, path);
}

}  // namespace

void AppendNull(Column* c) {
  const size_t width = batch::FixedWidth(c->type.id);
  if (width > 0) {
    c->fixed.resize(c->fixed.size() + width);
  } else if (!c->offsets.empty()) {
    c->offsets.push_back(c->offsets.back());
  }
  if (c->type.id == TypeId::kStruct) {
    for (Column& child : c->children) AppendNull(&child);
  }
  if (c->validity.empty()) c->validity.assign(static_cast<size_t>(c->length), 1);
  c->validity.push_back(0);
  ++c->length;
}

Decoder::Decoder(const batch::Schema& schema, uint64_t max_entry_bytes)
    : meter_{0, max_entry_bytes},
      root_type_(batch::DataType::Struct(schema.fields)),
      root_(std::make_unique<Node>(root_type_, &meter_)) {}
Decoder::~Decoder() = default;

Status Decoder::Append(od::object record, std::vector<batch::Column>* columns) {
  meter_.used = 0;
  return PutFields(record, columns, root_.get(), nullptr);
}

}  // namespace sluice::json
