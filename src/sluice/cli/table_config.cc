#include "sluice/cli/table_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sluice/core/text.h"
#include "sluice/service/tables.h"
#include "sluice/shape/nested.h"

namespace sluice::cli {
namespace {

using Json = nlohmann::ordered_json;

// A configuration file or an example record is typed by a person; anything bigger is not one.
constexpr uintmax_t kMaxConfigBytes = 4 << 20;

Status Invalid(const std::string& message) { return Err(ErrorCode::kInvalidArgument, message); }

Result<std::string> ReadSmallFile(const std::string& path, const std::string& what) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return Invalid(what + " " + path + ": " + ec.message());
  if (size > kMaxConfigBytes) {
    return Invalid(what + " " + path + " is " + std::to_string(size) + " bytes; at most " +
                   std::to_string(kMaxConfigBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) return Invalid(what + " " + path + ": cannot read it");
  return buffer.str();
}

Result<std::pair<std::string, std::string>> SplitAssignment(const std::string& s,
                                                            const std::string& flag) {
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
    return Invalid(flag + " takes PATH=VALUE (e.g. line_items=order_line_id), not '" + s + "'");
  }
  return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
}

// YAML 1.2 core schema for plain scalars; quoted scalars are strings.
Json YamlScalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // A JSON number is a YAML number; let the JSON parser decide (it keeps big integers' text).
  Json number = Json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (number.is_number()) return number;
  return s;
}

Result<Json> YamlToJson(const YAML::Node& node, int depth) {
  constexpr int kMaxDepth = 64;
  if (depth > kMaxDepth) return Invalid("the configuration is nested too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      return YamlScalar(node);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const YAML::Node& item : node) {
        SLUICE_ASSIGN_OR_RETURN(Json v, YamlToJson(item, depth + 1));
        out.push_back(std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) {
        SLUICE_ASSIGN_OR_RETURN(Json v, YamlToJson(kv.second, depth + 1));
        out[kv.first.as<std::string>()] = std::move(v);
      }
      return out;
    }
  }
  return Json(nullptr);
}

Result<Json> ParseConfigFile(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "configuration file"));
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    try {
      return YamlToJson(YAML::Load(text), 0);
    } catch (const YAML::Exception& e) {
      return Invalid("configuration file " + path + ": not valid YAML: " + e.what());
    }
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Invalid("configuration file " + path +
                   ": not valid JSON (YAML files must end in .yaml or .yml)");
  }
  return j;
}

// The file's own key beside the document's (service::TableFromDocument): example_file, an
// example record beside the file. --on-error, given, wins over the file's on_error.
Result<catalog::TableConfig> FromFile(const TableFlags& flags, const std::string& connection) {
  SLUICE_ASSIGN_OR_RETURN(Json j, ParseConfigFile(flags.config));
  if (!j.is_object()) return Invalid("configuration file " + flags.config + ": not an object");
  if (j.contains("example_file")) {
    if (!j["example_file"].is_string() || j.contains("example") || j.contains("schema")) {
      return Invalid(
          "configuration file: example_file is a path, given instead of example or "
          "schema");
    }
    std::filesystem::path example = j["example_file"].get<std::string>();
    if (example.is_relative())
      example = std::filesystem::path(flags.config).parent_path() / example;
    SLUICE_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(example.string(), "example record"));
    const Json record = Json::parse(text, nullptr, false);
    if (!record.is_object()) {
      return Invalid("example record " + example.string() + ": not a JSON object");
    }
    j.erase("example_file");
    j["example"] = record;
  }
  if (!j.contains("table") && !flags.table.empty()) j["table"] = flags.table;
  if (!j.contains("table")) return Invalid("configuration file: no \"table\" and no TABLE given");
  if (!flags.table.empty() && j["table"] != flags.table) {
    return Invalid("configuration file names table " + j["table"].dump() + " but TABLE is '" +
                   flags.table + "'");
  }
  auto t = service::TableFromDocument(std::move(j), connection);
  if (!t.ok()) return t.status().WithContext("configuration file " + flags.config);
  if (!flags.on_error.empty()) {
    SLUICE_ASSIGN_OR_RETURN(t->on_error, service::ParseOnError(flags.on_error));
  }
  return t;
}

Result<catalog::TableConfig> BuildFromFlags(const TableFlags& flags, const std::string& connection,
                                            const std::optional<catalog::TableConfig>& existing) {
  if (!flags.config.empty()) {
    const bool mixed = flags.nested || !flags.pk.empty() || !flags.example.empty() ||
                       !flags.child_pk.empty() || !flags.child_mode.empty() ||
                       !flags.keep_json.empty() || !flags.age_column.empty() ||
                       !flags.delete_column.empty();
    if (mixed) {
      return Invalid("--config gives the whole configuration; only --on-error may go with it");
    }
    return FromFile(flags, connection);
  }
  if (flags.table.empty()) return Invalid("give TABLE, or --config with a \"table\"");
  catalog::TableConfig t;
  if (existing) t = *existing;
  t.connection_id = connection;
  t.name = flags.table;
  std::vector<std::string> pk;
  for (const std::string& part : flags.pk) {
    for (std::string& c : service::SplitColumnList(part)) pk.push_back(std::move(c));
  }
  if (!pk.empty()) t.primary_key = pk;
  if (!existing && t.primary_key.empty()) return Invalid("--pk is required");
  auto column = [](const std::string& flag, std::string* field) {
    if (flag == "-") {
      field->clear();
    } else if (!flag.empty()) {
      *field = flag;
    }
  };
  column(flags.age_column, &t.age_column);
  column(flags.delete_column, &t.delete_column);
  if (!flags.on_error.empty()) {
    SLUICE_ASSIGN_OR_RETURN(t.on_error, service::ParseOnError(flags.on_error));
  }

  const bool nested_flags = !flags.example.empty() || !flags.child_pk.empty() ||
                            !flags.child_mode.empty() || !flags.keep_json.empty();
  const bool was_nested = existing && !existing->nested_json.empty();
  if (!flags.nested && !nested_flags && !was_nested) return t;
  if (!flags.nested && !was_nested) {
    return Invalid(
        "--example, --child-pk, --child-mode and --keep-json configure a nested "
        "table: add --nested");
  }
  shape::NestedConfig nc;
  if (was_nested) {
    SLUICE_ASSIGN_OR_RETURN(nc, shape::NestedConfigFromJson(existing->nested_json));
  }
  nc.table = t.name;
  nc.primary_key = t.primary_key;
  nc.age_column = t.age_column;
  nc.delete_column = t.delete_column;
  if (!flags.example.empty()) {
    SLUICE_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(flags.example, "example record"));
    Result<batch::Schema> schema = shape::InferRecordSchema(text);
    if (!schema.ok()) return Invalid(flags.example + ": " + schema.status().message());
    nc.example = std::move(schema).value();
  } else if (!was_nested) {
    return Invalid("--nested needs --example FILE: one record as JSON, as a user would paste it");
  }
  for (const std::string& s : flags.child_pk) {
    SLUICE_ASSIGN_OR_RETURN(auto kv, SplitAssignment(s, "--child-pk"));
    nc.child_keys[kv.first] = service::SplitColumnList(kv.second);
  }
  for (const std::string& s : flags.child_mode) {
    SLUICE_ASSIGN_OR_RETURN(auto kv, SplitAssignment(s, "--child-mode"));
    if (kv.second == "replace") {
      nc.child_modes[kv.first] = shape::ChildMode::kReplace;
    } else if (kv.second == "upsert") {
      nc.child_modes[kv.first] = shape::ChildMode::kUpsert;
    } else {
      return Invalid("--child-mode " + s + ": the mode is replace or upsert");
    }
  }
  for (const std::string& path : flags.keep_json) nc.keep_as_json.insert(path);
  SLUICE_ASSIGN_OR_RETURN(shape::NestedPlan plan,
                          shape::CheckNestedConfig(nc, shape::kPortableIdentifierLimit));
  (void)plan;
  t.nested_json = shape::NestedConfigToJson(nc);
  return t;
}

}  // namespace

Result<catalog::TableConfig> BuildTableConfig(const TableFlags& flags,
                                              const std::string& connection,
                                              const std::optional<catalog::TableConfig>& existing) {
  SLUICE_ASSIGN_OR_RETURN(catalog::TableConfig t, BuildFromFlags(flags, connection, existing));
  if (flags.hidden_keys == "load" || flags.hidden_keys == "skip") {
    t.load_hidden_keys = flags.hidden_keys == "load";
  } else if (!flags.hidden_keys.empty()) {
    return Invalid("--hidden-keys is skip or load, not '" + flags.hidden_keys + "'");
  }
  return t;
}

Result<std::string> ShowTable(const catalog::TableConfig& table, bool json) {
  SLUICE_ASSIGN_OR_RETURN(Json described, service::DescribeTable(table));
  if (json) return described.dump(2) + "\n";
  const std::string on_error(service::OnErrorName(table.on_error));
  const Json& tables = described["tables"];
  auto join = [](const Json& a) {
    std::string s;
    for (const Json& v : a) s += (s.empty() ? "" : ", ") + v.get<std::string>();
    return s;
  };
  std::string out = table.connection_id + "/" + table.name +
                    (table.nested_json.empty() ? "  flat table" : "  nested table") +
                    "  on error " + on_error +
                    (table.load_hidden_keys ? "  hidden keys loaded" : "") + "\n";
  for (const Json& t : tables) {
    out += "\n" + t["name"].get<std::string>();
    if (t.contains("path") && !t["path"].get<std::string>().empty()) {
      out += "  (from " + t["path"].get<std::string>() + ")";
    }
    out += "\n  primary key   (" + join(t["primary_key"]) + ")\n";
    if (t.contains("foreign_key")) {
      out += "  foreign key   (" + join(t["foreign_key"]) + ") -> " +
             t["parent"].get<std::string>() + "(" + join(t["parent_key"]) + ")\n";
      out += "  children      " + t["mode"].get<std::string>() + "\n";
    }
    if (t.contains("age_column") && !t["age_column"].get<std::string>().empty()) {
      out += "  age column    " + t["age_column"].get<std::string>() + "\n";
    }
    if (t.contains("delete_column") && !t["delete_column"].get<std::string>().empty()) {
      out += "  delete column " + t["delete_column"].get<std::string>() + "\n";
    }
    if (t["columns"].empty()) {
      out += "  columns       learned from the first file loaded\n";
      continue;
    }
    size_t width = 0;
    for (const Json& c : t["columns"]) width = std::max(width, c["name"].get<std::string>().size());
    for (const Json& c : t["columns"]) {
      const std::string name = c["name"].get<std::string>();
      out += "    " + name + std::string(width - name.size() + 2, ' ') +
             c["type"].get<std::string>() + "\n";
    }
  }
  return out;
}

}  // namespace sluice::cli
