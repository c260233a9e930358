#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "sluice/load/sniff_internal.h"

namespace sluice::load {
namespace {

// At most this many characters of a text file's first line are quoted in a message.
constexpr size_t kMaxQuotedLine = 60;

struct Magic {
  std::string_view bytes;
  std::string_view what;
};

// Signatures of formats people push by mistake, most specific first.
constexpr std::array kMagics = {
    Magic{std::string_view("\x1f\x8b", 2), "gzip-compressed data"},
    Magic{std::string_view("\x28\xb5\x2f\xfd", 4), "zstd-compressed data"},
    Magic{std::string_view("\x04\x22\x4d\x18", 4), "LZ4-compressed data (LZ4 frame)"},
    Magic{std::string_view("BZh", 3), "bzip2-compressed data"},
    Magic{std::string_view("\xfd"
                           "7zXZ\x00",
                           6),
          "xz-compressed data"},
    Magic{std::string_view("PK\x03\x04", 4), "a ZIP archive"},
    Magic{std::string_view("ORC", 3), "an ORC file"},
    Magic{std::string_view("Obj\x01", 4), "an Avro container file"},
    Magic{std::string_view("ARROW1", 6), "an Arrow IPC file"},
    Magic{std::string_view("SQLite format 3\x00", 16), "a SQLite database"},
    Magic{std::string_view("%PDF", 4), "a PDF document"},
    Magic{std::string_view("\x89PNG", 4), "a PNG image"},
};

bool StartsWith(ByteView head, std::string_view prefix) {
  return head.size() >= prefix.size() &&
         std::memcmp(head.data(), prefix.data(), prefix.size()) == 0;
}

// Text: no control bytes other than tab, newline, carriage return and form feed. Bytes from
// 0x80 are accepted as UTF-8 without validation (a cut at kSniffBytes may split a character).
bool LooksLikeText(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 ? c != 0x7f : (c == '\t' || c == '\n' || c == '\r' || c == '\f');
  });
}

std::string FirstLine(std::string_view text) {
  const size_t end = text.find_first_of("\r\n");
  std::string line(text.substr(0, end));
  if (line.size() > kMaxQuotedLine) {
    line.resize(kMaxQuotedLine);
    line += "...";
  }
  return line;
}

std::string DescribeText(std::string_view text) {
  if (StartsWith(AsBytes(text), "\xef\xbb\xbf")) text.remove_prefix(3);  // UTF-8 BOM
  const size_t first = text.find_first_not_of(" \t\r\n\f");
  if (first == std::string_view::npos) return "blank text (only whitespace)";
  text.remove_prefix(first);
  const std::string line = FirstLine(text);
  if (text[0] == '[') return "a JSON array (starts with: " + line + ")";
  if (text[0] == '{') {
    // Several records each on its own line: JSON Lines; one record over many lines: JSON.
    const size_t newline = text.find('\n');
    const bool lines = newline != std::string_view::npos && line.back() == '}';
    return std::string(lines ? "JSON Lines" : "JSON") + " (first line: " + line + ")";
  }
  if (line.find_first_of(",;\t|") != std::string::npos) {
    return "CSV or other delimited text (first line: " + line + ")";
  }
  if (text[0] == '<') return "XML or HTML (starts with: " + line + ")";
  return "plain text (first line: " + line + ")";
}

}  // namespace

std::string DescribeNonParquet(ByteView head, uint64_t size) {
  if (size == 0) return "an empty file (0 bytes)";
  if (StartsWith(head, "PAR1") || StartsWith(head, "PARE")) return "";
  for (const Magic& m : kMagics) {
    if (StartsWith(head, m.bytes)) {
      if (m.bytes == "\x1f\x8b") {
        return "gzip-compressed data (parquet compresses its pages itself: push the .parquet "
               "file as it is, not gzipped)";
      }
      return std::string(m.what);
    }
  }
  const std::string_view text = AsChars(head);
  if (LooksLikeText(text)) return DescribeText(text);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string bytes;
  for (size_t i = 0; i < std::min<size_t>(head.size(), 8); ++i) {
    if (i) bytes += ' ';
    bytes += kHex[head[i] >> 4];
    bytes += kHex[head[i] & 0xF];
  }
  return "unrecognised binary data (first bytes: " + bytes + ")";
}

FileFormat DetectFormat(ByteView head, uint64_t size) {
  if (size == 0) return FileFormat::kOther;
  if (StartsWith(head, "PAR1") || StartsWith(head, "PARE")) return FileFormat::kParquet;
  if (StartsWith(head, "\x1f\x8b")) return FileFormat::kJson;
  std::string_view text = AsChars(head);
  if (StartsWith(head, "\xef\xbb\xbf")) text.remove_prefix(3);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return FileFormat::kOther;
  return text[first] == '{' || text[first] == '[' ? FileFormat::kJson : FileFormat::kOther;
}

}  // namespace sluice::load
