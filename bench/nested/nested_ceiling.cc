// The ceiling of the nested benchmark (bench/nested/bench.py): the same unnested rows that
// sluice writes for a nested file (the root table and one child table), upserted through
// SQLite's C API with nothing else in the way. bench.py unnests each nested file with DuckDB
// into two flat files (root rows ordered by key; child rows ordered by foreign key, then
// position); both are decoded (sluice's reader, bench/upsert/decoded_file.h) before any clock
// starts. Then, in one transaction per file, for each root row in order: one prepared
// INSERT ... ON CONFLICT DO UPDATE of the root row; the parent's previous children removed
// with DELETE FROM child WHERE fk = ? (skipped when the child table was empty when the file
// began, as sluice skips it); its new children upserted with a prepared statement. Timed from
// BEGIN to COMMIT.
//
// Tuned as PERFORMANCE.md's ceiling: WAL, synchronous=NORMAL, temp_store=MEMORY, 1 GiB page
// cache; the tables are created with --ddl (the CREATE TABLEs sluice's pool wrote).
//
// Usage: sluice_nested_ceiling --db PATH --ddl SQL --root NAME --root-pk COL --child NAME
//          --child-fk COL --child-pk COL[,COL...] [--cache-mib N] ROOT CHILD [ROOT CHILD...]
// Prints one JSON line per pair: {"file", "roots", "children", "seconds", "decode_seconds"}.

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "../upsert/decoded_file.h"

namespace {

using sluice_bench::Decode;
using sluice_bench::Decoded;
using sluice_bench::Kind;
using sluice_bench::Values;

std::string Quote(const std::string& name) { return "\"" + name + "\""; }

bool Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return true;
  std::fprintf(stderr, "sluice_nested_ceiling: %s: %s\n", sql.c_str(), error ? error : "?");
  sqlite3_free(error);
  return false;
}

sqlite3_stmt* Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "sluice_nested_ceiling: %s: %s\n", sql.c_str(), sqlite3_errmsg(db));
    return nullptr;
  }
  return stmt;
}

// The upsert of every column of `d` on `key`.
std::string UpsertSql(const std::string& table, const Decoded& d,
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

void BindValue(sqlite3_stmt* stmt, int param, const Values& v, size_t row) {
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

bool Step(sqlite3* db, sqlite3_stmt* stmt, const char* what, int64_t row) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc == SQLITE_DONE) return true;
  std::fprintf(stderr, "sluice_nested_ceiling: %s row %lld: %s\n", what,
               static_cast<long long>(row), sqlite3_errmsg(db));
  return false;
}

bool Row(sqlite3* db, sqlite3_stmt* stmt, const Decoded& d, int64_t r, const char* what) {
  for (size_t i = 0; i < d.columns.size(); ++i) {
    BindValue(stmt, static_cast<int>(i) + 1, d.columns[i], static_cast<size_t>(r));
  }
  return Step(db, stmt, what, r);
}

int Column(const Decoded& d, const std::string& name) {
  for (size_t i = 0; i < d.names.size(); ++i) {
    if (d.names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, ddl, root, root_pk, child, child_fk, child_pk_list;
  std::string cache_mib = "1024";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--db") {
      db_path = value();
    } else if (arg == "--ddl") {
      ddl = value();
    } else if (arg == "--root") {
      root = value();
    } else if (arg == "--root-pk") {
      root_pk = value();
    } else if (arg == "--child") {
      child = value();
    } else if (arg == "--child-fk") {
      child_fk = value();
    } else if (arg == "--child-pk") {
      child_pk_list = value();
    } else if (arg == "--cache-mib") {
      cache_mib = value();
    } else {
      files.push_back(arg);
    }
  }
  if (db_path.empty() || ddl.empty() || root.empty() || root_pk.empty() || child.empty() ||
      child_fk.empty() || child_pk_list.empty() || files.empty() || files.size() % 2 != 0) {
    std::fprintf(stderr,
                 "usage: sluice_nested_ceiling --db PATH --ddl SQL --root NAME --root-pk COL "
                 "--child NAME --child-fk COL --child-pk COL[,COL] ROOT CHILD [ROOT CHILD...]\n");
    return 1;
  }
  std::vector<std::string> child_pk;
  {
    std::stringstream in(child_pk_list);
    std::string col;
    while (std::getline(in, col, ',')) child_pk.push_back(col);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "sluice_nested_ceiling: cannot open %s\n", db_path.c_str());
    return 1;
  }
  if (!Exec(db,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
            "PRAGMA cache_size=-" +
                std::to_string(std::stoll(cache_mib) * 1024)) ||
      !Exec(db, ddl)) {
    return 1;
  }
  for (size_t f = 0; f < files.size(); f += 2) {
    const auto decode_start = std::chrono::steady_clock::now();
    auto roots = Decode(files[f]);
    auto children = Decode(files[f + 1]);
    for (const auto* d : {&roots, &children}) {
      if (!d->ok()) {
        std::fprintf(stderr, "sluice_nested_ceiling: %s\n", d->status().ToString().c_str());
        return 1;
      }
    }
    const double decode_seconds = Seconds(decode_start);
    const int key = Column(*roots, root_pk);
    const int fk = Column(*children, child_fk);
    if (key < 0 || fk < 0 || roots->columns[static_cast<size_t>(key)].kind != Kind::kInt ||
        children->columns[static_cast<size_t>(fk)].kind != Kind::kInt) {
      std::fprintf(stderr, "sluice_nested_ceiling: %s and %s must be integer columns\n",
                   root_pk.c_str(), child_fk.c_str());
      return 1;
    }
    const std::vector<int64_t>& keys = roots->columns[static_cast<size_t>(key)].ints;
    const std::vector<int64_t>& fks = children->columns[static_cast<size_t>(fk)].ints;

    const auto start = std::chrono::steady_clock::now();
    if (!Exec(db, "BEGIN IMMEDIATE")) return 1;
    bool child_empty = true;
    {
      sqlite3_stmt* any = Prepare(db, "SELECT 1 FROM " + Quote(child) + " LIMIT 1");
      if (any == nullptr) return 1;
      child_empty = sqlite3_step(any) != SQLITE_ROW;
      sqlite3_finalize(any);
    }
    sqlite3_stmt* up_root = Prepare(db, UpsertSql(root, *roots, {root_pk}));
    sqlite3_stmt* del_children =
        Prepare(db, "DELETE FROM " + Quote(child) + " WHERE " + Quote(child_fk) + " = ?");
    sqlite3_stmt* up_child = Prepare(db, UpsertSql(child, *children, child_pk));
    if (up_root == nullptr || del_children == nullptr || up_child == nullptr) return 1;
    size_t c = 0;
    for (int64_t r = 0; r < roots->rows; ++r) {
      if (!Row(db, up_root, *roots, r, "root")) return 1;
      const int64_t k = keys[static_cast<size_t>(r)];
      if (!child_empty) {
        sqlite3_bind_int64(del_children, 1, k);
        if (!Step(db, del_children, "delete children of", r)) return 1;
      }
      if (c < fks.size() && fks[c] < k) {
        std::fprintf(stderr, "sluice_nested_ceiling: child rows are not in root order\n");
        return 1;
      }
      for (; c < fks.size() && fks[c] == k; ++c) {
        if (!Row(db, up_child, *children, static_cast<int64_t>(c), "child")) return 1;
      }
    }
    sqlite3_finalize(up_root);
    sqlite3_finalize(del_children);
    sqlite3_finalize(up_child);
    if (!Exec(db, "COMMIT")) return 1;
    const double seconds = Seconds(start);
    std::printf(
        "{\"file\": \"%s\", \"roots\": %lld, \"children\": %lld, \"seconds\": %.4f, "
        "\"decode_seconds\": %.3f}\n",
        files[f].c_str(), static_cast<long long>(roots->rows),
        static_cast<long long>(children->rows), seconds, decode_seconds);
    std::fflush(stdout);
  }
  sqlite3_close(db);
  return 0;
}
