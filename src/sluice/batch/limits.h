#pragma once
// Memory budgets every reader keeps, in bytes, whatever the file claims (the rows of a batch
// bound nothing: one row can hold a 1 MiB string a million times over through a dictionary).
//
//   --load-memory L (default kDefaultLoadMemory) is split once, here:
//     batch_bytes  = L / 16  the column data of one batch; a reader cuts a batch at this many
//                            bytes as well as at kBatchRows rows. The prefetch queue holds up
//                            to four batches (two waiting, one being built, one being written).
//     buffer_bytes = L / 2   what a reader holds between batches: pages, levels and
//                            dictionaries of every column it reads at once (writers put
//                            100 MiB pages in one-row-group files; several columns' pages
//                            are decoded side by side).
//   The rest is left to the sink (SQL statements, the pool's own cache) and to the allocator.
//
// A file that cannot be read within these budgets fails LIMIT_EXCEEDED with a message naming
// the budget and --load-memory. Output that grows far past the input (a decompression or
// dictionary bomb) fails CORRUPT_FILE through an InflationGuard, naming the limit.
//
// Thread-safety: plain values; an InflationGuard belongs to one reader.

#include <cstdint>
#include <string>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::batch {

// A 2-core, 4 GB machine runs a couple of loads at once next to the HTTP side.
inline constexpr uint64_t kDefaultLoadMemory = uint64_t{1} << 30;
// Below this, ordinary files (1 MiB pages, a few hundred columns) no longer fit.
inline constexpr uint64_t kMinLoadMemory = uint64_t{64} << 20;

struct ReadLimits {
  uint64_t batch_bytes = kDefaultLoadMemory / 16;
  uint64_t buffer_bytes = kDefaultLoadMemory / 2;

  static ReadLimits ForLoadMemory(uint64_t load_memory);
};

// Bytes a column's buffers use (sizes, not capacities), children included.
uint64_t ColumnBytes(const Column& column);
uint64_t BatchBytes(const Batch& batch);
// Bytes one row takes in a column of `type` whatever its value: a validity byte and the fixed
// slot or the offset (a struct's fields' slots; a list's or string's contents not counted).
// A reader whose input can be far smaller than its output (a JSON `{}` becomes a slot in
// every inferred column) cuts its batches at batch_bytes / the schema's RowSlotBytes rows.
uint64_t RowSlotBytes(const DataType& type);
uint64_t RowSlotBytes(const Schema& schema);

// Refuses output that grows past `floor` + `ratio` x the input consumed so far.
class InflationGuard {
 public:
  InflationGuard(std::string what, uint64_t floor, uint64_t ratio)
      : what_(std::move(what)), floor_(floor), ratio_(ratio) {}

  // Counts `consumed` more input bytes and `produced` more output bytes; kCorruptFile naming
  // the limit once the output passes it.
  Status Add(uint64_t consumed, uint64_t produced);

 private:
  std::string what_;
  uint64_t floor_;
  uint64_t ratio_;
  uint64_t consumed_ = 0;
  uint64_t produced_ = 0;
};

// LIMIT_EXCEEDED: `what` needs `needed` bytes where `budget` (one of ReadLimits) allows
// `limit`; the message says how to raise it.
Status LimitExceeded(const std::string& what, uint64_t needed, const char* budget, uint64_t limit);

}  // namespace sluice::batch
