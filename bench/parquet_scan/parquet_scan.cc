// sluice_parquet_scan FILE [--repeat N] [--columns a,b,...]
//
// Scans FILE with sluice's Parquet reader and touches every value of every column of every
// batch (a checksum over validity, fixed-width values, string bytes and nested children), so
// that nothing the reader decodes lazily escapes the measurement. Prints one JSON line:
//   {"engine":"sluice","rows":N,"seconds":[..],"decode_seconds":[..],"cpu_seconds":[..],
//    "checksum":".."}
// seconds = wall time of open + decode + touch per repetition; decode_seconds = the part spent
// in the reader (OpenParquet and Next); cpu_seconds = the process's CPU time over the same span
// (robust to a busy machine). Exit 2 with the reader's error when it refuses the file.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/parquet.h"

namespace {

using sluice::batch::Column;
using sluice::batch::TypeId;
using Clock = std::chrono::steady_clock;

inline uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

// Eight bytes at a time, then the tail: every byte of the buffer reaches the checksum.
uint64_t HashBytes(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = Mix(h, w);
  }
  uint64_t tail = 0;
  if (i < n) std::memcpy(&tail, p + i, n - i);
  return Mix(h, tail ^ n);
}

uint64_t TouchColumn(const Column& column, uint64_t h) {
  const int64_t n = column.length;
  if (!column.validity.empty()) h = HashBytes(column.validity.data(), column.validity.size(), h);
  switch (column.type.id) {
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBinary:
      h = HashBytes(column.offsets.data(), column.offsets.size() * sizeof(int64_t), h);
      return HashBytes(column.chars.data(), column.chars.size(), h);
    case TypeId::kList:
    case TypeId::kMap:
      h = HashBytes(column.offsets.data(), column.offsets.size() * sizeof(int64_t), h);
      for (const Column& child : column.children) h = TouchColumn(child, h);
      return h;
    case TypeId::kStruct:
      for (const Column& child : column.children) h = TouchColumn(child, h);
      return h;
    case TypeId::kNull:
      return Mix(h, static_cast<uint64_t>(n));
    default: {
      const size_t bytes = static_cast<size_t>(n) * sluice::batch::FixedWidth(column.type.id);
      if (column.fixed.size() < bytes) {
        std::fprintf(stderr, "column of %lld rows has only %zu fixed bytes\n",
                     static_cast<long long>(n), column.fixed.size());
        std::exit(3);
      }
      return HashBytes(column.fixed.data(), bytes, h);
    }
  }
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Run {
  int64_t rows = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  double decode_seconds = 0;
  uint64_t checksum = 0;
};

sluice::Result<Run> ScanOnce(const std::string& path, const sluice::parquet::ReaderOptions& opts) {
  Run run;
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  SLUICE_ASSIGN_OR_RETURN(auto file, sluice::FileSystem::Default().OpenRandomAccess(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, sluice::parquet::OpenParquet(std::move(file), opts));
  auto decode = Clock::now() - start;
  sluice::batch::Batch batch;
  while (true) {
    const auto before = Clock::now();
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    decode += Clock::now() - before;
    if (!more) break;
    run.rows += batch.num_rows;
    for (const Column& column : batch.columns) run.checksum = TouchColumn(column, run.checksum);
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  run.cpu_seconds = CpuSeconds() - cpu_start;
  run.decode_seconds = std::chrono::duration<double>(decode).count();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int repeat = 1;
  sluice::parquet::ReaderOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--columns" && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        options.columns.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (path.empty() && !arg.starts_with("--")) {
      path = arg;
    } else {
      std::fprintf(stderr, "usage: sluice_parquet_scan FILE [--repeat N] [--columns a,b]\n");
      return 1;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: sluice_parquet_scan FILE [--repeat N] [--columns a,b]\n");
    return 1;
  }
  std::string seconds;
  std::string decode_seconds;
  std::string cpu_seconds;
  Run last;
  for (int r = 0; r < repeat; ++r) {
    auto run = ScanOnce(path, options);
    if (!run.ok()) {
      std::fprintf(stderr, "sluice: %s\n", run.status().ToString().c_str());
      return 2;
    }
    if (r > 0 && (run->rows != last.rows || run->checksum != last.checksum)) {
      std::fprintf(stderr, "sluice: repetition %d read different data\n", r);
      return 3;
    }
    last = *run;
    seconds += (r ? "," : "") + std::to_string(run->seconds);
    decode_seconds += (r ? "," : "") + std::to_string(run->decode_seconds);
    cpu_seconds += (r ? "," : "") + std::to_string(run->cpu_seconds);
  }
  std::printf(
      "{\"engine\":\"sluice\",\"rows\":%lld,\"seconds\":[%s],\"decode_seconds\":[%s],"
      "\"cpu_seconds\":[%s],\"checksum\":\"%016llx\"}\n",
      static_cast<long long>(last.rows), seconds.c_str(), decode_seconds.c_str(),
      cpu_seconds.c_str(), static_cast<unsigned long long>(last.checksum));
  return 0;
}
