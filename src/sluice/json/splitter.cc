#include <algorithm>
#include <cstring>
#include <string>

#include "sluice/json/limits_internal.h"
#include "sluice/json/splitter_internal.h"

namespace sluice::json {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string Quote(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

}  // namespace

Splitter::Splitter(ByteSource* source, size_t window_bytes, size_t padding, size_t max_record_bytes)
    : source_(source),
      padding_(padding),
      max_record_(std::clamp<size_t>(max_record_bytes, window_bytes, kMaxRecordBytes)),
      buf_(window_bytes + padding) {}

Status Splitter::Corrupt(const std::string& what) const {
  return Err(ErrorCode::kCorruptFile, "line " + std::to_string(line_) + " (byte offset " +
                                          std::to_string(OffsetOf(pos_)) + "): " + what);
}

Result<bool> Splitter::More() {
  if (pos_ < end_) return true;
  if (eof_) return false;
  const size_t capacity = buf_.size() - padding_;
  if (keep_ > 0) {
    // Slide the unfinished record to the front of the window.
    std::memmove(buf_.data(), buf_.data() + keep_, end_ - keep_);
    base_offset_ += keep_;
    end_ -= keep_;
    pos_ -= keep_;
    keep_ = 0;
  } else if (end_ == capacity) {
    if (capacity >= max_record_) {
      return Err(ErrorCode::kLimitExceeded,
                 "line " + std::to_string(line_) + " (byte offset " +
                     std::to_string(OffsetOf(keep_)) + "): a record longer than " +
                     std::to_string(max_record_) +
                     " bytes (or a bracket that is never closed), more than the batch budget; "
                     "raise --load-memory to load this file");
    }
    buf_.resize(std::min(capacity * 2, max_record_) + padding_);
  }
  const size_t room = buf_.size() - padding_ - end_;
  SLUICE_ASSIGN_OR_RETURN(size_t n, source_->Read(buf_.data() + end_, room));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

Result<Framing> Splitter::Start() {
  started_ = true;
  SLUICE_ASSIGN_OR_RETURN(bool any, More());
  if (any && end_ >= 3 && std::memcmp(buf_.data(), "\xef\xbb\xbf", 3) == 0) pos_ = 3;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(any, More());
    if (!any) {
      state_ = State::kDone;
      return Framing::kObjects;
    }
    const char c = buf_[pos_];
    if (!IsSpace(c)) {
      if (c == '{') {
        framing_ = Framing::kObjects;
      } else if (c == '[') {
        framing_ = Framing::kArray;
        ++pos_;
      } else {
        std::string head(buf_.data() + pos_, std::min<size_t>(end_ - pos_, 16));
        return Err(ErrorCode::kUnsupportedFormat,
                   "not JSON: the data starts with " + Quote(c) +
                       ", not '{' (JSON Lines, one object) or '[' (an array of objects)" +
                       (head.rfind("PAR1", 0) == 0
                            ? ": it is a gzipped parquet file; push the .parquet file as it is"
                            : ""));
      }
      keep_ = pos_;
      return framing_;
    }
    if (c == '\n') ++line_;
    keep_ = ++pos_;
  }
}

Result<bool> Splitter::Next(RecordView* out) {
  if (!started_) SLUICE_RETURN_IF_ERROR(Start().status());
  // Skip to the start of the next record, enforcing the framing.
  while (true) {
    if (state_ == State::kDone) {
      // Only whitespace may follow the array's ']'.
      SLUICE_ASSIGN_OR_RETURN(bool any, More());
      if (!any) return false;
      const char c = buf_[pos_];
      if (!IsSpace(c)) return Corrupt("unexpected " + Quote(c) + " after the closing ']'");
      if (c == '\n') ++line_;
      keep_ = ++pos_;
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(bool any, More());
    if (!any) {
      if (framing_ == Framing::kArray) {
        return Corrupt("the top-level array is not closed with ']' (truncated file?)");
      }
      return false;
    }
    const char c = buf_[pos_];
    if (IsSpace(c)) {
      if (c == '\n') ++line_;
      keep_ = ++pos_;
      continue;
    }
    if (framing_ == Framing::kArray) {
      if (state_ == State::kAfterElement) {
        if (c == ',') {
          state_ = State::kBetween;
          keep_ = ++pos_;
          continue;
        }
        if (c == ']') {
          state_ = State::kDone;
          keep_ = ++pos_;
          continue;
        }
        return Corrupt("expected ',' or ']' after element " + std::to_string(next_index_ - 1) +
                       " of the top-level array, found " + Quote(c));
      }
      if (c == ']' && next_index_ == 0) {
        state_ = State::kDone;
        keep_ = ++pos_;
        continue;
      }
    }
    if (c != '{') {
      return Corrupt(framing_ == Framing::kArray
                         ? "element " + std::to_string(next_index_) +
                               " of the top-level array is not an object (found " + Quote(c) +
                               "); each element must be a record {...}"
                         : "expected a record '{' but found " + Quote(c) +
                               " (JSON Lines holds one object per line)");
    }
    break;
  }
  // Scan one record: pos_ is at its '{'.
  keep_ = pos_;
  const int64_t start_line = line_;
  int depth = 0;
  bool in_string = false;
  bool escape = false;
  while (true) {
    const char* p = buf_.data() + pos_;
    const char* const end = buf_.data() + end_;
    int64_t lines = 0;
    bool done = false;
    for (; p < end; ++p) {
      const char c = *p;
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          in_string = false;
        } else if (c == '\n') {
          ++lines;  // invalid JSON; simdjson will say so, the line count stays right
        }
        continue;
      }
      switch (c) {
        case '"':
          in_string = true;
          break;
        case '{':
        case '[':
          if (++depth > kMaxDepth) {
            line_ += lines;
            return Err(ErrorCode::kLimitExceeded,
                       "line " + std::to_string(line_) + " (byte offset " +
                           std::to_string(OffsetOf(static_cast<size_t>(p - buf_.data()))) +
                           "): objects and arrays nested deeper than " + std::to_string(kMaxDepth) +
                           " levels");
          }
          break;
        case '}':
        case ']':
          if (--depth == 0) done = true;
          break;
        case '\n':
          ++lines;
          break;
        default:
          break;
      }
      if (done) {
        ++p;
        break;
      }
    }
    line_ += lines;
    pos_ = static_cast<size_t>(p - buf_.data());
    if (done) break;
    SLUICE_ASSIGN_OR_RETURN(bool any, More());
    if (!any) {
      pos_ = keep_;
      line_ = start_line;
      return Corrupt("the record starting here is not closed before the end of the data" +
                     std::string(in_string ? " (inside a string)" : "") + " (truncated file?)");
    }
  }
  out->data = buf_.data() + keep_;
  out->size = pos_ - keep_;
  out->capacity = buf_.size() - keep_;
  out->index = next_index_++;
  out->line = start_line;
  out->offset = OffsetOf(keep_);
  if (framing_ == Framing::kArray) state_ = State::kAfterElement;
  keep_ = pos_;
  return true;
}

}  // namespace sluice::json
