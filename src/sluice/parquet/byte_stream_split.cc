#include "sluice/parquet/byte_stream_split.h"

namespace sluice::parquet {

Status UnsplitByteStreams(ByteView data, int64_t n, size_t width, std::vector<uint8_t>* plain) {
  if (width == 0 || data.size() % width != 0 || data.size() / width < static_cast<uint64_t>(n)) {
    return Err(ErrorCode::kCorruptFile, "BYTE_STREAM_SPLIT: " + std::to_string(data.size()) +
                                            " bytes do not hold " + std::to_string(n) +
                                            " values of " + std::to_string(width) + " bytes");
  }
  const size_t stride = data.size() / width;
  const size_t count = static_cast<size_t>(n);
  plain->resize(count * width);
  for (size_t k = 0; k < width; ++k) {
    const uint8_t* stream = data.data() + k * stride;
    uint8_t* dst = plain->data() + k;
    for (size_t i = 0; i < count; ++i) dst[i * width] = stream[i];
  }
  return Status::Ok();
}

}  // namespace sluice::parquet
