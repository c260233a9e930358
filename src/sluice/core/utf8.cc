#include "sluice/core/utf8.h"

namespace sluice {

Utf8Char DecodeUtf8At(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  size_t n;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    n = 1;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 2;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 3;
    cp = c & 0x07;
  } else {
    return {};
  }
  if (i + n >= s.size()) return {};
  for (size_t j = 1; j <= n; ++j) {
    const auto d = static_cast<unsigned char>(s[i + j]);
    if ((d & 0xc0) != 0x80) return {};
    cp = (cp << 6) | (d & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF.
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    return {};
  }
  return {cp, n + 1};
}

void AppendUtf8(std::string& out, uint32_t code_point) {
  const uint32_t cp = code_point;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = DecodeUtf8At(s, i).length;
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t Utf8TextPrefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] != '\0') {
    const size_t n = DecodeUtf8At(s, i).length;
    if (n == 0) break;
    i += n;
  }
  return i;
}

std::string ToValidUtf8(std::string_view s) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8TextPrefix(s.substr(i));
    out.append(s.substr(i, n));
    i += n;
    if (i < s.size()) {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

}  // namespace sluice
