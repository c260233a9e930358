// libFuzzer target: the footer and thrift layer. The input is the thrift-compact bytes of a
// FileMetaData (what lies between the column data and the trailing length + "PAR1"). Each
// input is
//   1. decoded by ParseFileMetaData directly;
//   2. framed as a whole file ("PAR1" input length "PAR1") and opened through the public
//      reader and `sluice schema` (ReadFooter, then the schema tree and column checks), and
//      its batches read (column chunk offsets then point into the fuzzed bytes);
//   3. decoded as a page header by ParsePageHeader (the other thrift structure of the format).
// Errors are fine; crashes, sanitizer reports, hangs and oversized allocations are findings.
//
// Seeds: the footers of the files of ../shared/parquet (tests/fuzz/parquet_seeds.py).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/parquet/metadata.h"
#include "sluice/parquet/parquet.h"

namespace {

std::vector<uint8_t> Frame(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file;
  file.reserve(size + 12);
  file.insert(file.end(), {'P', 'A', 'R', '1'});
  file.insert(file.end(), data, data + size);
  const auto length = static_cast<uint32_t>(size);
  uint8_t le[4];
  std::memcpy(le, &length, 4);  // x86-64 and aarch64: little-endian, as the format is
  file.insert(file.end(), le, le + 4);
  file.insert(file.end(), {'P', 'A', 'R', '1'});
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sluice::ByteView bytes(data, size);
  (void)sluice::parquet::ParseFileMetaData(bytes);

  const std::vector<uint8_t> file = Frame(data, size);
  (void)sluice::parquet::DescribeSchema(
      std::make_unique<sluice::testing::MemoryFile>(file, "fuzz.parquet"));
  auto reader = sluice::parquet::OpenParquet(
      std::make_unique<sluice::testing::MemoryFile>(file, "fuzz.parquet"));
  if (reader.ok()) {
    sluice::batch::Batch batch;
    while (true) {
      auto more = (*reader)->Next(&batch);
      if (!more.ok() || !*more) break;
    }
  }

  size_t header_size = 0;
  (void)sluice::parquet::ParsePageHeader(bytes, &header_size);
  return 0;
}
