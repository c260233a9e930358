// PlanNested and CheckNestedConfig (nested.h): the derived tables of a record type. The rules
// are in nested.h; this file only applies them.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "sluice/core/text.h"
#include "sluice/shape/nested.h"

namespace sluice::shape {
namespace {

using batch::DataType;
using batch::Field;
using batch::TypeId;
using Source = DerivedTable::ColumnSource;

// Identifier shortening: `_` and 8 hex digits replace the tail.
constexpr size_t kHashSuffix = 9;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

class Planner {
 public:
  Planner(const NestedConfig& config, size_t limit) : config_(config), limit_(limit) {}

  Result<NestedPlan> Run(const batch::Schema& record) {
    plan_.record_fields = record.fields.size();
    DerivedTable root;
    root.name = Identifier(config_.table);
    root.age_column = config_.age_column;
    root.delete_column = config_.delete_column;
    SLUICE_RETURN_IF_ERROR(ClaimTable(root.name, "the root table"));
    plan_.tables.push_back(std::move(root));
    Table table;
    for (size_t i = 0; i < record.fields.size(); ++i) {
      const Field& f = record.fields[i];
      SLUICE_RETURN_IF_ERROR(
          Emit(table, Sanitize(f.name), f.name, f.type, f.nullable, {static_cast<int>(i)}));
    }
    SLUICE_RETURN_IF_ERROR(FinishRoot(table));
    SLUICE_RETURN_IF_ERROR(Children(0, table));
    return std::move(plan_);
  }

  // Configured paths the record had (CheckNestedConfig wants every one used).
  const std::set<std::string>& seen_paths() const { return seen_paths_; }

 private:
  // A table being planned: its columns' names (folded) -> the path that made them, and the
  // arrays met among its fields, planned once its own columns are known.
  struct PendingChild {
    std::string column_name;  // flattened name within the parent: the child's name suffix
    std::string path;
    DataType type;
    std::vector<int> list_path;
  };
  struct Table {
    int index = 0;
    std::map<std::string, std::string> names;  // folded column name -> origin
    std::vector<PendingChild> children;
  };

  DerivedTable& Current(const Table& t) { return plan_.tables[static_cast<size_t>(t.index)]; }

  // Sanitised (not shortened): shortening applies to whole identifiers only, so that a
  // prefix stays readable.
  static std::string Sanitize(std::string_view name) {
    // By character: a UTF-8 sequence becomes one `_` (continuation bytes are dropped).
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if ((u & 0xC0) == 0x80) continue;
      const bool ok = IsAsciiAlnum(c);
      out.push_back(ok ? c : '_');
    }
    return out;
  }

  std::string Identifier(std::string_view raw) const {
    std::string name = Sanitize(raw);
    if (limit_ == 0 || name.size() <= limit_ || limit_ <= kHashSuffix) return name;
    char suffix[kHashSuffix + 1];
    std::snprintf(suffix, sizeof suffix, "_%08x", static_cast<unsigned>(Fnv1a(name) >> 32));
    name.resize(limit_ - kHashSuffix);
    return name + suffix;
  }

  Status ClaimTable(const std::string& name, const std::string& origin) {
    auto [it, inserted] = table_names_.emplace(AsciiLowered(name), origin);
    if (inserted) return Status::Ok();
    return Err(ErrorCode::kSchemaMismatch, "nested table " + config_.table + ": " + it->second +
                                               " and " + origin + " both map to table '" + name +
                                               "'; rename a field or keep one as JSON");
  }

  Status AddColumn(Table& t, Field field, Source source, const std::string& origin) {
    DerivedTable& d = Current(t);
    auto [it, inserted] = t.names.emplace(AsciiLowered(field.name), origin);
    if (!inserted) {
      return Err(ErrorCode::kSchemaMismatch, "nested table " + config_.table + ": " + it->second +
                                                 " and " + origin + " both map to column '" +
                                                 field.name + "' of table " + d.name +
                                                 "; rename a field or keep one as JSON");
    }
    d.columns.push_back(std::move(field));
    d.sources.push_back(std::move(source));
    return Status::Ok();
  }

  bool Configured(const std::string& path) const {
    return config_.child_keys.count(path) != 0 || config_.child_modes.count(path) != 0;
  }

  // One field of a table's row at flattened (sanitised) name `name` and record path `path`.
  Status Emit(Table& t, const std::string& name, const std::string& path, const DataType& type,
              bool nullable, std::vector<int> idx) {
    const bool as_json = config_.keep_as_json.count(path) != 0;
    if (as_json) seen_paths_.insert(path);
    const bool is_array = type.id == TypeId::kList || type.id == TypeId::kMap;
    if (Configured(path)) {
      seen_paths_.insert(path);
      if (!is_array || as_json) {
        return Err(ErrorCode::kSchemaMismatch,
                   "nested table " + config_.table + ": a child key or mode is configured for '" +
                       path + "', which is " +
                       (as_json ? std::string("kept as JSON")
                                : "not an array but " + batch::TypeName(type)));
      }
    }
    if (as_json && batch::IsNested(type.id)) {
      return AddColumn(t, Field{Identifier(name), DataType(TypeId::kJson), nullable},
                       Source{Source::Kind::kJson, 0, std::move(idx)}, "'" + path + "'");
    }
    if (type.id == TypeId::kStruct) {
      for (size_t i = 0; i < type.children.size(); ++i) {
        const Field& f = type.children[i];
        std::vector<int> sub = idx;
        sub.push_back(static_cast<int>(i));
        SLUICE_RETURN_IF_ERROR(
            Emit(t, name + "_" + Sanitize(f.name), path + "." + f.name, f.type, true, sub));
      }
      return Status::Ok();
    }
    if (is_array) {
      t.children.push_back(PendingChild{name, path, type, std::move(idx)});
      return Status::Ok();
    }
    return AddColumn(t, Field{Identifier(name), type, nullable},
                     Source{Source::Kind::kValue, 0, std::move(idx)}, "'" + path + "'");
  }

  // Key columns must be scalar columns of the table.
  Status CheckKey(const DerivedTable& d, const std::vector<std::string>& key,
                  const std::string& what) {
    for (const std::string& k : key) {
      const auto it = std::find_if(d.columns.begin(), d.columns.end(),
                                   [&](const Field& f) { return f.name == k; });
      if (it == d.columns.end()) {
        std::vector<std::string> names;
        for (const Field& f : d.columns) names.push_back(f.name);
        return Err(ErrorCode::kPkNotFound, "nested table " + config_.table + ": " + what +
                                               " column '" + k + "' is not a column of table " +
                                               d.name + "; its columns are: " + Join(names));
      }
      const Source& s = d.sources[static_cast<size_t>(it - d.columns.begin())];
      if (s.kind == Source::Kind::kJson) {
        return Err(ErrorCode::kSchemaMismatch, "nested table " + config_.table + ": " + what +
                                                   " column '" + k + "' of table " + d.name +
                                                   " is kept as JSON; a key must be a scalar");
      }
    }
    return Status::Ok();
  }

  Status FinishRoot(Table& t) {
    DerivedTable& d = Current(t);
    d.primary_key = config_.primary_key;
    d.root_key = config_.primary_key;
    d.mode = ChildMode::kUpsert;
    SLUICE_RETURN_IF_ERROR(CheckKey(d, d.primary_key, "primary-key"));
    if (!d.age_column.empty()) {
      const bool found = std::any_of(d.columns.begin(), d.columns.end(),
                                     [&](const Field& f) { return f.name == d.age_column; });
      if (!found) {
        return Err(ErrorCode::kAgeColumnNotFound, "nested table " + config_.table +
                                                      ": age column '" + d.age_column +
                                                      "' is not a column of table " + d.name);
      }
    }
    d.schema = std::make_shared<batch::Schema>(batch::Schema{d.columns});
    return Status::Ok();
  }

  // Plans the children of table `parent` (its columns complete), depth first.
  Status Children(int parent, Table& pt) {
    for (PendingChild& pending : pt.children) {
      SLUICE_RETURN_IF_ERROR(Child(parent, pending));
    }
    return Status::Ok();
  }

  Status Child(int parent, const PendingChild& pending) {
    const std::string& path = pending.path;
    Table t;
    t.index = static_cast<int>(plan_.tables.size());
    {
      const DerivedTable& p = plan_.tables[static_cast<size_t>(parent)];
      DerivedTable d;
      d.name = Identifier(p.name + "_" + pending.column_name);
      d.path = path;
      d.parent = parent;
      d.list_path = pending.list_path;
      SLUICE_RETURN_IF_ERROR(ClaimTable(d.name, "'" + path + "'"));
      plan_.tables.push_back(std::move(d));
    }
    const DerivedTable& p = plan_.tables[static_cast<size_t>(parent)];
    // Foreign key: the parent's key, its own foreign-key columns under their names.
    for (const std::string& pk : p.primary_key) {
      const bool inherited =
          std::find(p.foreign_key.begin(), p.foreign_key.end(), pk) != p.foreign_key.end();
      const std::string name = inherited ? pk : Identifier(p.name + "_" + pk);
      int column = 0;
      while (p.columns[static_cast<size_t>(column)].name != pk) ++column;
      DataType type = p.columns[static_cast<size_t>(column)].type;
      SLUICE_RETURN_IF_ERROR(AddColumn(t, Field{name, std::move(type), false},
                                       Source{Source::Kind::kForeignKey, column, {}},
                                       "the foreign key to " + p.name + "(" + pk + ")"));
      DerivedTable& d = Current(t);
      d.foreign_key.push_back(name);
      d.parent_key.push_back(pk);
    }
    {
      const DerivedTable& pp = plan_.tables[static_cast<size_t>(parent)];
      DerivedTable& d = Current(t);
      for (const std::string& rk : pp.root_key) {
        const auto at = std::find(d.parent_key.begin(), d.parent_key.end(), rk);
        d.root_key.push_back(d.foreign_key[static_cast<size_t>(at - d.parent_key.begin())]);
      }
    }
    const auto key_it = config_.child_keys.find(path);
    const bool synthetic = key_it == config_.child_keys.end();
    if (synthetic) {
      SLUICE_RETURN_IF_ERROR(AddColumn(t, Field{"_index", DataType(TypeId::kInt64), false},
                                       Source{Source::Kind::kIndex, 0, {}},
                                       "the synthetic key _index of '" + path + "'"));
    }
    // The element: a struct's fields, a map entry's key and value, or one `value`.
    const DataType& element =
        pending.type.id == TypeId::kMap
            ? pending.type
            : (pending.type.children.empty() ? pending.type : pending.type.children[0].type);
    if (pending.type.id == TypeId::kMap || element.id == TypeId::kStruct) {
      for (size_t i = 0; i < element.children.size(); ++i) {
        const Field& f = element.children[i];
        SLUICE_RETURN_IF_ERROR(Emit(t, Sanitize(f.name), path + "." + f.name, f.type,
                                    pending.type.id == TypeId::kMap ? f.nullable : true,
                                    {static_cast<int>(i)}));
      }
    } else if (pending.type.children.empty()) {
      return Err(ErrorCode::kSchemaMismatch,
                 "nested table " + config_.table + ": '" + path + "' has no element type");
    } else {
      SLUICE_RETURN_IF_ERROR(Emit(t, "value", path + ".value", element, true, {}));
    }
    DerivedTable& d = Current(t);
    d.synthetic_key = synthetic;
    d.primary_key = d.foreign_key;
    if (synthetic) {
      d.primary_key.push_back("_index");
    } else {
      SLUICE_RETURN_IF_ERROR(CheckKey(d, key_it->second, "child key ('" + path + "')"));
      for (const std::string& k : key_it->second) {
        if (std::find(d.primary_key.begin(), d.primary_key.end(), k) != d.primary_key.end()) {
          return Err(ErrorCode::kSchemaMismatch, "nested table " + config_.table +
                                                     ": child key ('" + path + "') column '" + k +
                                                     "' is a foreign-key column or repeated");
        }
        d.primary_key.push_back(k);
      }
    }
    const auto mode_it = config_.child_modes.find(path);
    d.mode = mode_it != config_.child_modes.end()
                 ? mode_it->second
                 : (synthetic ? ChildMode::kReplace : ChildMode::kUpsert);
    d.schema = std::make_shared<batch::Schema>(batch::Schema{d.columns});
    return Children(t.index, t);
  }

  const NestedConfig& config_;
  size_t limit_;
  NestedPlan plan_;
  std::map<std::string, std::string> table_names_;  // folded name -> origin
  std::set<std::string> seen_paths_;
};

}  // namespace

Result<NestedPlan> PlanNested(const NestedConfig& config, const batch::Schema& record,
                              size_t identifier_limit) {
  Planner planner(config, identifier_limit);
  return planner.Run(record);
}

Result<NestedPlan> CheckNestedConfig(const NestedConfig& config, size_t identifier_limit) {
  auto invalid = [&](const std::string& message) {
    return Err(ErrorCode::kInvalidArgument, message);
  };
  if (config.table.empty()) return invalid("nested table: the table name is empty");
  if (config.primary_key.empty()) {
    return invalid("nested table " + config.table +
                   ": at least one primary-key column is "
                   "required");
  }
  if (config.example.fields.empty()) {
    return invalid("nested table " + config.table + ": the example record has no fields");
  }
  Planner planner(config, identifier_limit);
  Result<NestedPlan> plan = planner.Run(config.example);
  if (!plan.ok()) return invalid(plan.status().message());
  std::set<std::string> configured(config.keep_as_json.begin(), config.keep_as_json.end());
  for (const auto& [path, key] : config.child_keys) configured.insert(path);
  for (const auto& [path, mode] : config.child_modes) configured.insert(path);
  for (const std::string& path : configured) {
    if (planner.seen_paths().count(path) == 0) {
      return invalid("nested table " + config.table + ": '" + path +
                     "' is not a field of the example record (paths are dotted field names, "
                     "e.g. line_items.serials)");
    }
  }
  return plan;
}

}  // namespace sluice::shape
