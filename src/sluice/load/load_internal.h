#pragma once
// Private to load: what load.cc and load_nested.cc share.

#include <initializer_list>
#include <string>

#include "sluice/core/core.h"

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

}  // namespace sluice::load
