#include "sluice/batch/limits.h"

#include <algorithm>

namespace sluice::batch {

ReadLimits ReadLimits::ForLoadMemory(uint64_t load_memory) {
  const uint64_t l = std::max(load_memory, kMinLoadMemory);
  return ReadLimits{l / 16, l / 2};
}

uint64_t ColumnBytes(const Column& column) {
  uint64_t total = column.validity.size() + column.fixed.size() +
                   column.offsets.size() * sizeof(int64_t) + column.chars.size();
  for (const Column& child : column.children) total += ColumnBytes(child);
  return total;
}

uint64_t BatchBytes(const Batch& batch) {
  uint64_t total = 0;
  for (const Column& column : batch.columns) total += ColumnBytes(column);
  return total;
}

uint64_t RowSlotBytes(const DataType& type) {
  uint64_t slot = 1;  // validity
  switch (type.id) {
    case TypeId::kNull:
      return 0;
    case TypeId::kStruct:
      for (const Field& f : type.children) slot += RowSlotBytes(f.type);
      return slot;
    default:
      break;
  }
  const size_t width = FixedWidth(type.id);
  return slot + (width ? width : sizeof(int64_t));
}

uint64_t RowSlotBytes(const Schema& schema) {
  uint64_t total = 0;
  for (const Field& f : schema.fields) total += RowSlotBytes(f.type);
  return total;
}

Status InflationGuard::Add(uint64_t consumed, uint64_t produced) {
  consumed_ += consumed;
  produced_ += produced;
  // ratio_ x consumed_ cannot overflow for any real input (ratio <= 2^20, input < 2^43).
  if (produced_ <= floor_ + ratio_ * consumed_) return Status::Ok();
  return Err(ErrorCode::kCorruptFile,
             what_ + " expand to more than " + std::to_string(floor_ >> 20) + " MiB + " +
                 std::to_string(ratio_) + " x the " + std::to_string(consumed_) +
                 " bytes they came from (" + std::to_string(produced_) +
                 " bytes so far): refused as a decompression bomb");
}

Status LimitExceeded(const std::string& what, uint64_t needed, const char* budget, uint64_t limit) {
  return Err(ErrorCode::kLimitExceeded, what + " needs " + std::to_string(needed) +
                                            " bytes, more than the " + budget + " budget of " +
                                            std::to_string(limit) +
                                            " bytes; raise --load-memory to load this file");
}

}  // namespace sluice::batch
