// libFuzzer target: a whole Parquet file. The input is the file; it is opened through the
// public reader, every batch is read and rendered in the canonical JSONL form (so that every
// decoded value is touched, as `sluice cat` does). An error is a fine outcome; a crash, a
// sanitizer report, a hang or an allocation past libFuzzer's limits is a finding.
//
// Seeds: the small files of ../shared/parquet (tests/fuzz/parquet_seeds.py, at build time).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/batch/batch.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/parquet/parquet.h"

namespace {

// Stops rendering once this much text exists: the point is to touch the values, and a hostile
// file may legitimately declare millions of rows within the reader's limits.
constexpr size_t kMaxRenderedBytes = 8u << 20;

void DecodeAll(const uint8_t* data, size_t size, const sluice::parquet::ReaderOptions& options) {
  auto reader = sluice::parquet::OpenParquet(
      std::make_unique<sluice::testing::MemoryFile>(data, size, "fuzz.parquet"), options);
  if (!reader.ok()) return;
  std::string out;
  sluice::batch::Batch batch;
  while (true) {
    auto more = (*reader)->Next(&batch);
    if (!more.ok() || !*more) return;
    if (out.size() < kMaxRenderedBytes) sluice::batch::AppendCanonicalJsonl(batch, &out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DecodeAll(data, size, {});
  // Projection takes a different path through the column chunks: read the last column alone.
  auto schema = sluice::parquet::OpenParquet(
      std::make_unique<sluice::testing::MemoryFile>(data, size, "fuzz.parquet"));
  if (schema.ok() && !(*schema)->schema().fields.empty()) {
    sluice::parquet::ReaderOptions last;
    last.columns.push_back((*schema)->schema().fields.back().name);
    DecodeAll(data, size, last);
  }
  return 0;
}
