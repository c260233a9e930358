#include <gtest/gtest.h>

#include "sluice/load/sniff_internal.h"

namespace sluice::load {
namespace {

std::string Describe(std::string_view bytes) {
  return DescribeNonParquet(AsBytes(bytes), bytes.size());
}

TEST(SniffTest, ParquetIsLeftToTheReader) {
  EXPECT_EQ(Describe("PAR1\x15\x04"), "");
  EXPECT_EQ(Describe("PARE...."), "");
}

TEST(SniffTest, NamesWhatTheBytesLookLike) {
  EXPECT_EQ(Describe(""), "an empty file (0 bytes)");
  EXPECT_EQ(Describe("{\"id\": 1}\n{\"id\": 2}\n"), "JSON Lines (first line: {\"id\": 1})");
  EXPECT_EQ(Describe("{\n  \"id\": 1\n}\n"), "JSON (first line: {)");
  EXPECT_EQ(Describe("\xef\xbb\xbf  [1, 2]"), "a JSON array (starts with: [1, 2])");
  EXPECT_EQ(Describe("order_id,note\r\n1,x\r\n"),
            "CSV or other delimited text (first line: order_id,note)");
  EXPECT_EQ(Describe("hello world\n"), "plain text (first line: hello world)");
  EXPECT_EQ(Describe(" \n\t"), "blank text (only whitespace)");
  EXPECT_NE(Describe(std::string_view("\x1f\x8b\x08\x00", 4)).find("gzip-compressed data"),
            std::string::npos);
  EXPECT_EQ(Describe(std::string_view("\x28\xb5\x2f\xfd\x00", 5)), "zstd-compressed data");
  EXPECT_EQ(Describe("PK\x03\x04rest"), "a ZIP archive");
  EXPECT_EQ(Describe("ORC\x0a"), "an ORC file");
  EXPECT_EQ(Describe(std::string_view("\x00\x01\x02\xff\x10\x11\x12\x13\x14", 9)),
            "unrecognised binary data (first bytes: 00 01 02 ff 10 11 12 13)");
}

TEST(SniffTest, ChoosesTheReaderByContent) {
  auto format = [](std::string_view b) { return DetectFormat(AsBytes(b), b.size()); };
  EXPECT_EQ(format("PAR1\x15\x04"), FileFormat::kParquet);
  EXPECT_EQ(format("{\"id\": 1}\n"), FileFormat::kJson);
  EXPECT_EQ(format("\xef\xbb\xbf \r\n [{\"id\": 1}]"), FileFormat::kJson);
  EXPECT_EQ(format(std::string_view("\x1f\x8b\x08\x00", 4)), FileFormat::kJson);
  EXPECT_EQ(format("id,note\n1,x\n"), FileFormat::kOther);
  EXPECT_EQ(format("  \n"), FileFormat::kOther);
  EXPECT_EQ(format(""), FileFormat::kOther);
  EXPECT_EQ(format("<xml/>"), FileFormat::kOther);
}

TEST(SniffTest, QuotesALongFirstLineShortened) {
  const std::string line(100, 'a');
  EXPECT_EQ(Describe(line + "\n"), "plain text (first line: " + std::string(60, 'a') + "...)");
}

}  // namespace
}  // namespace sluice::load
