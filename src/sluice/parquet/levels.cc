#include "sluice/parquet/levels.h"

#include "sluice/parquet/rle_hybrid.h"

namespace sluice::parquet {

int LevelBitWidth(int max_level) {
  int width = 0;
  while ((1 << width) <= max_level) ++width;
  return width;
}

Result<int64_t> DecodeFlatDefinitionLevels(ByteView data, int64_t n, std::vector<uint32_t>* scratch,
                                           std::vector<uint8_t>* valid) {
  scratch->resize(static_cast<size_t>(n));
  valid->resize(static_cast<size_t>(n));
  RleBitPackedDecoder decoder(data, LevelBitWidth(1));
  Status st = decoder.GetBatch(scratch->data(), n);
  if (!st.ok()) return st.WithContext("definition levels");
  int64_t present = 0;
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t level = (*scratch)[static_cast<size_t>(i)];
    bad |= level & ~1u;
    (*valid)[static_cast<size_t>(i)] = static_cast<uint8_t>(level & 1);
    present += level & 1;
  }
  if (bad != 0) return Err(ErrorCode::kCorruptFile, "definition level above the maximum 1");
  return present;
}

}  // namespace sluice::parquet
