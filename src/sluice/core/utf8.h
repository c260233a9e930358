#pragma once
// UTF-8 checks: whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), and a copy made so for stores that refuse anything else
// (PostgreSQL text refuses malformed UTF-8 and the NUL byte).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

bool IsValidUtf8(std::string_view s);

// The character of the well-formed sequence that starts at s[i]: its code point and its
// length in bytes (1 to 4); length 0 when no well-formed sequence starts there.
struct Utf8Char {
  uint32_t code_point = 0;
  size_t length = 0;
};
Utf8Char DecodeUtf8At(std::string_view s, size_t i);
// Appends the UTF-8 form of `code_point` (a scalar value: at most U+10FFFF, no surrogate).
void AppendUtf8(std::string& out, uint32_t code_point);
// The length of the longest prefix of `s` made of whole well-formed sequences without NUL:
// all of `s` when it is text ToValidUtf8 would keep as it is.
size_t Utf8TextPrefix(std::string_view s);

// `s` with every byte that does not begin a well-formed sequence, and every NUL, replaced by
// U+FFFD: text that quotes a file's bytes (a column name, a value) in an error message stays
// storable and readable.
std::string ToValidUtf8(std::string_view s);

}  // namespace sluice
