// The stored and file form of a NestedConfig (nested.h, NestedConfigToJson).
#include <nlohmann/json.hpp>

#include "sluice/core/text.h"
#include "sluice/shape/nested.h"

namespace sluice::shape {
namespace {

using batch::DataType;
using batch::Field;
using batch::TimeUnit;
using batch::TypeId;
using Json = nlohmann::ordered_json;

std::string UnitSuffix(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis:
      return "_MS";
    case TimeUnit::kMicros:
      return "";
    case TimeUnit::kNanos:
      return "_NS";
  }
  return "";
}

Json FieldToJson(const Field& field);

Json TypeToJson(const DataType& t) {
  switch (t.id) {
    case TypeId::kList:
      return Json{{"list", t.children.empty() ? Json("VARCHAR") : TypeToJson(t.children[0].type)}};
    case TypeId::kMap: {
      Json kv = Json::array();
      for (const Field& f : t.children) kv.push_back(TypeToJson(f.type));
      return Json{{"map", kv}};
    }
    case TypeId::kStruct: {
      Json fields = Json::array();
      for (const Field& f : t.children) fields.push_back(FieldToJson(f));
      return Json{{"struct", fields}};
    }
    case TypeId::kTime:
      return "TIME" + UnitSuffix(t.unit) + (t.utc ? " WITH TIME ZONE" : "");
    case TypeId::kTimestamp:
      return "TIMESTAMP" + UnitSuffix(t.unit) + (t.utc ? " WITH TIME ZONE" : "");
    case TypeId::kNull:
      return "NULL";
    default:
      return batch::TypeName(t);
  }
}

Json FieldToJson(const Field& field) {
  Json j{{"name", field.name}, {"type", TypeToJson(field.type)}};
  if (!field.nullable) j["nullable"] = false;
  return j;
}

Status Bad(const std::string& where, const std::string& what) {
  return Err(ErrorCode::kInvalidArgument, "nested configuration: " + where + ": " + what);
}

Result<DataType> ScalarFromName(std::string name, const std::string& where) {
  static const std::map<std::string, TypeId> kNames = {
      {"NULL", TypeId::kNull},      {"BOOLEAN", TypeId::kBool},     {"TINYINT", TypeId::kInt8},
      {"SMALLINT", TypeId::kInt16}, {"INTEGER", TypeId::kInt32},    {"BIGINT", TypeId::kInt64},
      {"UTINYINT", TypeId::kUInt8}, {"USMALLINT", TypeId::kUInt16}, {"UINTEGER", TypeId::kUInt32},
      {"UBIGINT", TypeId::kUInt64}, {"FLOAT", TypeId::kFloat},      {"DOUBLE", TypeId::kDouble},
      {"VARCHAR", TypeId::kString}, {"JSON", TypeId::kJson},        {"BLOB", TypeId::kBinary},
      {"UUID", TypeId::kUuid},      {"DATE", TypeId::kDate},        {"INTERVAL", TypeId::kInterval},
  };
  AsciiUpperInPlace(name);
  if (auto it = kNames.find(name); it != kNames.end()) return DataType(it->second);
  int precision = 0;
  int scale = 0;
  char tail = 0;
  if (std::sscanf(name.c_str(), "DECIMAL(%d,%d%c", &precision, &scale, &tail) == 3 && tail == ')' &&
      name.back() == ')') {
    if (precision < 1 || precision > batch::kMaxDecimalPrecision || scale < 0 ||
        scale > precision) {
      return Bad(where, "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) +
                            ") is out of range (precision 1..38, scale 0..precision)");
    }
    return DataType::Decimal(precision, scale);
  }
  bool utc = false;
  constexpr std::string_view kZone = " WITH TIME ZONE";
  if (name.size() > kZone.size() && name.ends_with(kZone)) {
    utc = true;
    name.resize(name.size() - kZone.size());
  }
  for (const char* base : {"TIMESTAMP", "TIME"}) {
    const std::string_view b(base);
    if (!name.starts_with(b)) continue;
    const std::string rest = name.substr(b.size());
    TimeUnit unit;
    if (rest.empty() || rest == "_US") {
      unit = TimeUnit::kMicros;
    } else if (rest == "_MS") {
      unit = TimeUnit::kMillis;
    } else if (rest == "_NS") {
      unit = TimeUnit::kNanos;
    } else {
      continue;
    }
    return b == "TIME" ? DataType::Time(unit, utc) : DataType::Timestamp(unit, utc);
  }
  return Bad(where, "unknown type '" + name + "'");
}

Result<Field> FieldFromJson(const Json& j, const std::string& where, int depth);

Result<DataType> TypeFromJson(const Json& j, const std::string& where, int depth) {
  if (depth > batch::kMaxTypeDepth) return Bad(where, "types nested too deeply");
  if (j.is_string()) return ScalarFromName(j.get<std::string>(), where);
  if (!j.is_object() || j.size() != 1) {
    return Bad(where,
               "a type is a name or one of {\"list\": T}, {\"struct\": [...]}, "
               "{\"map\": [K, V]}");
  }
  const std::string kind = j.begin().key();
  const Json& inner = j.begin().value();
  if (kind == "list") {
    SLUICE_ASSIGN_OR_RETURN(DataType element, TypeFromJson(inner, where + "[]", depth + 1));
    return DataType::List(Field{"element", std::move(element)});
  }
  if (kind == "struct") {
    if (!inner.is_array()) return Bad(where, "\"struct\" takes an array of fields");
    std::vector<Field> fields;
    for (const Json& f : inner) {
      SLUICE_ASSIGN_OR_RETURN(Field field, FieldFromJson(f, where, depth + 1));
      fields.push_back(std::move(field));
    }
    return DataType::Struct(std::move(fields));
  }
  if (kind == "map") {
    if (!inner.is_array() || inner.size() != 2) {
      return Bad(where, "\"map\" takes [key type, value type]");
    }
    SLUICE_ASSIGN_OR_RETURN(DataType key, TypeFromJson(inner[0], where + ".key", depth + 1));
    SLUICE_ASSIGN_OR_RETURN(DataType value, TypeFromJson(inner[1], where + ".value", depth + 1));
    // DataType layout: a map's children are its key and value fields.
    DataType map(TypeId::kMap);
    map.children = {Field{"key", std::move(key), false}, Field{"value", std::move(value)}};
    return map;
  }
  return Bad(where, "unknown type kind '" + kind + "'");
}

Result<Field> FieldFromJson(const Json& j, const std::string& where, int depth) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("type")) {
    return Bad(where, "a field is {\"name\": ..., \"type\": ...}");
  }
  Field f;
  f.name = j["name"].get<std::string>();
  const std::string path = where.empty() ? f.name : where + "." + f.name;
  for (const auto& [key, value] : j.items()) {
    if (key != "name" && key != "type" && key != "nullable") {
      return Bad(path, "unknown key '" + key + "' in a field");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(f.type, TypeFromJson(j["type"], path, depth));
  if (j.contains("nullable")) {
    if (!j["nullable"].is_boolean()) return Bad(path, "\"nullable\" is true or false");
    f.nullable = j["nullable"].get<bool>();
  }
  return f;
}

Result<std::vector<std::string>> Strings(const Json& j, const std::string& where) {
  std::vector<std::string> out;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
    return out;
  }
  if (!j.is_array()) return Bad(where, "expected a string or an array of strings");
  for (const Json& s : j) {
    if (!s.is_string()) return Bad(where, "expected an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<std::string> String(const Json& j, const std::string& where) {
  if (j.is_null()) return std::string();
  if (!j.is_string()) return Bad(where, "expected a string");
  return j.get<std::string>();
}

}  // namespace

std::string_view ChildModeName(ChildMode mode) {
  return mode == ChildMode::kReplace ? "replace" : "upsert";
}

std::string NestedConfigToJson(const NestedConfig& c) {
  Json j;
  j["table"] = c.table;
  j["primary_key"] = c.primary_key;
  j["age_column"] = c.age_column;
  j["delete_column"] = c.delete_column;
  Json schema = Json::array();
  for (const Field& f : c.example.fields) schema.push_back(FieldToJson(f));
  j["schema"] = schema;
  Json children = Json::object();
  for (const auto& [path, key] : c.child_keys) children[path]["primary_key"] = key;
  for (const auto& [path, mode] : c.child_modes) children[path]["mode"] = ChildModeName(mode);
  j["children"] = children;
  j["keep_as_json"] = Json(std::vector<std::string>(c.keep_as_json.begin(), c.keep_as_json.end()));
  return j.dump();
}

Result<NestedConfig> NestedConfigFromJson(std::string_view text) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("the text", "not valid JSON");
  if (!j.is_object()) return Bad("the text", "not a JSON object");
  NestedConfig c;
  bool typed = false;
  for (const auto& [key, value] : j.items()) {
    if (key == "table") {
      SLUICE_ASSIGN_OR_RETURN(c.table, String(value, key));
    } else if (key == "primary_key") {
      SLUICE_ASSIGN_OR_RETURN(c.primary_key, Strings(value, key));
    } else if (key == "age_column") {
      SLUICE_ASSIGN_OR_RETURN(c.age_column, String(value, key));
    } else if (key == "delete_column") {
      SLUICE_ASSIGN_OR_RETURN(c.delete_column, String(value, key));
    } else if (key == "schema") {
      if (typed) return Bad(key, "give either \"schema\" or \"example\", not both");
      if (!value.is_array()) return Bad(key, "expected an array of fields");
      for (const Json& f : value) {
        SLUICE_ASSIGN_OR_RETURN(Field field, FieldFromJson(f, "", 0));
        c.example.fields.push_back(std::move(field));
      }
      typed = true;
    } else if (key == "example") {
      if (typed) return Bad(key, "give either \"schema\" or \"example\", not both");
      if (!value.is_object()) return Bad(key, "the example record must be a JSON object");
      SLUICE_ASSIGN_OR_RETURN(c.example, InferRecordSchema(value.dump()));
      typed = true;
    } else if (key == "children") {
      if (!value.is_object()) return Bad(key, "expected an object of array paths");
      for (const auto& [path, child] : value.items()) {
        const std::string where = "children." + path;
        if (!child.is_object()) return Bad(where, "expected {\"primary_key\": ..., \"mode\": ...}");
        for (const auto& [ck, cv] : child.items()) {
          if (ck == "primary_key") {
            SLUICE_ASSIGN_OR_RETURN(c.child_keys[path], Strings(cv, where + ".primary_key"));
          } else if (ck == "mode") {
            SLUICE_ASSIGN_OR_RETURN(std::string mode, String(cv, where + ".mode"));
            if (mode == "replace") {
              c.child_modes[path] = ChildMode::kReplace;
            } else if (mode == "upsert") {
              c.child_modes[path] = ChildMode::kUpsert;
            } else {
              return Bad(where, "mode is \"replace\" or \"upsert\", not \"" + mode + "\"");
            }
          } else {
            return Bad(where, "unknown key '" + ck + "'");
          }
        }
      }
    } else if (key == "keep_as_json") {
      SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> paths, Strings(value, key));
      c.keep_as_json.insert(paths.begin(), paths.end());
    } else {
      return Bad("key '" + key + "'",
                 "unknown (known: table, primary_key, age_column, "
                 "delete_column, schema, example, children, keep_as_json)");
    }
  }
  if (!typed) return Bad("the text", "give the record's \"schema\" or an \"example\" record");
  return c;
}

}  // namespace sluice::shape
