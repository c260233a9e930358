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
#include "../upsert/sqlite_ceiling.h"

namespace {

using sluice_bench::CeilingDb;
using sluice_bench::Decode;
using sluice_bench::Decoded;
using sluice_bench::Kind;
using sluice_bench::ParseArgs;
using sluice_bench::Quote;
using sluice_bench::Seconds;
using sluice_bench::UpsertSql;

int Column(const Decoded& d, const std::string& name) {
  for (size_t i = 0; i < d.names.size(); ++i) {
    if (d.names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, ddl, root, root_pk, child, child_fk, child_pk_list;
  std::string cache_mib = "1024";
  std::vector<std::string> files;
  ParseArgs(argc, argv,
            {{"--db", &db_path},
             {"--ddl", &ddl},
             {"--root", &root},
             {"--root-pk", &root_pk},
             {"--child", &child},
             {"--child-fk", &child_fk},
             {"--child-pk", &child_pk_list},
             {"--cache-mib", &cache_mib}},
            &files);
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
  CeilingDb db("sluice_nested_ceiling");
  if (!db.Open(db_path, cache_mib, ddl)) return 1;
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
    if (!db.Exec("BEGIN IMMEDIATE")) return 1;
    bool child_empty = true;
    {
      sqlite3_stmt* any = db.Prepare("SELECT 1 FROM " + Quote(child) + " LIMIT 1");
      if (any == nullptr) return 1;
      child_empty = sqlite3_step(any) != SQLITE_ROW;
      sqlite3_finalize(any);
    }
    sqlite3_stmt* up_root = db.Prepare(UpsertSql(root, *roots, {root_pk}));
    sqlite3_stmt* del_children =
        db.Prepare("DELETE FROM " + Quote(child) + " WHERE " + Quote(child_fk) + " = ?");
    sqlite3_stmt* up_child = db.Prepare(UpsertSql(child, *children, child_pk));
    if (up_root == nullptr || del_children == nullptr || up_child == nullptr) return 1;
    size_t c = 0;
    for (int64_t r = 0; r < roots->rows; ++r) {
      if (!db.Row(up_root, *roots, r, "root")) return 1;
      const int64_t k = keys[static_cast<size_t>(r)];
      if (!child_empty) {
        sqlite3_bind_int64(del_children, 1, k);
        if (!db.Step(del_children, "delete children of", r)) return 1;
      }
      if (c < fks.size() && fks[c] < k) {
        std::fprintf(stderr, "sluice_nested_ceiling: child rows are not in root order\n");
        return 1;
      }
      for (; c < fks.size() && fks[c] == k; ++c) {
        if (!db.Row(up_child, *children, static_cast<int64_t>(c), "child")) return 1;
      }
    }
    sqlite3_finalize(up_root);
    sqlite3_finalize(del_children);
    sqlite3_finalize(up_child);
    if (!db.Exec("COMMIT")) return 1;
    const double seconds = Seconds(start);
    std::printf(
        "{\"file\": \"%s\", \"roots\": %lld, \"children\": %lld, \"seconds\": %.4f, "
        "\"decode_seconds\": %.3f}\n",
        files[f].c_str(), static_cast<long long>(roots->rows),
        static_cast<long long>(children->rows), seconds, decode_seconds);
    std::fflush(stdout);
  }
  return 0;
}
