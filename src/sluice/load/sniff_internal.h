#pragma once
// Private to load: what a file that is not parquet looks like, so that UNSUPPORTED_FORMAT
// tells the user what they pushed ("JSON Lines", "gzip-compressed data", "empty") instead of
// only "no PAR1 magic". Judges the first bytes alone; never reads the whole file.

#include <cstdint>
#include <string>

#include "sluice/core/core.h"

namespace sluice::load {

// How many leading bytes DescribeNonParquet wants: enough for a CSV header line or the start
// of a JSON record, small enough to read on every load.
constexpr size_t kSniffBytes = 512;

// Empty when `head` (the first min(size, kSniffBytes) bytes of a file of `size` bytes) starts
// with the parquet magic (PAR1, or PARE for encrypted parquet): the reader judges such a
// file. Otherwise a description such as "JSON Lines (first line: {"id": 1})", "gzip-compressed
// data", "CSV or other delimited text (first line: id,note)", "an empty file (0 bytes)" or
// "unrecognised binary data (first bytes: 00 01 02 03)".
std::string DescribeNonParquet(ByteView head, uint64_t size);

// Which reader a file goes to, judged from the same first bytes: parquet (PAR1/PARE magic);
// JSON when, after an optional UTF-8 BOM and whitespace, it starts with '{' or '[', or when it
// is gzip (the JSON reader inflates it and refuses content that is not JSON, naming what it
// is); anything else is refused with DescribeNonParquet's description.
enum class FileFormat { kParquet, kJson, kOther };
FileFormat DetectFormat(ByteView head, uint64_t size);

}  // namespace sluice::load
