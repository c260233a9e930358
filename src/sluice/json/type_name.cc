#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "sluice/json/json.h"

namespace sluice::json {

std::optional<batch::DataType> ScalarTypeFromName(std::string_view name) {
  using batch::DataType;
  using batch::TimeUnit;
  using batch::TypeId;
  static const std::array<std::pair<std::string_view, TypeId>, 17> kPlain = {{
      {"BOOLEAN", TypeId::kBool},
      {"TINYINT", TypeId::kInt8},
      {"SMALLINT", TypeId::kInt16},
      {"INTEGER", TypeId::kInt32},
      {"BIGINT", TypeId::kInt64},
      {"UTINYINT", TypeId::kUInt8},
      {"USMALLINT", TypeId::kUInt16},
      {"UINTEGER", TypeId::kUInt32},
      {"UBIGINT", TypeId::kUInt64},
      {"FLOAT", TypeId::kFloat},
      {"DOUBLE", TypeId::kDouble},
      {"VARCHAR", TypeId::kString},
      {"JSON", TypeId::kJson},
      {"BLOB", TypeId::kBinary},
      {"UUID", TypeId::kUuid},
      {"DATE", TypeId::kDate},
      {"INTERVAL", TypeId::kInterval},
  }};
  for (const auto& [n, id] : kPlain) {
    if (name == n) return DataType(id);
  }
  if (name == "TIMESTAMP") return DataType::Timestamp(TimeUnit::kMicros, false);
  if (name == "TIMESTAMP WITH TIME ZONE") return DataType::Timestamp(TimeUnit::kMicros, true);
  if (name == "TIMESTAMP_NS") return DataType::Timestamp(TimeUnit::kNanos, false);
  if (name == "TIME") return DataType::Time(TimeUnit::kMicros, false);
  if (name == "TIME WITH TIME ZONE") return DataType::Time(TimeUnit::kMicros, true);
  if (name == "TIME_NS") return DataType::Time(TimeUnit::kNanos, false);
  int precision = 0;
  int scale = 0;
  char close = 0;
  if (name.rfind("DECIMAL(", 0) == 0 &&
      std::sscanf(std::string(name).c_str(), "DECIMAL(%d,%d%c", &precision, &scale, &close) == 3 &&
      close == ')' && precision >= 1 && precision <= batch::kMaxDecimalPrecision && scale >= 0 &&
      scale <= precision) {
    return DataType::Decimal(precision, scale);
  }
  return std::nullopt;
}

}  // namespace sluice::json
