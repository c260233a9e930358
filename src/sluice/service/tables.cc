#include "sluice/service/tables.h"

#include <map>

#include "sluice/core/text.h"
#include "sluice/shape/nested.h"

namespace sluice::service {
namespace {

using Json = nlohmann::ordered_json;

Status Invalid(const std::string& message) { return Err(ErrorCode::kInvalidArgument, message); }

// A flat table's document: only its own keys.
Result<catalog::TableConfig> FlatTable(const Json& j, catalog::TableConfig t) {
  for (const auto& [key, value] : j.items()) {
    const bool known =
        key == "table" || key == "primary_key" || key == "age_column" || key == "delete_column";
    if (!known) return Invalid("table configuration: unknown key '" + key + "'");
    if (key == "primary_key") {
      if (value.is_string()) {
        t.primary_key = SplitColumnList(value.get<std::string>());
      } else if (value.is_array()) {
        for (const Json& c : value) {
          if (!c.is_string()) return Invalid("table configuration: primary_key is strings");
          t.primary_key.push_back(c.get<std::string>());
        }
      } else {
        return Invalid("table configuration: primary_key is a string or an array of strings");
      }
    } else if (!value.is_string()) {
      return Invalid("table configuration: " + key + " is a string");
    }
  }
  if (t.primary_key.empty()) return Invalid("table configuration: primary_key is required");
  t.name = j["table"].get<std::string>();
  if (j.contains("age_column")) t.age_column = j["age_column"].get<std::string>();
  if (j.contains("delete_column")) t.delete_column = j["delete_column"].get<std::string>();
  return t;
}

}  // namespace

std::vector<std::string> SplitColumnList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(std::move(part));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<catalog::OnError> ParseOnError(std::string_view text) {
  if (text == "block") return catalog::OnError::kBlock;
  if (text == "skip") return catalog::OnError::kSkip;
  return Invalid("on_error must be block or skip, not '" + std::string(text) + "'");
}

std::string_view OnErrorName(catalog::OnError on_error) {
  return on_error == catalog::OnError::kSkip ? "skip" : "block";
}

Result<catalog::TableConfig> TableFromDocument(Json j, const std::string& connection) {
  if (!j.is_object()) return Invalid("a table configuration is a JSON object");
  catalog::TableConfig t;
  t.connection_id = connection;
  if (j.contains("on_error")) {
    if (!j["on_error"].is_string()) return Invalid("table configuration: on_error is a string");
    SLUICE_ASSIGN_OR_RETURN(t.on_error, ParseOnError(j["on_error"].get<std::string>()));
    j.erase("on_error");
  }
  if (j.contains("load_hidden_keys")) {
    if (!j["load_hidden_keys"].is_boolean()) {
      return Invalid("table configuration: load_hidden_keys is true or false");
    }
    t.load_hidden_keys = j["load_hidden_keys"].get<bool>();
    j.erase("load_hidden_keys");
  }
  if (!j.contains("table") || !j["table"].is_string()) {
    return Invalid("table configuration: \"table\" (the table's name) is required");
  }
  const bool nested = j.contains("example") || j.contains("schema") || j.contains("children") ||
                      j.contains("keep_as_json");
  if (!nested) return FlatTable(j, std::move(t));
  SLUICE_ASSIGN_OR_RETURN(shape::NestedConfig nc, shape::NestedConfigFromJson(j.dump()));
  SLUICE_ASSIGN_OR_RETURN(shape::NestedPlan plan,
                          shape::CheckNestedConfig(nc, shape::kPortableIdentifierLimit));
  (void)plan;
  t.name = nc.table;
  t.primary_key = nc.primary_key;
  t.age_column = nc.age_column;
  t.delete_column = nc.delete_column;
  t.nested_json = shape::NestedConfigToJson(nc);
  return t;
}

Json TableDocument(const catalog::TableConfig& table) {
  Json out;
  if (!table.nested_json.empty()) {
    out = Json::parse(table.nested_json, nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded() || !out.is_object()) out = Json::object();
  }
  out["table"] = table.name;
  out["primary_key"] = table.primary_key;
  out["age_column"] = table.age_column;
  out["delete_column"] = table.delete_column;
  out["on_error"] = OnErrorName(table.on_error);
  out["load_hidden_keys"] = table.load_hidden_keys;
  return out;
}

Result<std::vector<std::string>> TableNames(const catalog::TableConfig& table) {
  if (table.nested_json.empty()) return std::vector<std::string>{table.name};
  SLUICE_ASSIGN_OR_RETURN(shape::NestedConfig nc, shape::NestedConfigFromJson(table.nested_json));
  SLUICE_ASSIGN_OR_RETURN(shape::NestedPlan plan,
                          shape::CheckNestedConfig(nc, shape::kPortableIdentifierLimit));
  std::vector<std::string> names;
  for (const shape::DerivedTable& d : plan.tables) names.push_back(d.name);
  if (names.empty() || names.front() != table.name) names.insert(names.begin(), table.name);
  return names;
}

Status CheckTableNamesFree(catalog::Tables& tables, const catalog::TableConfig& table) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> mine, TableNames(table));
  std::map<std::string, std::string> taken;  // lower-case name -> the name as configured
  for (const std::string& name : mine) {
    auto [it, fresh] = taken.emplace(AsciiLowered(name), name);
    if (!fresh) {
      return Err(ErrorCode::kAlreadyExists,
                 "table " + table.name + ": the derived tables '" + it->second + "' and '" + name +
                     "' differ only in case; table names are compared without case");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto others, tables.ListTables(table.connection_id));
  for (const catalog::TableConfig& other : others) {
    if (other.name == table.name) continue;  // an update
    auto names = TableNames(other);
    // A stored configuration this build cannot plan still owns its root name.
    const std::vector<std::string> theirs =
        names.ok() ? *names : std::vector<std::string>{other.name};
    for (const std::string& n : theirs) {
      auto it = taken.find(AsciiLowered(n));
      if (it == taken.end()) continue;
      return Err(ErrorCode::kAlreadyExists,
                 "table name '" + it->second + "'" +
                     (it->second == table.name ? "" : " (derived from '" + table.name + "')") +
                     " is taken by table '" + n + "'" +
                     (n == other.name ? "" : " (derived from '" + other.name + "')") +
                     ": names within a connection are compared without case; choose another "
                     "name");
    }
  }
  return Status::Ok();
}

Result<Json> DescribeTable(const catalog::TableConfig& table, const batch::Schema* record) {
  auto columns_of = [](const std::vector<batch::Field>& fields) {
    Json columns = Json::array();
    for (const batch::Field& f : fields) {
      columns.push_back(Json{{"name", f.name}, {"type", batch::TypeName(f.type)}});
    }
    return columns;
  };
  Json tables = Json::array();
  if (table.nested_json.empty()) {
    tables.push_back(Json{{"name", table.name},
                          {"path", ""},
                          {"columns", record ? columns_of(record->fields) : Json::array()},
                          {"primary_key", table.primary_key},
                          {"age_column", table.age_column},
                          {"delete_column", table.delete_column}});
  } else {
    SLUICE_ASSIGN_OR_RETURN(shape::NestedConfig nc, shape::NestedConfigFromJson(table.nested_json));
    SLUICE_ASSIGN_OR_RETURN(
        shape::NestedPlan plan,
        shape::PlanNested(nc, record ? *record : nc.example, shape::kPortableIdentifierLimit));
    for (const shape::DerivedTable& d : plan.tables) {
      Json entry{{"name", d.name},
                 {"path", d.path},
                 {"columns", columns_of(d.columns)},
                 {"primary_key", d.primary_key}};
      if (d.parent >= 0) {
        entry["foreign_key"] = d.foreign_key;
        entry["parent"] = plan.tables[static_cast<size_t>(d.parent)].name;
        entry["parent_key"] = d.parent_key;
        entry["mode"] = shape::ChildModeName(d.mode);
      } else {
        entry["age_column"] = d.age_column;
        entry["delete_column"] = d.delete_column;
      }
      tables.push_back(std::move(entry));
    }
  }
  return Json{{"connection", table.connection_id},
              {"table", table.name},
              {"nested", !table.nested_json.empty()},
              {"on_error", OnErrorName(table.on_error)},
              {"tables", tables}};
}

Status SaveTable(catalog::Catalog& catalog, const catalog::TableConfig& table, TableWrite write) {
  SLUICE_RETURN_IF_ERROR(CheckTableNamesFree(catalog, table));
  return write == TableWrite::kUpdate ? catalog.UpdateTable(table) : catalog.AddTable(table);
}

}  // namespace sluice::service
