// OpenParquet / DescribeSchema on hand-built files (so that every byte is known) and on a
// corpus file; damaged frames, hostile sizes, byte flips and truncations.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/batch/limits.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/parquet/parquet.h"

namespace sluice::parquet {
namespace {

using testing::MemoryFile;

// A minimal thrift compact writer (long-form field headers only).
class Thrift {
 public:
  Thrift& Field(int id, int type) {
    out_.push_back(static_cast<uint8_t>(type));
    Varint(static_cast<uint64_t>((id << 1) ^ (id >> 31)));
    return *this;
  }
  Thrift& I32(int id, int64_t v) { return Field(id, 5).ZigZag(v); }
  Thrift& I64(int id, int64_t v) { return Field(id, 6).ZigZag(v); }
  Thrift& Str(int id, const std::string& s) {
    Field(id, 8).Varint(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }
  Thrift& Struct(int id) { return Field(id, 12); }
  Thrift& List(int id, int element_type, int size) {
    Field(id, 9);
    out_.push_back(static_cast<uint8_t>((size << 4) | element_type));
    return *this;
  }
  Thrift& Stop() {
    out_.push_back(0);
    return *this;
  }
  Thrift& ZigZag(int64_t v) {
    return Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  Thrift& Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Thrift& Raw(const std::vector<uint8_t>& bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

std::vector<uint8_t> PageHeader(int type, int32_t size, int32_t num_values, int encoding,
                                int32_t compressed_size = -1) {
  Thrift t;
  t.I32(1, type).I32(2, size).I32(3, compressed_size < 0 ? size : compressed_size);
  if (type == 2) {
    t.Struct(7).I32(1, num_values).I32(2, 0).Stop();
  } else {
    t.Struct(5).I32(1, num_values).I32(2, encoding).I32(3, 3).I32(4, 3).Stop();
  }
  t.Stop();
  return t.bytes();
}

// One OPTIONAL column "x" (INT32 unless `physical` says otherwise) in one row group, pages as given
// (they start at offset 4).
std::vector<uint8_t> BuildFile(const std::vector<uint8_t>& pages, int64_t num_rows,
                               int64_t chunk_size = -1, int physical = 1) {
  std::vector<uint8_t> file = {'P', 'A', 'R', '1'};
  file.insert(file.end(), pages.begin(), pages.end());
  Thrift md;
  md.I32(1, 1);
  md.List(2, 12, 2);
  md.Str(4, "schema").I32(5, 1).Stop();
  md.I32(1, physical).I32(3, 1).Str(4, "x").Stop();
  md.I64(3, num_rows);
  md.List(4, 12, 1);
  md.List(1, 12, 1);
  md.I64(2, 4).Struct(3);
  md.I32(1, physical).I32(4, 0).I64(5, num_rows);
  md.I64(6, static_cast<int64_t>(pages.size()));
  md.I64(7, chunk_size < 0 ? static_cast<int64_t>(pages.size()) : chunk_size);
  md.I64(9, 4).Stop();                   // ColumnMetaData
  md.Stop();                             // ColumnChunk
  md.I64(2, 0).I64(3, num_rows).Stop();  // RowGroup
  md.Str(6, "sluice test").Stop();
  const auto& footer = md.bytes();
  file.insert(file.end(), footer.begin(), footer.end());
  const uint32_t length = static_cast<uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<uint8_t>(length >> (8 * i)));
  file.insert(file.end(), {'P', 'A', 'R', '1'});
  return file;
}

// PLAIN page: values 1, null, 3 (def levels 1 0 1).
std::vector<uint8_t> PlainPage() {
  std::vector<uint8_t> body = {0x02, 0, 0, 0, 0x03, 0x05, 1, 0, 0, 0, 3, 0, 0, 0};
  auto page = PageHeader(0, static_cast<int32_t>(body.size()), 3, 0);
  page.insert(page.end(), body.begin(), body.end());
  return page;
}

Result<std::string> Decode(std::vector<uint8_t> bytes, ReaderOptions options = {}) {
  SLUICE_ASSIGN_OR_RETURN(
      auto reader, OpenParquet(std::make_unique<MemoryFile>(std::move(bytes), "memory.parquet"),
                               std::move(options)));
  std::string out;
  batch::Batch b;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    batch::AppendCanonicalJsonl(b, &out);
  }
  return out;
}

TEST(ParquetReaderTest, DecodesAHandBuiltFile) {
  auto got = Decode(BuildFile(PlainPage(), 3));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "{\"x\":1}\n{\"x\":null}\n{\"x\":3}\n");
}

TEST(ParquetReaderTest, DictionaryPages) {
  std::vector<uint8_t> pages = PageHeader(2, 8, 2, 0);
  pages.insert(pages.end(), {7, 0, 0, 0, 9, 0, 0, 0});  // dictionary 7, 9
  std::vector<uint8_t> body = {0x02, 0, 0, 0, 0x03, 0x05, 0x01, 0x04, 0x01, 0x00};
  // def 1 0 1; indices bit width 1, rle run of 2 x value... 0x04 0x01 = 2 x 1
  auto data = PageHeader(0, static_cast<int32_t>(body.size()), 3, 8);
  pages.insert(pages.end(), data.begin(), data.end());
  pages.insert(pages.end(), body.begin(), body.end());
  auto got = Decode(BuildFile(pages, 3));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "{\"x\":9}\n{\"x\":null}\n{\"x\":9}\n");
}

TEST(ParquetReaderTest, DictionaryIndexOutOfRange) {
  std::vector<uint8_t> pages = PageHeader(2, 8, 2, 0);
  pages.insert(pages.end(), {7, 0, 0, 0, 9, 0, 0, 0});
  std::vector<uint8_t> body = {0x02, 0, 0, 0, 0x03, 0x05, 0x03, 0x04, 0x05};  // index 5
  auto data = PageHeader(0, static_cast<int32_t>(body.size()), 3, 8);
  pages.insert(pages.end(), data.begin(), data.end());
  pages.insert(pages.end(), body.begin(), body.end());
  auto got = Decode(BuildFile(pages, 3));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kCorruptFile);
  EXPECT_NE(got.status().message().find("dictionary index 5 out of range"), std::string::npos);
  EXPECT_NE(got.status().message().find("row group 0, column 'x'"), std::string::npos)
      << got.status().message();
}

TEST(ParquetReaderTest, PageSizeBeyondFile) {
  std::vector<uint8_t> body = {0x02, 0, 0, 0, 0x03, 0x05, 1, 0, 0, 0, 3, 0, 0, 0};
  auto page = PageHeader(0, static_cast<int32_t>(body.size()), 3, 0, 1 << 20);
  page.insert(page.end(), body.begin(), body.end());
  auto got = Decode(BuildFile(page, 3));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kCorruptFile);
  EXPECT_NE(got.status().message().find("page 0"), std::string::npos) << got.status().message();
  // A column chunk that claims to run past the footer.
  got = Decode(BuildFile(PlainPage(), 3, 1 << 20));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kCorruptFile);
  // An uncompressed size beyond kMaxPageBytes.
  page = PageHeader(0, 1 << 30, 3, 0, static_cast<int32_t>(body.size()));
  page.insert(page.end(), body.begin(), body.end());
  got = Decode(BuildFile(page, 3));
  EXPECT_EQ(got.status().code(), ErrorCode::kCorruptFile);
}

TEST(ParquetReaderTest, BadMagicAndTruncatedFooter) {
  auto good = BuildFile(PlainPage(), 3);
  auto bad = good;
  bad[3] = '2';
  auto got = Decode(bad);
  EXPECT_EQ(got.status().code(), ErrorCode::kUnsupportedFormat);
  EXPECT_NE(got.status().message().find("not a parquet file"), std::string::npos);
  EXPECT_EQ(Decode({'h', 'i'}).status().code(), ErrorCode::kUnsupportedFormat);
  EXPECT_EQ(Decode({}).status().code(), ErrorCode::kUnsupportedFormat);

  auto truncated = good;
  truncated.resize(good.size() - 3);
  EXPECT_EQ(Decode(truncated).status().code(), ErrorCode::kCorruptFile);
  auto long_footer = good;
  long_footer[long_footer.size() - 5] = 0x7f;  // footer length ~2 GiB
  EXPECT_EQ(Decode(long_footer).status().code(), ErrorCode::kCorruptFile);
  auto encrypted = good;
  std::copy_n("PARE", 4, encrypted.begin());
  EXPECT_EQ(Decode(encrypted).status().code(), ErrorCode::kUnsupportedFormat);
}

TEST(ParquetReaderTest, EveryTruncationAndByteFlipFailsCleanly) {
  const auto good = BuildFile(PlainPage(), 3);
  for (size_t n = 0; n < good.size(); ++n) {
    auto cut = good;
    cut.resize(n);
    auto got = Decode(cut);
    EXPECT_FALSE(got.ok()) << "truncated to " << n;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      auto bytes = good;
      bytes[i] ^= flip;
      auto got = Decode(bytes);  // must not crash, hang or allocate wildly
      if (!got.ok()) {
        const ErrorCode c = got.status().code();
        EXPECT_TRUE(c == ErrorCode::kCorruptFile || c == ErrorCode::kUnsupportedFormat)
            << "byte " << i << ": " << got.status().ToString();
      }
    }
  }
}

TEST(ParquetReaderTest, ColumnSelection) {
  ReaderOptions options;
  options.columns = {"nope"};
  EXPECT_EQ(Decode(BuildFile(PlainPage(), 3), options).status().code(), ErrorCode::kNotFound);
  options.columns = {"x"};
  EXPECT_TRUE(Decode(BuildFile(PlainPage(), 3), options).ok());
}

TEST(ParquetReaderTest, DescribeSchemaOfCorpusFile) {
  const std::string path =
      std::string(SLUICE_SHARED_DIR) + "/parquet/generated/orders_flat_uncompressed.parquet";
  auto file = FileSystem::Default().OpenRandomAccess(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto text = DescribeSchema(std::move(file).value());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto doc = nlohmann::json::parse(*text);
  EXPECT_EQ(doc["num_rows"], 500);
  EXPECT_EQ(doc["num_row_groups"], 1);
  EXPECT_EQ(doc["created_by"], "DuckDB version v1.5.6 (build 069cc9f9b5)");
  ASSERT_EQ(doc["columns"].size(), 28u);
  EXPECT_EQ(doc["columns"][0]["name"], "order_id");
  EXPECT_EQ(doc["columns"][0]["type"], "BIGINT");
  EXPECT_EQ(doc["columns"][0]["physical"], "INT64");
  EXPECT_EQ(doc["columns"][0]["repetition"], "OPTIONAL");
  EXPECT_EQ(doc["columns"][15]["type"], "DECIMAL(38,10)");
  EXPECT_EQ(doc["columns"][24]["type"], "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(doc["columns"][25]["type"], "UUID");
  EXPECT_EQ(text->back(), '\n');
}

// A MemoryFile that records the largest single read.
class CountingFile final : public RandomAccessFile {
 public:
  explicit CountingFile(std::vector<uint8_t> bytes) : inner_(bytes, "memory.parquet") {}
  uint64_t size() const override { return inner_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    *largest_ = std::max(*largest_, n);
    return inner_.ReadAt(offset, n, out);
  }
  const std::string& name() const override { return inner_.name(); }
  std::shared_ptr<size_t> largest() const { return largest_; }

 private:
  MemoryFile inner_;
  std::shared_ptr<size_t> largest_ = std::make_shared<size_t>(0);
};

// Streaming: one row group of 2,000,000 rows in 200 pages of 10,000 values is read a page at a
// time (no read larger than one page, never the whole 8 MB chunk) and comes out in batches of
// at most kBatchRows rows, exactly.
TEST(ParquetReaderTest, StreamsARowGroupPageByPage) {
  constexpr int kPages = 200;
  constexpr int32_t kPerPage = 10000;
  std::vector<uint8_t> pages;
  for (int p = 0; p < kPages; ++p) {
    // def levels: one rle run of kPerPage x 1 (varint 20000 = a0 9c 01), then the values.
    std::vector<uint8_t> body = {0x04, 0, 0, 0, 0xa0, 0x9c, 0x01, 0x01};
    for (int32_t v = 0; v < kPerPage; ++v) {
      const int32_t value = p * kPerPage + v;
      for (int b = 0; b < 4; ++b) body.push_back(static_cast<uint8_t>(value >> (8 * b)));
    }
    auto header = PageHeader(0, static_cast<int32_t>(body.size()), kPerPage, 0);
    pages.insert(pages.end(), header.begin(), header.end());
    pages.insert(pages.end(), body.begin(), body.end());
  }
  const int64_t rows = int64_t{kPages} * kPerPage;
  auto file = std::make_unique<CountingFile>(BuildFile(pages, rows));
  auto largest = file->largest();
  auto reader = OpenParquet(std::move(file));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  batch::Batch b;
  int64_t seen = 0;
  int batches = 0;
  bool in_order = true;
  while (true) {
    auto more = (*reader)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++batches;
    ASSERT_LE(b.num_rows, batch::kBatchRows);
    ASSERT_EQ(b.columns[0].length, b.num_rows);
    for (int64_t r = 0; r < b.num_rows; ++r) {
      in_order = in_order && b.columns[0].Value<int64_t>(r) == seen + r;
    }
    seen += b.num_rows;
  }
  EXPECT_TRUE(in_order);
  EXPECT_EQ(seen, rows);
  EXPECT_EQ(batches, static_cast<int>((rows + batch::kBatchRows - 1) / batch::kBatchRows));
  EXPECT_LE(*largest, size_t{kPerPage} * 4 + 64) << "a read larger than one page";
  EXPECT_GT(pages.size(), size_t{8000000});
}

// The budgets (batch/limits.h) on hostile files: an OPTIONAL BYTE_ARRAY column.
constexpr int kByteArray = 6;

std::vector<uint8_t> PlainString(size_t length, char fill) {
  std::vector<uint8_t> v;
  for (int b = 0; b < 4; ++b) v.push_back(static_cast<uint8_t>(length >> (8 * b)));
  v.insert(v.end(), length, static_cast<uint8_t>(fill));
  return v;
}

// A dictionary of one 64 KiB string and a data page whose RLE runs repeat index 0 65,536
// times: 4 GiB of strings from a 64 KiB file. Batches stay within the batch budget and the
// file fails CORRUPT_FILE at the decoded-size limit, long before memory runs out.
TEST(ParquetReaderTest, DictionaryBombFailsAtTheDecodedLimit) {
  constexpr size_t kLength = 64 * 1024;
  std::vector<uint8_t> dict = PlainString(kLength, 'a');
  std::vector<uint8_t> pages = PageHeader(2, static_cast<int32_t>(dict.size()), 1, 0);
  pages.insert(pages.end(), dict.begin(), dict.end());
  // def levels: 65,536 x 1 (run header 131072 = 80 80 08); indices: bit width 1, 65,536 x 0.
  std::vector<uint8_t> body = {0x04, 0, 0, 0, 0x80, 0x80, 0x08, 0x01, 0x01, 0x80, 0x80, 0x08, 0x00};
  auto data = PageHeader(0, static_cast<int32_t>(body.size()), 65536, 8);
  pages.insert(pages.end(), data.begin(), data.end());
  pages.insert(pages.end(), body.begin(), body.end());
  auto reader = OpenParquet(
      std::make_unique<MemoryFile>(BuildFile(pages, 65536, -1, kByteArray), "memory.parquet"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const batch::ReadLimits limits;
  batch::Batch b;
  int64_t rows = 0;
  Status failed;
  while (true) {
    Result<bool> more = (*reader)->Next(&b);
    if (!more.ok()) {
      failed = more.status();
      break;
    }
    ASSERT_TRUE(*more) << "the bomb decoded whole";
    EXPECT_LE(batch::BatchBytes(b), limits.batch_bytes + kLength + 64);
    rows += b.num_rows;
  }
  EXPECT_EQ(failed.code(), ErrorCode::kCorruptFile) << failed.ToString();
  EXPECT_NE(failed.message().find("memory.parquet"), std::string::npos) << failed.ToString();
  EXPECT_NE(failed.message().find("bomb"), std::string::npos) << failed.ToString();
  EXPECT_LT(rows, 65536);
}

// One value larger than the whole batch budget: LIMIT_EXCEEDED naming the row and column.
TEST(ParquetReaderTest, ValueLargerThanTheBatchBudget) {
  std::vector<uint8_t> body = {0x02, 0, 0, 0, 0x04, 0x01};  // def: 2 x 1
  for (size_t length : {10, 5000}) {
    auto v = PlainString(length, 'b');
    body.insert(body.end(), v.begin(), v.end());
  }
  auto pages = PageHeader(0, static_cast<int32_t>(body.size()), 2, 0);
  pages.insert(pages.end(), body.begin(), body.end());
  ReaderOptions options;
  options.limits.batch_bytes = 1000;
  auto got = Decode(BuildFile(pages, 2, -1, kByteArray), options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kLimitExceeded) << got.status().ToString();
  EXPECT_NE(got.status().message().find("row 1"), std::string::npos) << got.status().ToString();
  EXPECT_NE(got.status().message().find("column 'x'"), std::string::npos)
      << got.status().ToString();
  EXPECT_NE(got.status().message().find("--load-memory"), std::string::npos)
      << got.status().ToString();
}

// A page larger than what a reader may hold: LIMIT_EXCEEDED before it is read.
TEST(ParquetReaderTest, PageLargerThanTheBufferBudget) {
  std::vector<uint8_t> body = {0x02, 0, 0, 0, 0x04, 0x01};
  auto v = PlainString(20000, 'c');
  body.insert(body.end(), v.begin(), v.end());
  v = PlainString(1, 'd');
  body.insert(body.end(), v.begin(), v.end());
  auto pages = PageHeader(0, static_cast<int32_t>(body.size()), 2, 0);
  pages.insert(pages.end(), body.begin(), body.end());
  ReaderOptions options;
  options.limits.buffer_bytes = 10000;
  auto got = Decode(BuildFile(pages, 2, -1, kByteArray), options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kLimitExceeded) << got.status().ToString();
  EXPECT_NE(got.status().message().find("page 0"), std::string::npos) << got.status().ToString();
  options.limits.buffer_bytes = 1 << 20;
  got = Decode(BuildFile(pages, 2, -1, kByteArray), options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
}

// Small batch budgets cut a 2,000,000-row row group into more, smaller batches, in order.
TEST(ParquetReaderTest, CutsBatchesByBytes) {
  constexpr int32_t kPerPage = 10000;
  std::vector<uint8_t> pages;
  for (int p = 0; p < 3; ++p) {
    std::vector<uint8_t> body = {0x04, 0, 0, 0, 0xa0, 0x9c, 0x01, 0x01};
    for (int32_t v = 0; v < kPerPage; ++v) {
      const int32_t value = p * kPerPage + v;
      for (int b = 0; b < 4; ++b) body.push_back(static_cast<uint8_t>(value >> (8 * b)));
    }
    auto header = PageHeader(0, static_cast<int32_t>(body.size()), kPerPage, 0);
    pages.insert(pages.end(), header.begin(), header.end());
    pages.insert(pages.end(), body.begin(), body.end());
  }
  ReaderOptions options;
  options.limits.batch_bytes = 40000;
  auto reader = OpenParquet(
      std::make_unique<MemoryFile>(BuildFile(pages, 3 * kPerPage), "memory.parquet"), options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  batch::Batch b;
  int64_t seen = 0;
  int batches = 0;
  while (true) {
    auto more = (*reader)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++batches;
    EXPECT_LE(batch::BatchBytes(b), 2 * options.limits.batch_bytes);
    for (int64_t r = 0; r < b.num_rows; ++r) ASSERT_EQ(b.columns[0].Value<int64_t>(r), seen + r);
    seen += b.num_rows;
  }
  EXPECT_EQ(seen, 3 * kPerPage);
  EXPECT_GE(batches, 6);
}

// Nulls take no bytes in a page but a slot each in the batch: a column of nulls is cut by the
// bytes its slots take, not by the one level byte each null has in the page.
TEST(ParquetReaderTest, CutsBatchesOfNullsByTheirSlots) {
  constexpr int32_t kPerPage = 10000;
  std::vector<uint8_t> pages;
  for (int p = 0; p < 3; ++p) {
    // Definition levels only: one RLE run of kPerPage zeros; no values.
    std::vector<uint8_t> body = {0x04, 0, 0, 0, 0xa0, 0x9c, 0x01, 0x00};
    auto header = PageHeader(0, static_cast<int32_t>(body.size()), kPerPage, 0);
    pages.insert(pages.end(), header.begin(), header.end());
    pages.insert(pages.end(), body.begin(), body.end());
  }
  ReaderOptions options;
  options.limits.batch_bytes = 40000;
  auto reader = OpenParquet(
      std::make_unique<MemoryFile>(BuildFile(pages, 3 * kPerPage), "memory.parquet"), options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  batch::Batch b;
  int64_t seen = 0;
  while (true) {
    auto more = (*reader)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    EXPECT_LE(batch::BatchBytes(b), 2 * options.limits.batch_bytes) << b.num_rows << " rows";
    for (int64_t r = 0; r < b.num_rows; ++r) ASSERT_FALSE(b.columns[0].IsValid(r));
    seen += b.num_rows;
  }
  EXPECT_EQ(seen, 3 * kPerPage);
}

TEST(ParquetReaderTest, NestedColumnsDecodeAndDescribe) {
  const std::string path =
      std::string(SLUICE_SHARED_DIR) + "/parquet/generated/seed_order_nested.parquet";
  auto file = FileSystem::Default().OpenRandomAccess(path);
  ASSERT_TRUE(file.ok());
  auto reader = OpenParquet(std::move(file).value());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const batch::Schema& schema = (*reader)->schema();
  const int customer = schema.FieldIndex("customer");
  ASSERT_GE(customer, 0);
  EXPECT_EQ(schema.fields[static_cast<size_t>(customer)].type.id, batch::TypeId::kStruct);
  batch::Batch b;
  auto more = (*reader)->Next(&b);
  ASSERT_TRUE(more.ok() && *more) << more.status().ToString();
  EXPECT_EQ(b.num_rows, 1);

  auto again = FileSystem::Default().OpenRandomAccess(path);
  ASSERT_TRUE(again.ok());
  auto text = DescribeSchema(std::move(again).value());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto doc = nlohmann::json::parse(*text);
  bool found = false;
  for (const auto& c : doc["columns"]) {
    if (c["name"] != "customer") continue;
    found = true;
    EXPECT_EQ(c["physical"], "GROUP");
    ASSERT_TRUE(c.contains("children"));
    EXPECT_GT(c["children"].size(), 0u);
    EXPECT_TRUE(c["children"][0].contains("max_definition_level"));
  }
  EXPECT_TRUE(found) << *text;
}

}  // namespace
}  // namespace sluice::parquet
