#pragma once
// UTF-8 checks: whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), and a copy made so for stores that refuse anything else
// (PostgreSQL text refuses malformed UTF-8 and the NUL byte).

#include <string>
#include <string_view>

namespace sluice {

bool IsValidUtf8(std::string_view s);

// `s` with every byte that does not begin a well-formed sequence, and every NUL, replaced by
// U+FFFD: text that quotes a file's bytes (a column name, a value) in an error message stays
// storable and readable.
std::string ToValidUtf8(std::string_view s);

}  // namespace sluice
