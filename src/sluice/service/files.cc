#include "sluice/service/files.h"

namespace sluice::service {

Result<std::string> ApplyFileAction(catalog::Catalog& catalog, int64_t seq, FileAction action) {
  const std::string n = std::to_string(seq);
  Status s = action == FileAction::kSkip          ? catalog.Skip(seq)
             : action == FileAction::kRetryForced ? catalog.RetryForced(seq)
                                                  : catalog.Retry(seq);
  if (!s.ok()) {
    if (action == FileAction::kRetry && s.message().find(" is skipped") != std::string::npos) {
      s = s.WithContext("retry it forced (`sluice files retry --force " + n +
                        "`) to load a skipped file (a duplicate, say) anyway");
    }
    return s;
  }
  switch (action) {
    case FileAction::kSkip:
      return "File " + n + " skipped; its table moves on to the next file.";
    case FileAction::kRetryForced:
      return "File " + n +
             " queued again and forced (loaded even if it repeats a loaded file); it is the next "
             "file its table loads.";
    case FileAction::kRetry:
      break;
  }
  return "File " + n +
         " queued again; it is the next file its table loads (a running server takes it within "
         "a moment).";
}

}  // namespace sluice::service
