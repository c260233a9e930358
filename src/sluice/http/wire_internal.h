#pragma once
// Private to http/: small pure helpers on the wire text, kept free of Beast so they can be
// tested directly.

#include <string>
#include <string_view>

#include "sluice/core/text.h"
#include "sluice/http/http.h"

namespace sluice::http::internal {

// Splits a raw request target at its first '?': "/b/k?x=1" -> "/b/k", "x=1". Nothing is decoded.
void SplitTarget(std::string_view target, std::string* raw_path, std::string* raw_query);

// Empty when `response` can be put on the wire; otherwise what is wrong with it (the status,
// or the name of a header whose name is not a token or whose value holds CR, LF or NUL —
// the value itself is not repeated, it may be sensitive; a file range past the file's end, or
// both a body and a file).
std::string CheckResponse(const Response& response);

}  // namespace sluice::http::internal
