#pragma once
// Shared by the SQLite ceilings of the benchmarks (bench/upsert, bench/nested): a flat parquet
// file decoded (sluice's reader) into a column-major form holding exactly the values the pool
// binds (docs/design/pool.md, "SQLite storage": integers, REAL decimals, TEXT dates and
// timestamps), so that a ceiling's clock covers only SQLite. Decoded rows stay in memory.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/parquet.h"

namespace sluice_bench {

using sluice::batch::Column;
using sluice::batch::TypeId;

enum class Kind { kNull, kInt, kReal, kText };

// One column of a whole file, as SQLite values.
struct Values {
  Kind kind = Kind::kNull;
  std::vector<uint8_t> valid;
  std::vector<int64_t> ints;
  std::vector<double> reals;
  std::vector<int64_t> offsets{0};
  std::vector<char> chars;

  void AddText(std::string_view s) {
    chars.insert(chars.end(), s.begin(), s.end());
    offsets.push_back(static_cast<int64_t>(chars.size()));
  }
};

struct Decoded {
  std::vector<std::string> names;
  std::vector<Values> columns;
  int64_t rows = 0;
};

inline Kind KindOf(const sluice::batch::DataType& t) {
  if (t.id == TypeId::kBool || sluice::batch::IsInteger(t.id)) return Kind::kInt;
  if (sluice::batch::IsFloating(t.id)) return Kind::kReal;
  switch (t.id) {
    case TypeId::kDecimal:
      // docs/design/pool.md: INTEGER when s = 0, REAL when <= 15 digits; this ceiling handles those
      // two.
      return t.scale == 0 ? Kind::kInt : Kind::kReal;
    case TypeId::kString:
    case TypeId::kDate:
    case TypeId::kTimestamp:
      return Kind::kText;
    default:
      return Kind::kNull;
  }
}

inline double Pow10(int scale) {
  double p = 1;
  for (int i = 0; i < scale; ++i) p *= 10;
  return p;
}

inline void Append(const Column& c, int64_t n, Values* out) {
  for (int64_t r = 0; r < n; ++r) {
    out->valid.push_back(c.IsValid(r) ? 1 : 0);
    switch (out->kind) {
      case Kind::kInt:
        if (c.type.id == TypeId::kBool) {
          out->ints.push_back(c.fixed[static_cast<size_t>(r)]);
        } else if (c.type.id == TypeId::kDecimal) {
          out->ints.push_back(static_cast<int64_t>(c.Value<__int128>(r)));
        } else {
          out->ints.push_back(c.Value<int64_t>(r));
        }
        break;
      case Kind::kReal:
        if (c.type.id == TypeId::kDecimal) {
          out->reals.push_back(static_cast<double>(static_cast<int64_t>(c.Value<__int128>(r))) /
                               Pow10(c.type.scale));
        } else if (c.type.id == TypeId::kFloat) {
          out->reals.push_back(c.Value<float>(r));
        } else {
          out->reals.push_back(c.Value<double>(r));
        }
        break;
      case Kind::kText:
        if (c.type.id == TypeId::kTimestamp) {
          out->AddText(
              sluice::batch::FormatTimestamp(c.Value<int64_t>(r), c.type.unit, c.type.utc));
        } else if (c.type.id == TypeId::kDate) {
          out->AddText(sluice::batch::FormatDate(c.Value<int32_t>(r)));
        } else {
          out->AddText(c.StringAt(r));
        }
        break;
      case Kind::kNull:
        break;
    }
  }
}

inline sluice::Result<Decoded> Decode(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto file, sluice::FileSystem::Default().OpenRandomAccess(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, sluice::parquet::OpenParquet(std::move(file)));
  Decoded d;
  for (const auto& f : reader->schema().fields) {
    d.names.push_back(f.name);
    Values v;
    v.kind = KindOf(f.type);
    if (v.kind == Kind::kNull) {
      return sluice::Err(sluice::ErrorCode::kInvalidArgument,
                         "column '" + f.name + "' has a type this ceiling does not bind: " +
                             sluice::batch::TypeName(f.type));
    }
    d.columns.push_back(std::move(v));
  }
  sluice::batch::Batch b;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    for (size_t i = 0; i < d.columns.size(); ++i) Append(b.columns[i], b.num_rows, &d.columns[i]);
    d.rows += b.num_rows;
  }
  return d;
}

}  // namespace sluice_bench
