#pragma once
// Shared by the SQLite ceilings of the benchmarks (bench/upsert, bench/nested): a database
// tuned as PERFORMANCE.md's ceiling (WAL, synchronous=NORMAL, temp_store=MEMORY, a large page
// cache), the upsert statement of a decoded file's columns and the binding of its rows.
// Errors are printed to stderr prefixed with the program's name; callers give up on the first.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "decoded_file.h"

namespace sluice_bench {

inline std::string Quote(const std::string& name) { return "\"" + name + "\""; }

// The command line of a ceiling program: `--name value` for each name in `flags` (the value
// goes to its string), every other argument to `positional`.
inline void ParseArgs(int argc, char** argv, const std::map<std::string, std::string*>& flags,
                      std::vector<std::string>* positional) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto it = flags.find(arg);
    if (it == flags.end()) {
      positional->push_back(arg);
    } else {
      *it->second = i + 1 < argc ? argv[++i] : std::string();
    }
  }
}

inline double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// INSERT ... ON CONFLICT(key) DO UPDATE of every column of `d`.
inline std::string UpsertSql(const std::string& table, const Decoded& d,
                             const std::vector<std::string>& key) {
  std::string cols, params, sets, conflict;
  for (size_t i = 0; i < d.names.size(); ++i) {
    cols += (i ? "," : "") + Quote(d.names[i]);
    params += i ? ",?" : "?";
    bool is_key = false;
    for (const std::string& k : key) is_key |= k == d.names[i];
    if (!is_key) {
      sets += (sets.empty() ? "" : ",") + Quote(d.names[i]) + "=excluded." + Quote(d.names[i]);
    }
  }
  for (size_t k = 0; k < key.size(); ++k) conflict += (k ? "," : "") + Quote(key[k]);
  return "INSERT INTO " + Quote(table) + "(" + cols + ") VALUES(" + params + ") ON CONFLICT(" +
         conflict + ") DO UPDATE SET " + sets;
}

inline void BindValue(sqlite3_stmt* stmt, int param, const Values& v, size_t row) {
  if (!v.valid[row]) {
    sqlite3_bind_null(stmt, param);
    return;
  }
  switch (v.kind) {
    case Kind::kInt:
      sqlite3_bind_int64(stmt, param, v.ints[row]);
      break;
    case Kind::kReal:
      sqlite3_bind_double(stmt, param, v.reals[row]);
      break;
    case Kind::kText:
      sqlite3_bind_text(stmt, param, v.chars.data() + v.offsets[row],
                        static_cast<int>(v.offsets[row + 1] - v.offsets[row]), SQLITE_STATIC);
      break;
    case Kind::kNull:
      sqlite3_bind_null(stmt, param);
      break;
  }
}

// One SQLite connection of a ceiling program; `program` names it in error messages.
class CeilingDb {
 public:
  explicit CeilingDb(const char* program) : program_(program) {}
  ~CeilingDb() { sqlite3_close(db_); }
  CeilingDb(const CeilingDb&) = delete;
  CeilingDb& operator=(const CeilingDb&) = delete;

  // Opens `path` with a `cache_mib` MiB page cache, tuned as the ceiling, and runs `ddl`.
  bool Open(const std::string& path, const std::string& cache_mib, const std::string& ddl) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      std::fprintf(stderr, "%s: cannot open %s\n", program_, path.c_str());
      return false;
    }
    return Exec(
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
               "PRAGMA cache_size=-" +
               std::to_string(std::stoll(cache_mib) * 1024)) &&
           Exec(ddl);
  }

  bool Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return true;
    std::fprintf(stderr, "%s: %s: %s\n", program_, sql.c_str(), error ? error : "?");
    sqlite3_free(error);
    return false;
  }

  // nullptr (after printing why) when `sql` does not compile.
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "%s: %s: %s\n", program_, sql.c_str(), sqlite3_errmsg(db_));
      return nullptr;
    }
    return stmt;
  }

  // Steps `stmt` once and resets it; `what` and `row` name the row in the error message.
  bool Step(sqlite3_stmt* stmt, const char* what, int64_t row) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE) return true;
    std::fprintf(stderr, "%s: %s row %lld: %s\n", program_, what, static_cast<long long>(row),
                 sqlite3_errmsg(db_));
    return false;
  }

  // Binds every column of row `r` of `d` and steps once.
  bool Row(sqlite3_stmt* stmt, const Decoded& d, int64_t r, const char* what) {
    for (size_t i = 0; i < d.columns.size(); ++i) {
      BindValue(stmt, static_cast<int>(i) + 1, d.columns[i], static_cast<size_t>(r));
    }
    return Step(stmt, what, r);
  }

 private:
  const char* program_;
  sqlite3* db_ = nullptr;
};

}  // namespace sluice_bench
