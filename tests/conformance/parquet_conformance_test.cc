// Parquet conformance: every file of the shared corpus (shared/parquet/generated and
// shared/parquet/testing) is decoded and rendered in the canonical form, then compared byte
// for byte with its X.jsonl (rules in shared/parquet/README.md):
//   - `reject` files must fail with an error;
//   - `decode` / `either` files must match exactly or fail cleanly (kUnsupportedFormat or
//     kCorruptFile); a decode that produces different rows is always a failure;
//   - the files in kClaimed (what this reader supports) must match exactly.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/batch/limits.h"
#include "sluice/core/core.h"
#include "sluice/parquet/parquet.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// Files this reader claims to decode exactly (paths relative to shared/parquet).
const std::set<std::string> kClaimed = {
    "generated/orders_v1.parquet",
    "generated/orders_v2.parquet",
    "generated/seed_order_flat_v1.parquet",
    "generated/seed_order_flat_v2.parquet",
    "generated/orders_flat_uncompressed.parquet",
    "generated/orders_flat_snappy.parquet",
    "generated/orders_flat_multi_rowgroup.parquet",
    "generated/orders_flat_empty.parquet",
    "generated/strings_dictionary_heavy.parquet",
    "generated/hyparquet_orders.parquet",
    // Beyond the required set: every other flat file of the corpus.
    "generated/orders_flat_brotli.parquet",
    "generated/orders_flat_gzip.parquet",
    "generated/orders_flat_lz4.parquet",
    "generated/orders_flat_v2_encodings.parquet",
    "generated/orders_flat_zstd.parquet",
    "generated/strings_high_cardinality.parquet",
    "testing/bad_data/ARROW-GH-43605.parquet",
    "testing/data/alltypes_dictionary.parquet",
    "testing/data/alltypes_plain.parquet",
    "testing/data/alltypes_plain.snappy.parquet",
    "testing/data/alltypes_tiny_pages.parquet",
    "testing/data/alltypes_tiny_pages_plain.parquet",
    "testing/data/binary.parquet",
    "testing/data/binary_truncated_min_max.parquet",
    "testing/data/byte_array_decimal.parquet",
    "testing/data/byte_stream_split.zstd.parquet",
    "testing/data/byte_stream_split_extended.gzip.parquet",
    "testing/data/column_chunk_key_value_metadata.parquet",
    "testing/data/concatenated_gzip_members.parquet",
    "testing/data/data_index_bloom_encoding_stats.parquet",
    "testing/data/data_index_bloom_encoding_with_length.parquet",
    "testing/data/datapage_v1-corrupt-checksum.parquet",
    "testing/data/datapage_v1-snappy-compressed-checksum.parquet",
    "testing/data/datapage_v1-uncompressed-checksum.parquet",
    "testing/data/datapage_v2_empty_datapage.snappy.parquet",
    "testing/data/delta_binary_packed.parquet",
    "testing/data/delta_byte_array.parquet",
    "testing/data/delta_encoding_optional_column.parquet",
    "testing/data/delta_encoding_required_column.parquet",
    "testing/data/delta_length_byte_array.parquet",
    "testing/data/dict-page-offset-zero.parquet",
    "testing/data/fixed_length_byte_array.parquet",
    "testing/data/fixed_length_decimal.parquet",
    "testing/data/fixed_length_decimal_legacy.parquet",
    "testing/data/float16_nonzeros_and_nans.parquet",
    "testing/data/float16_zeros_and_nans.parquet",
    "testing/data/floating_orders_nan_count.parquet",
    "testing/data/hadoop_lz4_compressed.parquet",
    "testing/data/hadoop_lz4_compressed_larger.parquet",
    "testing/data/int32_decimal.parquet",
    "testing/data/int32_with_null_pages.parquet",
    "testing/data/int64_decimal.parquet",
    "testing/data/int96_from_spark.parquet",
    "testing/data/lz4_raw_compressed.parquet",
    "testing/data/lz4_raw_compressed_larger.parquet",
    "testing/data/nan_in_stats.parquet",
    "testing/data/non_hadoop_lz4_compressed.parquet",
    "testing/data/overflow_i16_page_cnt.parquet",
    "testing/data/page_v2_empty_compressed.parquet",
    "testing/data/plain-dict-uncompressed-checksum.parquet",
    "testing/data/rle-dict-snappy-checksum.parquet",
    "testing/data/rle-dict-uncompressed-corrupt-checksum.parquet",
    "testing/data/rle_boolean_encoding.parquet",
    "testing/data/single_nan.parquet",
    "testing/data/sort_columns.parquet",
    "testing/data/unknown-logical-type.parquet",
    // Nested files (LIST 3-level, legacy 2-level and unannotated repeated fields, MAP,
    // MAP_KEY_VALUE, STRUCT, nulls at every level) and the PARQUET-816 lenient read.
    "generated/arrowrs_orders_dict_brotli.parquet",
    "generated/arrowrs_orders_lz4_hadoop.parquet",
    "generated/arrowrs_orders_v2pages_delta.parquet",
    "generated/orders_nested_multi_rowgroup.parquet",
    "generated/orders_nested_snappy.parquet",
    "generated/orders_nested_zstd.parquet",
    "generated/seed_order_nested.parquet",
    "testing/data/datapage_v2.snappy.parquet",
    "testing/data/incorrect_map_schema.parquet",
    "testing/data/list_columns.parquet",
    "testing/data/map_no_value.parquet",
    "testing/data/nation.dict-malformed.parquet",
    "testing/data/nested_lists.snappy.parquet",
    "testing/data/nested_maps.snappy.parquet",
    "testing/data/nested_structs.rust.parquet",
    "testing/data/nonnullable.impala.parquet",
    "testing/data/null_list.parquet",
    "testing/data/nullable.impala.parquet",
    "testing/data/nulls.snappy.parquet",
    "testing/data/old_list_structure.parquet",
    "testing/data/repeated_no_annotation.parquet",
    "testing/data/repeated_primitive_no_list.parquet",
};

std::string ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Decodes `path` to canonical JSONL.
Result<std::string> DecodeToJsonl(const std::string& path,
                                  const parquet::ReaderOptions& options = {}) {
  SLUICE_ASSIGN_OR_RETURN(auto file, FileSystem::Default().OpenRandomAccess(path));
  SLUICE_ASSIGN_OR_RETURN(auto reader, parquet::OpenParquet(std::move(file), options));
  std::string out;
  batch::Batch b;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    batch::AppendCanonicalJsonl(b, &out);
  }
  return out;
}

// The first differing line, for the failure message.
std::string FirstDifference(const std::string& got, const std::string& want) {
  std::istringstream g(got), w(want);
  std::string gl, wl;
  for (int line = 1;; ++line) {
    const bool gok = static_cast<bool>(std::getline(g, gl));
    const bool wok = static_cast<bool>(std::getline(w, wl));
    if (!gok && !wok) return "outputs differ only in line endings";
    if (gl != wl || gok != wok) {
      return "line " + std::to_string(line) + "\n  got:  " + (gok ? gl.substr(0, 600) : "<end>") +
             "\n  want: " + (wok ? wl.substr(0, 600) : "<end>");
    }
  }
}

TEST(ParquetConformance, Corpus) {
  const fs::path root = fs::path(SLUICE_SHARED_DIR) / "parquet";
  ASSERT_TRUE(fs::exists(root)) << root;
  std::vector<fs::path> schemas;
  for (const char* dir : {"generated", "testing"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 12 && name.ends_with(".schema.json")) schemas.push_back(entry.path());
    }
  }
  std::sort(schemas.begin(), schemas.end());

  int total = 0, exact = 0, rejected = 0, refused = 0;
  std::set<std::string> claimed_seen;
  for (const fs::path& schema_path : schemas) {
    const std::string base = schema_path.string().substr(
        0, schema_path.string().size() - std::string(".schema.json").size());
    fs::path parquet_path = base + ".parquet";
    if (!fs::exists(parquet_path)) parquet_path = base + ".parquet.encrypted";
    if (!fs::exists(parquet_path)) continue;  // expected-table files without a parquet file
    const nlohmann::json meta = nlohmann::json::parse(ReadWhole(schema_path));
    const std::string expect = meta.value("expect", "");
    const std::string rel = fs::relative(parquet_path, root).string();
    ++total;
    const bool claimed = kClaimed.count(rel) > 0;
    if (claimed) claimed_seen.insert(rel);

    Result<std::string> got = DecodeToJsonl(parquet_path.string());
    if (expect == "reject") {
      if (got.ok()) {
        ADD_FAILURE() << rel << ": must be rejected but decoded";
      } else if (got.status().code() != ErrorCode::kUnsupportedFormat &&
                 got.status().code() != ErrorCode::kCorruptFile) {
        ADD_FAILURE() << rel << ": unclean error " << got.status().ToString();
      } else {
        ++rejected;
        std::cout << "  rejected " << rel << ": " << got.status().ToString() << "\n";
      }
      continue;
    }
    ASSERT_TRUE(expect == "decode" || expect == "either") << rel << ": expect '" << expect << "'";
    if (!got.ok()) {
      const ErrorCode code = got.status().code();
      if (code != ErrorCode::kUnsupportedFormat && code != ErrorCode::kCorruptFile) {
        ADD_FAILURE() << rel << ": unclean error " << got.status().ToString();
      } else if (claimed) {
        ADD_FAILURE() << rel << ": claimed but refused: " << got.status().ToString();
      } else {
        ++refused;
        std::cout << "  refused " << rel << ": " << got.status().ToString() << "\n";
      }
      continue;
    }
    const std::string want = ReadWhole(base + ".jsonl");
    if (*got != want) {
      ADD_FAILURE() << rel << ": WRONG DECODE, " << FirstDifference(*got, want);
      continue;
    }
    ++exact;
    if (!claimed) std::cout << "  decoded (not claimed) " << rel << "\n";
  }
  for (const std::string& c : kClaimed) {
    EXPECT_TRUE(claimed_seen.count(c)) << "claimed file missing from the corpus: " << c;
  }
  std::cout << "parquet conformance: " << exact << " of " << total << " files decoded exactly, "
            << rejected << " rejected as expected, " << refused
            << " refused cleanly (unsupported or corrupt)\n";
  EXPECT_GT(total, 0);
}

// With page CRC checks on, the files with damaged checksums are rejected naming the CRC and
// those with good checksums still decode exactly.
TEST(ParquetConformance, PageCrcOption) {
  const fs::path data = fs::path(SLUICE_SHARED_DIR) / "parquet" / "testing" / "data";
  parquet::ReaderOptions options;
  options.verify_page_crc = true;
  for (const char* name :
       {"datapage_v1-corrupt-checksum", "rle-dict-uncompressed-corrupt-checksum"}) {
    Result<std::string> got =
        DecodeToJsonl((data / (std::string(name) + ".parquet")).string(), options);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().code(), ErrorCode::kCorruptFile) << name;
    EXPECT_NE(got.status().message().find("CRC"), std::string::npos) << got.status().ToString();
  }
  for (const char* name :
       {"datapage_v1-snappy-compressed-checksum", "datapage_v1-uncompressed-checksum",
        "plain-dict-uncompressed-checksum", "rle-dict-snappy-checksum"}) {
    const std::string base = (data / name).string();
    Result<std::string> got = DecodeToJsonl(base + ".parquet", options);
    ASSERT_TRUE(got.ok()) << name << ": " << got.status().ToString();
    EXPECT_EQ(*got, ReadWhole(base + ".jsonl")) << name;
  }
}

// Batches cut by bytes: with a batch budget of a few KiB every claimed file still decodes to
// exactly its canonical output (rows split across pages, nested rows kept whole, pending rows
// carried to the next batch), and no batch holds more than the budget unless one row does.
TEST(ParquetConformance, TinyBatchBudgetDecodesTheSame) {
  const fs::path root = fs::path(SLUICE_SHARED_DIR) / "parquet";
  parquet::ReaderOptions options;
  options.limits.batch_bytes = 4096;
  int checked = 0, too_large = 0;
  for (const std::string& rel : kClaimed) {
    const std::string path = (root / rel).string();
    const std::string base = path.substr(0, path.size() - std::string(".parquet").size());
    if (!fs::exists(base + ".jsonl")) continue;
    auto file = FileSystem::Default().OpenRandomAccess(path);
    ASSERT_TRUE(file.ok()) << rel;
    auto reader = parquet::OpenParquet(std::move(file).value(), options);
    ASSERT_TRUE(reader.ok()) << rel << ": " << reader.status().ToString();
    std::string out;
    batch::Batch b;
    Status failed;
    while (true) {
      Result<bool> more = (*reader)->Next(&b);
      if (!more.ok()) {
        failed = more.status();
        break;
      }
      if (!*more) break;
      if (b.num_rows > 1) {
        EXPECT_LE(batch::BatchBytes(b), 2 * options.limits.batch_bytes)
            << rel << ": a batch of " << b.num_rows << " rows";
      }
      batch::AppendCanonicalJsonl(b, &out);
    }
    if (!failed.ok()) {
      // One value larger than the whole budget: refused, naming the budget.
      EXPECT_EQ(failed.code(), ErrorCode::kLimitExceeded) << rel << ": " << failed.ToString();
      ++too_large;
      continue;
    }
    EXPECT_EQ(out, ReadWhole(base + ".jsonl"))
        << rel << ": " << FirstDifference(out, ReadWhole(base + ".jsonl"));
    ++checked;
  }
  std::cout << "tiny batch budget: " << checked << " files decoded exactly, " << too_large
            << " refused with LIMIT_EXCEEDED\n";
  EXPECT_GT(checked, 50);
}

// Projection of a nested column reads only its leaves and yields the same values.
TEST(ParquetConformance, NestedProjection) {
  const std::string path =
      (fs::path(SLUICE_SHARED_DIR) / "parquet" / "testing" / "data" / "nested_maps.snappy.parquet")
          .string();
  parquet::ReaderOptions options;
  options.columns = {"a"};
  Result<std::string> got = DecodeToJsonl(path, options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const std::string first = got->substr(0, got->find('\n'));
  EXPECT_EQ(first,
            R"({"a":[{"key":"a","value":[{"key":1,"value":true},{"key":2,"value":false}]}]})");
}

}  // namespace
}  // namespace sluice
