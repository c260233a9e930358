#pragma once
// batch/prefetch: decodes the next batches of a reader on a second thread while the caller
// works on the current one. The loader's writer (a SQLite transaction) is CPU-bound on one
// core; decoding and decompressing the file on the other overlaps the two (PERFORMANCE.md:
// "keep everything else off its core").
//
// Memory: at most `depth` decoded batches wait, plus the one being decoded and the caller's;
// the caller's previous batch is handed back to the decoder for reuse, so buffers are
// recycled rather than allocated per batch.
//
// Errors arrive in order: batches decoded before a failure are returned first, then the
// failure. An exception thrown by the wrapped reader on the decoding thread is such a failure
// too (std::bad_alloc as kLimitExceeded, anything else kInternal naming it): it never ends the
// process. Destroying the reader stops the decoder after its current batch.
//
// Thread-safety: like any BatchReader, one caller thread. The wrapped reader is used only by
// the decoding thread once Prefetch returns (its schema() is read once, up front).

#include <memory>

#include "sluice/batch/batch.h"

namespace sluice::batch {

std::unique_ptr<BatchReader> Prefetch(std::unique_ptr<BatchReader> reader, int depth = 2);

}  // namespace sluice::batch
