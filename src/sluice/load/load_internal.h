#pragma once
// Private to load: what load.cc and load_nested.cc share.

#include <initializer_list>
#include <string>

#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"
#include "sluice/pool/pool.h"

namespace sluice::load {

// Keeps `st` when its code is one a load stage may blame on the file (`allowed`); anything
// else becomes INTERNAL naming the original code (load.cc). kUnavailable passes through.
Status Blame(const Status& st, std::initializer_list<ErrorCode> allowed, const std::string& what);

// What reading a file may blame on it: damage, a form sluice does not read, a value that does
// not fit its type, a named limit (--load-memory, depth, fields).
inline constexpr std::initializer_list<ErrorCode> kReadErrors = {
    ErrorCode::kCorruptFile, ErrorCode::kUnsupportedFormat, ErrorCode::kSchemaMismatch,
    ErrorCode::kLimitExceeded};
// What writing a file's rows may blame on it: the pool re-checks keys and types as it writes,
// and refuses what passes its own limits (columns, value sizes).
inline constexpr std::initializer_list<ErrorCode> kWriteErrors = {
    ErrorCode::kSchemaMismatch, ErrorCode::kPkNull, ErrorCode::kPkNotFound,
    ErrorCode::kAgeColumnNotFound, ErrorCode::kLimitExceeded};
// A reader's failure for the ledger: `message` starting with the file's key (the readers name
// it already; a failure from the decoding thread itself, such as running out of memory, does
// not), and the file row where the failing batch starts.
std::string ReadFailure(const std::string& key, const std::string& message, int64_t first_row);

// "file <seq> <connection>/<key>" for a log line, with the client's key escaped (EscapeForLog).
std::string FileForLog(int64_t seq, const std::string& connection_id, const std::string& key);

// Commits the pool's load of file `seq` (a pool::LoadTransaction or NestedLoadTransaction).
// When the ledger lives in the pool's database (catalog::Ledger::LoadedInPool) the file's
// outcome commits in the same transaction and `*recorded` is set; otherwise the caller records
// it (MarkLoaded) once this returns.
template <class LoadTxn>
Status CommitFile(LoadTxn& tx, catalog::Ledger& ledger, int64_t seq, int64_t now, bool* recorded) {
  catalog::Ledger::InPoolWrite write = ledger.LoadedInPool(seq, now);
  if (!write) return tx.Commit(now);
  SLUICE_RETURN_IF_ERROR(tx.CommitWith(now, write));
  *recorded = true;
  return Status::Ok();
}

}  // namespace sluice::load
