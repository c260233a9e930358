#pragma once
// Private to json: cuts the byte stream into records without parsing them, so that memory is
// one window of bytes however large the file, and each record is then parsed on its own.
//
// Framing, decided by the first byte that is not whitespace (after an optional UTF-8 BOM):
//
//   '{'  a stream of objects separated by whitespace: JSON Lines / NDJSON (one per line),
//        one object per file, or pretty-printed objects one after another
//          {"id":1,"tags":["a"]}\n{"id":2}\n        -> records {"id":1,...} and {"id":2}
//   '['  one top-level array of objects, possibly spanning millions of lines
//          [\n {"id":1},\n {"id":2}\n]\n              -> records {"id":1} and {"id":2}
//
// The scanner tracks only strings (with backslash escapes) and bracket depth: a record ends
// where the depth returns to zero. It does not validate JSON; simdjson does that per record.
// Records are objects: anything else where a record should start is an error.
//
// Window: a record's bytes are contiguous in one buffer that grows (doubling) up to
// kMaxRecordBytes when one record is larger than the buffer; a record beyond that fails the
// file. Every record is followed in memory by at least simdjson::SIMDJSON_PADDING readable
// bytes, so that it can be parsed in place.

#include <cstdint>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/json/source_internal.h"

namespace sluice::json {

// A single record larger than this fails the file (kCorruptFile): bounds the window that
// must hold one record whole. Large enough for any business document.
constexpr size_t kMaxRecordBytes = 256u << 20;

enum class Framing { kObjects, kArray };

struct RecordView {
  const char* data = nullptr;
  size_t size = 0;
  size_t capacity = 0;  // readable bytes from data (>= size + simdjson padding)
  int64_t index = 0;    // 0-based record number in the file
  int64_t line = 1;     // 1-based line of the record's first byte
  uint64_t offset = 0;  // byte offset of the record's first byte in the (inflated) data
};

class Splitter {
 public:
  // `padding` bytes after every record must be readable (simdjson's SIMDJSON_PADDING).
  // A record longer than `max_record_bytes` (at most kMaxRecordBytes) fails LIMIT_EXCEEDED.
  Splitter(ByteSource* source, size_t window_bytes, size_t padding, size_t max_record_bytes);

  // The framing, after reading the first bytes; kUnsupportedFormat when the data starts with
  // neither '{' nor '['. An empty stream (only whitespace) has no records.
  Result<Framing> Start();
  // The next record (valid until the next call), or false at the end. Damage (an unclosed
  // record at the end, a stray byte between records, content after the array) is
  // kCorruptFile naming line and byte offset.
  Result<bool> Next(RecordView* out);
  // Where the scanner is: for messages.
  int64_t line() const { return line_; }

 private:
  enum class State { kBetween, kAfterElement, kDone };
  // Makes at least one more unscanned byte available at pos_ (false at the end of the data).
  Result<bool> More();
  Status Corrupt(const std::string& what) const;
  uint64_t OffsetOf(size_t pos) const { return base_offset_ + pos; }

  ByteSource* source_;
  size_t padding_;
  size_t max_record_;
  std::vector<char> buf_;  // [0, end_) data; buf_.size() = capacity + padding_
  size_t end_ = 0;
  size_t pos_ = 0;            // next byte to scan
  size_t keep_ = 0;           // first byte that must stay in the window (record start)
  uint64_t base_offset_ = 0;  // stream offset of buf_[0]
  bool eof_ = false;
  int64_t line_ = 1;
  int64_t next_index_ = 0;
  Framing framing_ = Framing::kObjects;
  State state_ = State::kBetween;
  bool started_ = false;
};

}  // namespace sluice::json
