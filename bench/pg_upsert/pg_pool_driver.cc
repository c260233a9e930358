// sluice's PostgreSQL pool alone, for bench/pg_upsert/bench.py --pool-alone: no S3, no landing,
// no ledger, no prefetch thread. Each FILE is decoded (sluice's Parquet reader, batches as the
// reader yields them) into memory before the clock starts; then, timed from BeginLoad to the end
// of Commit, the batches are applied through pool::OpenPostgresPool's LoadTransaction, one
// transaction per file, as the loader does. It tells the pool's share of the end-to-end gap to
// the ceiling (pg_ceiling.cc) apart from the rest of sluice.
//
// Usage: sluice_pg_pool_driver --dsn CONNINFO --schema NAME --table NAME --pk COL FILE...
// Prints one JSON line per file: {"phase": "pool", "file", "rows", "seconds", "rows_per_s",
// "inserted", "updated", "decode_seconds"}. The decoded batches stay in memory.

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/clock.h"
#include "sluice/core/core.h"
#include "sluice/parquet/parquet.h"
#include "sluice/pool/pool.h"

namespace {

constexpr const char* kProgram = "sluice_pg_pool_driver";

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

sluice::Result<std::vector<sluice::batch::Batch>> Decode(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto file, sluice::FileSystem::Default().OpenRandomAccess(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, sluice::parquet::OpenParquet(std::move(file)));
  std::vector<sluice::batch::Batch> batches;
  while (true) {
    sluice::batch::Batch b;
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    batches.push_back(std::move(b));
  }
  return batches;
}

int Fail(const std::string& what, const sluice::Status& status) {
  std::fprintf(stderr, "%s: %s: %s\n", kProgram, what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dsn, schema, table, pk;
  std::vector<std::string> files;
  const std::map<std::string, std::string*> flags = {
      {"--dsn", &dsn}, {"--schema", &schema}, {"--table", &table}, {"--pk", &pk}};
  for (int i = 1; i < argc; ++i) {
    const auto it = flags.find(argv[i]);
    if (it == flags.end()) {
      files.emplace_back(argv[i]);
    } else {
      *it->second = i + 1 < argc ? argv[++i] : "";
    }
  }
  if (dsn.empty() || schema.empty() || table.empty() || pk.empty() || files.empty()) {
    std::fprintf(stderr, "usage: %s --dsn CONNINFO --schema NAME --table NAME --pk COL FILE...\n",
                 kProgram);
    return 1;
  }
  const sluice::Clock& clock = sluice::SystemClock::Instance();
  auto pool = sluice::pool::OpenPostgresPool(dsn, clock);
  if (!pool.ok()) return Fail("opening the pool", pool.status());
  const sluice::pool::TableSpec spec{schema, table, {pk}, "", ""};
  int64_t seq = 0;
  for (const std::string& path : files) {
    const auto decode_start = std::chrono::steady_clock::now();
    auto batches = Decode(path);
    if (!batches.ok()) return Fail(path, batches.status());
    const double decode_seconds = Seconds(decode_start);
    int64_t rows = 0;
    for (const auto& b : *batches) rows += b.num_rows;

    const auto start = std::chrono::steady_clock::now();
    auto load = (*pool)->BeginLoad(spec, ++seq);
    if (!load.ok()) return Fail(path, load.status());
    for (const auto& b : *batches) {
      const sluice::Status st = (*load)->Apply(b);
      if (!st.ok()) return Fail(path, st);
    }
    const sluice::Status st = (*load)->Commit(clock.NowMicros());
    if (!st.ok()) return Fail(path, st);
    const double seconds = Seconds(start);
    std::printf(
        "{\"phase\": \"pool\", \"file\": \"%s\", \"rows\": %lld, \"seconds\": %.4f, "
        "\"rows_per_s\": %.0f, \"inserted\": %lld, \"updated\": %lld, "
        "\"decode_seconds\": %.3f}\n",
        path.c_str(), static_cast<long long>(rows), seconds, static_cast<double>(rows) / seconds,
        static_cast<long long>((*load)->counts().inserted),
        static_cast<long long>((*load)->counts().updated), decode_seconds);
    std::fflush(stdout);
  }
  return 0;
}
