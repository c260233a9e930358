// libFuzzer target: a whole JSON / JSON Lines file (possibly gzip). The input is the file; it is
// opened through the public reader with a tiny window (so records straddle reads) and every
// batch is rendered in the canonical JSONL form, touching every decoded value. The file is read
// a second time against the schema inferred the first time, as a table's known schema would
// be. An error is a fine outcome; a crash, a sanitizer report, a hang or an allocation past
// libFuzzer's limits is a finding.
//
// Seeds: testdata/fuzz_seeds (JSON Lines, an array, one object).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/json/json.h"

namespace {

// Stops rendering once this much text exists: the point is to touch the values.
constexpr size_t kMaxRenderedBytes = 8u << 20;

std::optional<sluice::batch::Schema> DecodeAll(const uint8_t* data, size_t size,
                                               const sluice::json::ReaderOptions& options) {
  auto reader = sluice::json::OpenJson(
      std::make_unique<sluice::testing::MemoryFile>(data, size, "fuzz.jsonl"), options);
  if (!reader.ok()) return std::nullopt;
  sluice::batch::Schema schema = (*reader)->schema();
  std::string out;
  sluice::batch::Batch batch;
  while (true) {
    auto more = (*reader)->Next(&batch);
    if (!more.ok() || !*more) break;
    if (out.size() < kMaxRenderedBytes) sluice::batch::AppendCanonicalJsonl(batch, &out);
  }
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::json::ReaderOptions options;
  options.window_bytes = 64;
  options.batch_rows = 5;
  options.infer_records = 3;
  auto schema = DecodeAll(data, size, options);
  if (schema) {
    options.schema = std::move(schema);
    options.infer_records = 0;
    DecodeAll(data, size, options);
  }
  return 0;
}
