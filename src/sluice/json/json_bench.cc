// JSON decode throughput: a flat orders-like JSON Lines file (the columns of
// ../shared/parquet/generated/orders_flat_*: integers, a double, decimals as numbers, strings,
// dates and timestamps), generated in memory and read through the public reader into batches.
// Reports MB/s (bytes_per_second) and rows/s (items_per_second). Variants: plain, gzip.
//
// `json_bench --write=PATH` writes the plain file and exits, so that other engines (DuckDB's
// read_json) can be timed on the same bytes; see the numbers in the commit that added this.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/json/json.h"

namespace {

constexpr int kRows = 200000;

const std::string& Orders() {
  static const std::string text = [] {
    std::mt19937_64 rng(42);
    static const char* kStatus[] = {"pending", "paid", "shipped", "delivered", "cancelled"};
    std::string out;
    out.reserve(static_cast<size_t>(kRows) * 330);
    char buf[512];
    for (int i = 0; i < kRows; ++i) {
      const uint64_t r = rng();
      const int n = std::snprintf(
          buf, sizeof(buf),
          "{\"order_id\":%d,\"customer_id\":%d,\"is_priority\":%s,\"qty\":%d,\"ref\":%lld,"
          "\"score\":%.6f,\"price\":%d.%02d,\"amount\":%lld.%04d,\"status\":\"%s\","
          "\"note\":\"order %d for customer %d\",\"order_date\":\"2024-%02d-%02d\","
          "\"created_at\":\"2024-%02d-%02dT%02d:%02d:%02d.%06d\",\"updated_tz\":"
          "\"2024-%02d-%02dT%02d:%02d:%02dZ\"}\n",
          100000 + i, static_cast<int>(r % 50000), (r & 1) ? "true" : "false",
          static_cast<int>(r % 100), static_cast<long long>(r >> 8), (r % 1000000) / 7.0,
          static_cast<int>(r % 10000), static_cast<int>(r % 100),
          static_cast<long long>(r % 100000000), static_cast<int>(r % 10000), kStatus[r % 5], i,
          static_cast<int>(r % 50000), static_cast<int>(r % 12) + 1, static_cast<int>(r % 28) + 1,
          static_cast<int>(r % 12) + 1, static_cast<int>(r % 28) + 1, static_cast<int>(r % 24),
          static_cast<int>(r % 60), static_cast<int>((r >> 6) % 60), static_cast<int>(r % 1000000),
          static_cast<int>(r % 12) + 1, static_cast<int>(r % 28) + 1, static_cast<int>(r % 24),
          static_cast<int>(r % 60), static_cast<int>((r >> 6) % 60));
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }();
  return text;
}

void Decode(benchmark::State& state, const std::string& bytes) {
  int64_t rows = 0;
  for (auto _ : state) {
    auto reader = sluice::json::OpenJson(sluice::testing::MemoryFile::Borrow(bytes, "bench.jsonl"));
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      return;
    }
    sluice::batch::Batch batch;
    while (true) {
      auto more = (*reader)->Next(&batch);
      if (!more.ok()) {
        state.SkipWithError(more.status().ToString().c_str());
        return;
      }
      if (!*more) break;
      rows += batch.num_rows;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Orders().size()));
  state.SetItemsProcessed(rows);
}

void BM_JsonLinesOrders(benchmark::State& state) { Decode(state, Orders()); }
BENCHMARK(BM_JsonLinesOrders)->Unit(benchmark::kMillisecond);

void BM_JsonArrayOrders(benchmark::State& state) {
  static const std::string array = [] {
    std::string a = "[";
    const std::string& lines = Orders();
    size_t at = 0;
    bool first = true;
    while (at < lines.size()) {
      const size_t nl = lines.find('\n', at);
      if (!first) a += ",\n";
      first = false;
      a.append(lines, at, nl - at);
      at = nl + 1;
    }
    return a + "]\n";
  }();
  Decode(state, array);
}
BENCHMARK(BM_JsonArrayOrders)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--write=", 8) == 0) {
      std::ofstream(argv[i] + 8, std::ios::binary) << Orders();
      return 0;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
