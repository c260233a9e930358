#include <cstring>
#include <string>

#include "sluice/http/wire_internal.h"

namespace sluice::http::internal {
namespace {

// RFC 9110 5.6.2: token = 1*tchar.
bool IsTokenChar(char c) {
  if (IsAsciiAlnum(c)) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

}  // namespace

void SplitTarget(std::string_view target, std::string* raw_path, std::string* raw_query) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    raw_path->assign(target);
    raw_query->clear();
  } else {
    raw_path->assign(target.substr(0, q));
    raw_query->assign(target.substr(q + 1));
  }
}

std::string CheckResponse(const Response& response) {
  if (response.status < 200 || response.status > 599) {
    return "status " + std::to_string(response.status) + " is not a final HTTP status";
  }
  if (response.file) {
    if (!response.body.empty()) return "both a body and a file to stream";
    const uint64_t size = response.file->size();
    if (response.file_offset > size || response.file_length > size - response.file_offset) {
      return "file range " + std::to_string(response.file_offset) + "+" +
             std::to_string(response.file_length) + " passes the end of " + response.file->name() +
             " (" + std::to_string(size) + " bytes)";
    }
  }
  for (const auto& [name, value] : response.headers) {
    if (name.empty()) return "a header has an empty name";
    for (char c : name) {
      if (!IsTokenChar(c)) return "header name '" + name + "' is not an HTTP token";
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return "header '" + name + "' has a value with CR, LF or NUL";
      }
    }
  }
  return {};
}

}  // namespace sluice::http::internal
