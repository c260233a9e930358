#pragma once
// service: what an operator does to sluice, in one place for every front end (the CLI and the
// admin API call it, so that they cannot drift). This part: the actions on one file of the
// ledger.

#include <cstdint>
#include <string>

#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"

namespace sluice::service {

enum class FileAction {
  kRetry,        // a failed file is queued again: the next file its table loads
  kRetryForced,  // as kRetry, and loaded even when it repeats a loaded file (a duplicate)
  kSkip,         // a failed file is passed: its table moves on to the next file
};

// Applies `action` to file `seq` while a server may be loading (LoaderState::kMayBeRunning):
// a file that is `loading` belongs to the loader and is refused (kInvalidArgument, as any
// status the action does not apply to; kNotFound for an unknown file). On
// success, the sentence that tells the operator what happens next. The errors name the file
// and what to do instead (retry --force for a skipped duplicate).
Result<std::string> ApplyFileAction(catalog::Catalog& catalog, int64_t seq, FileAction action);

}  // namespace sluice::service
