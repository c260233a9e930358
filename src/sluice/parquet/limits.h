#pragma once
// Named limits for every size, count and offset the reader takes from an untrusted file
// (STYLE.md rule 6). Each is checked once, before the value drives an allocation or a loop.

#include <cstdint>

#include "sluice/batch/batch.h"

namespace sluice::parquet {

// Footers of real files are kilobytes to a few megabytes (wide schemas, many row groups);
// 64 MiB leaves room for thousands of columns x row groups and stops a hostile length.
inline constexpr uint32_t kMaxFooterBytes = 64u << 20;
// Thrift strings (names, created_by, statistics blobs) in a footer or page header.
inline constexpr uint32_t kMaxThriftStringBytes = 16u << 20;
// Elements of one thrift list/set/map (schema elements, row groups, columns, encodings).
inline constexpr uint32_t kMaxThriftContainerSize = 1u << 20;
// Nesting depth of thrift structs when skipping unknown fields (real metadata is ~6 deep).
inline constexpr int kMaxThriftDepth = 64;
// A page header is a few dozen bytes plus optional statistics; 16 MiB bounds the read.
inline constexpr uint32_t kMaxPageHeaderBytes = 16u << 20;
// Uncompressed bytes of one page (writers target 1 MiB; Spark/Arrow allow larger), bounding
// a decompression bomb.
inline constexpr uint32_t kMaxPageBytes = 256u << 20;
// Bytes of values one page may expand to when decoded (DELTA_BYTE_ARRAY repeats prefixes).
inline constexpr uint64_t kMaxDecodedPageBytes = uint64_t{1} << 30;
// Decompressed page bytes of one file may reach kInflationFloorBytes plus kMaxInflationRatio
// times the compressed bytes read: general-purpose codecs on real column data stay well under
// 100x (zstd on a constant PLAIN column reaches a few thousand, but writers encode such a
// column as a dictionary with RLE indices), while a bomb claims 256 MiB pages from a few
// kilobytes each. Past it the file is kCorruptFile.
inline constexpr uint64_t kInflationFloorBytes = uint64_t{256} << 20;
inline constexpr uint64_t kMaxInflationRatio = 1000;
// Decoded values of one file may reach kDecodedFloorBytes plus kMaxDecodedRatio times the
// file's size. Dictionaries and RLE make small files decode large (a constant column costs
// bits per row), so the ratio is generous; a dictionary bomb (one 1 MiB value repeated by a
// 65,536-long RLE run) would decode to gigabytes from a kilobyte.
inline constexpr uint64_t kDecodedFloorBytes = uint64_t{256} << 20;
inline constexpr uint64_t kMaxDecodedRatio = 1000;
// Level entries (values and nulls) of one data page: levels are decoded a page at a time (one
// byte each) and an RLE run can claim billions from a few bytes. parquet-mr writes 20,000
// values a page, arrow ~1 MiB of them, but DuckDB writes a dictionary-encoded column of a
// row group as one page (18M values seen with a large ROW_GROUP_SIZE); 64M entries bounds
// each level array at 64 MiB.
inline constexpr int64_t kMaxPageValues = int64_t{1} << 26;
// PARQUET-816: parquet-mr before 1.2.9 under-reported a chunk's size by up to the dictionary
// page header; readers extend such chunks by this much (arrow's kMaxDictHeaderSize).
inline constexpr uint64_t kParquet816Padding = 100;
// Columns in a schema (wide tables have a few thousand).
inline constexpr int64_t kMaxColumns = 100000;
// Entries of one dictionary page; dictionary indices are int32 in every writer.
inline constexpr int64_t kMaxDictionaryValues = int64_t{1} << 31;
// Depth of the schema tree; bounds the recursion (the batch's limit on nesting).
inline constexpr int kMaxSchemaDepth = batch::kMaxTypeDepth;
// Decimal precision representable in the batch's __int128 unscaled value.
inline constexpr int32_t kMaxDecimalPrecision = batch::kMaxDecimalPrecision;

}  // namespace sluice::parquet
