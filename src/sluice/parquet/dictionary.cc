#include "sluice/parquet/dictionary.h"

#include <algorithm>
#include <cstring>

#include "sluice/parquet/rle_hybrid.h"

namespace sluice::parquet {
namespace {

template <size_t kWidth>
void GatherFixed(const uint8_t* dict, const uint32_t* indices, int64_t n, uint8_t* dst) {
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + static_cast<size_t>(i) * kWidth,
                dict + static_cast<size_t>(indices[i]) * kWidth, kWidth);
  }
}

}  // namespace

Status DecodeDictionaryIndices(ByteView data, int64_t n, int64_t dictionary_size,
                               std::vector<uint32_t>* indices) {
  indices->resize(static_cast<size_t>(n));
  if (n == 0) return Status::Ok();
  if (data.empty()) return Err(ErrorCode::kCorruptFile, "dictionary indices: missing bit width");
  const int bit_width = data[0];
  if (bit_width > 32) {
    return Err(ErrorCode::kCorruptFile,
               "dictionary indices: bit width " + std::to_string(bit_width) + " exceeds 32");
  }
  RleBitPackedDecoder decoder(data.subspan(1), bit_width);
  Status st = decoder.GetBatch(indices->data(), n);
  if (!st.ok()) return st.WithContext("dictionary indices");
  const uint32_t max_index = *std::max_element(indices->begin(), indices->end());
  if (static_cast<int64_t>(max_index) >= dictionary_size) {
    return Err(ErrorCode::kCorruptFile, "dictionary index " + std::to_string(max_index) +
                                            " out of range (the dictionary has " +
                                            std::to_string(dictionary_size) + " values)");
  }
  return Status::Ok();
}

void GatherDictionary(const batch::Column& dictionary, const uint32_t* indices, int64_t n,
                      batch::Column* out) {
  if (n == 0) return;
  if (!dictionary.offsets.empty()) {
    out->offsets.reserve(out->offsets.size() + static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const std::string_view v = dictionary.StringAt(indices[i]);
      out->chars.insert(out->chars.end(), v.begin(), v.end());
      out->offsets.push_back(static_cast<int64_t>(out->chars.size()));
    }
  } else {
    const size_t width = batch::FixedWidth(dictionary.type.id);
    const size_t start = out->fixed.size();
    out->fixed.resize(start + static_cast<size_t>(n) * width);
    uint8_t* dst = out->fixed.data() + start;
    const uint8_t* src = dictionary.fixed.data();
    switch (width) {
      case 1:
        GatherFixed<1>(src, indices, n, dst);
        break;
      case 4:
        GatherFixed<4>(src, indices, n, dst);
        break;
      case 8:
        GatherFixed<8>(src, indices, n, dst);
        break;
      case 12:
        GatherFixed<12>(src, indices, n, dst);
        break;
      case 16:
        GatherFixed<16>(src, indices, n, dst);
        break;
      default:
        for (int64_t i = 0; i < n; ++i) {
          std::memcpy(dst + static_cast<size_t>(i) * width,
                      src + static_cast<size_t>(indices[i]) * width, width);
        }
    }
  }
  out->length += n;
}

}  // namespace sluice::parquet
