// Unit tests of the value and level decoders: RLE/bit-packed hybrid, dictionary indices,
// PLAIN, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, DELTA_(LENGTH_)BYTE_ARRAY.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "sluice/parquet/byte_stream_split.h"
#include "sluice/parquet/delta_binary_packed.h"
#include "sluice/parquet/delta_byte_array.h"
#include "sluice/parquet/dictionary.h"
#include "sluice/parquet/levels.h"
#include "sluice/parquet/plain_decoder.h"
#include "sluice/parquet/rle_hybrid.h"

namespace sluice::parquet {
namespace {

ByteView View(const std::vector<uint8_t>& v) { return ByteView(v.data(), v.size()); }

std::vector<uint32_t> Rle(const std::vector<uint8_t>& bytes, int width, int64_t n, Status* st) {
  std::vector<uint32_t> out(static_cast<size_t>(n));
  RleBitPackedDecoder d(View(bytes), width);
  *st = d.GetBatch(out.data(), n);
  return out;
}

TEST(RleHybridTest, WorkedExample) {
  Status st;
  auto v = Rle({0x03, 0x17, 0x10, 0x01}, 1, 16, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v, (std::vector<uint32_t>{1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(RleHybridTest, BitWidthZero) {
  Status st;
  // rle run of 5 with no value bytes, then a bit-packed group with no data bytes.
  auto v = Rle({0x0a, 0x03}, 0, 13, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v, std::vector<uint32_t>(13, 0));
}

TEST(RleHybridTest, BitWidth32) {
  Status st;
  std::vector<uint8_t> bytes = {0x04, 0xff, 0xff, 0xff, 0xff};  // rle: 2 x 0xffffffff
  bytes.push_back(0x03);                                        // bit-packed: 8 values
  for (uint32_t i = 0; i < 8; ++i) {
    const uint32_t v = 0x80000000u + i;
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<uint8_t>(v >> (8 * b)));
  }
  auto v = Rle(bytes, 32, 10, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v[0], 0xffffffffu);
  EXPECT_EQ(v[1], 0xffffffffu);
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(v[2 + i], 0x80000000u + i);
}

TEST(RleHybridTest, BitWidth3AcrossBytes) {
  // Values 0..7 at width 3: 0b10001000 0b11000110 0b11111010 = 88 c6 fa.
  Status st;
  auto v = Rle({0x03, 0x88, 0xc6, 0xfa}, 3, 8, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(RleHybridTest, TruncatedAndMalformed) {
  Status st;
  Rle({0x10}, 8, 8, &st);  // rle run without its value byte
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  Rle({0x08, 0x01}, 1, 8, &st);  // a run of 4 where 8 are needed
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  Rle({0x00}, 1, 1, &st);  // empty rle run
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  Rle({0x03, 0x01}, 16, 8, &st);  // bit-packed run cut short: no whole value
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  Rle({0x02, 0x01}, 33, 1, &st);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
}

TEST(LevelsTest, FlatDefinitionLevels) {
  std::vector<uint8_t> levels;
  std::vector<uint8_t> bytes = {0x03, 0x0d};  // 1 0 1 1 (the levels.h example)
  ASSERT_TRUE(DecodeRleLevels(View(bytes), 1, 4, &levels).ok());
  EXPECT_EQ(levels, (std::vector<uint8_t>{1, 0, 1, 1}));
  // The same levels BIT_PACKED (most significant bit first): 0b10110000.
  std::vector<uint8_t> packed = {0xb0, 0xff};
  size_t consumed = 0;
  ASSERT_TRUE(DecodeBitPackedLevels(View(packed), 1, 4, &levels, &consumed).ok());
  EXPECT_EQ(levels, (std::vector<uint8_t>{1, 0, 1, 1}));
  EXPECT_EQ(consumed, 1u);
  // Width 2 (max level 3): 3 1 0 2 -> 11 01 00 10 = 0xd2.
  std::vector<uint8_t> packed2 = {0xd2};
  ASSERT_TRUE(DecodeBitPackedLevels(View(packed2), 3, 4, &levels, &consumed).ok());
  EXPECT_EQ(levels, (std::vector<uint8_t>{3, 1, 0, 2}));
  // Levels beyond the maximum are corrupt, in both encodings.
  Status above = DecodeBitPackedLevels(View(packed2), 2, 4, &levels, &consumed);
  EXPECT_EQ(above.code(), ErrorCode::kCorruptFile);
  EXPECT_NE(above.message().find("level 3 above the maximum 2"), std::string::npos)
      << above.message();
  std::vector<uint8_t> rle_three = {0x08, 0x03};  // rle run of 4 x level 3 at width 2
  EXPECT_EQ(DecodeRleLevels(View(rle_three), 2, 4, &levels).code(), ErrorCode::kCorruptFile);
  ASSERT_TRUE(DecodeRleLevels(View(rle_three), 3, 4, &levels).ok());
  EXPECT_EQ(levels, (std::vector<uint8_t>{3, 3, 3, 3}));
  // Short BIT_PACKED data.
  EXPECT_EQ(DecodeBitPackedLevels(View(packed2), 3, 5, &levels, &consumed).code(),
            ErrorCode::kCorruptFile);
  // Bit width 0 (max level 0): every level is 0 and no bytes are read.
  std::vector<uint8_t> none;
  ASSERT_TRUE(DecodeBitPackedLevels(View(none), 0, 3, &levels, &consumed).ok());
  EXPECT_EQ(levels, (std::vector<uint8_t>{0, 0, 0}));
  EXPECT_EQ(LevelBitWidth(0), 0);
  EXPECT_EQ(LevelBitWidth(1), 1);
  EXPECT_EQ(LevelBitWidth(3), 2);
  EXPECT_EQ(LevelBitWidth(4), 3);
}

TEST(DictionaryTest, IndicesAndGather) {
  std::vector<uint32_t> indices;
  std::vector<uint8_t> bytes = {0x02, 0x03, 0xe4, 0x00};  // the dictionary.h example
  ASSERT_TRUE(DecodeDictionaryIndices(View(bytes), 4, 4, &indices).ok());
  EXPECT_EQ(indices, (std::vector<uint32_t>{0, 1, 2, 3}));

  batch::Column dict = batch::MakeColumn(batch::DataType(batch::TypeId::kString));
  for (const char* s : {"a", "bb", "", "ccc"}) {
    dict.chars.insert(dict.chars.end(), s, s + std::strlen(s));
    dict.offsets.push_back(static_cast<int64_t>(dict.chars.size()));
  }
  dict.length = 4;
  batch::Column out = batch::MakeColumn(dict.type);
  const uint32_t picks[] = {3, 0, 0, 2, 1};
  GatherDictionary(dict, picks, 5, &out);
  ASSERT_EQ(out.length, 5);
  EXPECT_EQ(out.StringAt(0), "ccc");
  EXPECT_EQ(out.StringAt(3), "");
  EXPECT_EQ(out.StringAt(4), "bb");
}

TEST(DictionaryTest, IndexOutOfRange) {
  std::vector<uint32_t> indices;
  std::vector<uint8_t> bytes = {0x02, 0x03, 0xe4, 0x00};  // index 3 with a dictionary of 3
  Status st = DecodeDictionaryIndices(View(bytes), 4, 3, &indices);
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  EXPECT_NE(st.message().find("dictionary index 3 out of range"), std::string::npos)
      << st.message();
  std::vector<uint8_t> wide = {33, 0x02, 0x00};
  EXPECT_EQ(DecodeDictionaryIndices(View(wide), 1, 3, &indices).code(), ErrorCode::kCorruptFile);
  std::vector<uint8_t> empty;
  EXPECT_EQ(DecodeDictionaryIndices(View(empty), 1, 3, &indices).code(), ErrorCode::kCorruptFile);
}

LeafColumn Leaf(PhysicalType physical, Conversion conversion, batch::DataType type,
                int32_t type_length = 0) {
  LeafColumn c;
  c.name = "c";
  c.physical = physical;
  c.conversion = conversion;
  c.type = type;
  c.type_length = type_length;
  return c;
}

TEST(PlainDecoderTest, FixedWidthAndConversions) {
  std::vector<uint8_t> bytes = {0x01, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff};
  {
    LeafColumn c = Leaf(PhysicalType::kInt32, Conversion::kInt32Signed,
                        batch::DataType(batch::TypeId::kInt32));
    batch::Column out = batch::MakeColumn(c.type);
    Cursor cur(View(bytes));
    ASSERT_TRUE(DecodePlain(c, &cur, 2, &out).ok());
    EXPECT_EQ(out.Value<int64_t>(0), 1);
    EXPECT_EQ(out.Value<int64_t>(1), -2);
  }
  {
    LeafColumn c = Leaf(PhysicalType::kInt32, Conversion::kInt32Unsigned,
                        batch::DataType(batch::TypeId::kUInt32));
    batch::Column out = batch::MakeColumn(c.type);
    Cursor cur(View(bytes));
    ASSERT_TRUE(DecodePlain(c, &cur, 2, &out).ok());
    EXPECT_EQ(out.Value<int64_t>(1), 4294967294);
  }
  {
    LeafColumn c = Leaf(PhysicalType::kInt32, Conversion::kInt32Signed,
                        batch::DataType(batch::TypeId::kInt32));
    batch::Column out = batch::MakeColumn(c.type);
    Cursor cur(View(bytes));
    EXPECT_EQ(DecodePlain(c, &cur, 3, &out).code(), ErrorCode::kCorruptFile);
  }
  {
    std::vector<uint8_t> booleans = {0x05};
    LeafColumn c =
        Leaf(PhysicalType::kBoolean, Conversion::kBool, batch::DataType(batch::TypeId::kBool));
    batch::Column out = batch::MakeColumn(c.type);
    Cursor cur(View(booleans));
    ASSERT_TRUE(DecodePlain(c, &cur, 3, &out).ok());
    EXPECT_EQ(out.fixed, (std::vector<uint8_t>{1, 0, 1}));
  }
  {
    // FIXED_LEN_BYTE_ARRAY(2) decimal -2 (ff fe) and 258 (01 02).
    std::vector<uint8_t> dec = {0xff, 0xfe, 0x01, 0x02};
    LeafColumn c = Leaf(PhysicalType::kFixedLenByteArray, Conversion::kFixedDecimal,
                        batch::DataType::Decimal(4, 2), 2);
    batch::Column out = batch::MakeColumn(c.type);
    Cursor cur(View(dec));
    ASSERT_TRUE(DecodePlain(c, &cur, 2, &out).ok());
    EXPECT_TRUE(out.Value<__int128>(0) == -2);
    EXPECT_TRUE(out.Value<__int128>(1) == 258);
  }
}

TEST(PlainDecoderTest, ByteArrays) {
  std::vector<uint8_t> bytes = {0x02, 0, 0, 0, 'a', 'b', 0, 0, 0, 0};
  LeafColumn c =
      Leaf(PhysicalType::kByteArray, Conversion::kBytes, batch::DataType(batch::TypeId::kString));
  batch::Column out = batch::MakeColumn(c.type);
  Cursor cur(View(bytes));
  ASSERT_TRUE(DecodePlain(c, &cur, 2, &out).ok());
  EXPECT_EQ(out.StringAt(0), "ab");
  EXPECT_EQ(out.StringAt(1), "");
  std::vector<uint8_t> lying = {0xff, 0xff, 0xff, 0x7f, 'a'};
  batch::Column out2 = batch::MakeColumn(c.type);
  Cursor cur2(View(lying));
  EXPECT_EQ(DecodePlain(c, &cur2, 1, &out2).code(), ErrorCode::kCorruptFile);
}

TEST(PlainDecoderTest, HalfFloats) {
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7e00)));
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
}

TEST(DeltaBinaryPackedTest, WorkedExampleAndBitPacked) {
  std::vector<int64_t> out;
  size_t consumed = 0;
  std::vector<uint8_t> example = {0x80, 0x01, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00};
  ASSERT_TRUE(DecodeDeltaBinaryPacked(View(example), 3, &out, &consumed).ok());
  EXPECT_EQ(out, (std::vector<int64_t>{1, 0, -1}));
  EXPECT_EQ(consumed, example.size());
  // Values 7, 5, 8: deltas -2, +3; min_delta -2 -> packed 0, 5 at width 3 in miniblock 0.
  std::vector<uint8_t> packed = {0x80, 0x01, 0x04, 0x03, 0x0e, 0x03, 0x03, 0x00, 0x00, 0x00};
  packed.push_back(0x28);                 // 0 | 5 << 3
  packed.insert(packed.end(), 11, 0x00);  // rest of the 32 x 3-bit miniblock (12 bytes)
  ASSERT_TRUE(DecodeDeltaBinaryPacked(View(packed), 3, &out, &consumed).ok());
  EXPECT_EQ(out, (std::vector<int64_t>{7, 5, 8}));
  EXPECT_EQ(consumed, packed.size());
}

TEST(DeltaBinaryPackedTest, Malformed) {
  std::vector<int64_t> out;
  size_t consumed = 0;
  std::vector<uint8_t> bad_block = {0x81, 0x01, 0x04, 0x03, 0x02};  // block size 129
  EXPECT_EQ(DecodeDeltaBinaryPacked(View(bad_block), 3, &out, &consumed).code(),
            ErrorCode::kCorruptFile);
  std::vector<uint8_t> too_few = {0x80, 0x01, 0x04, 0x02, 0x02};  // 2 values, 3 wanted
  EXPECT_EQ(DecodeDeltaBinaryPacked(View(too_few), 3, &out, &consumed).code(),
            ErrorCode::kCorruptFile);
  std::vector<uint8_t> cut = {0x80, 0x01, 0x04, 0x03, 0x02, 0x01, 0x08, 0x00};  // widths cut
  EXPECT_EQ(DecodeDeltaBinaryPacked(View(cut), 3, &out, &consumed).code(), ErrorCode::kCorruptFile);
}

// A DELTA_BINARY_PACKED encoder (block 128, 4 miniblocks of 32) for round trips; unused
// miniblocks of the last block get `unused_width` as their (ignored) bit width.
std::vector<uint8_t> EncodeDelta(const std::vector<int64_t>& values, uint8_t unused_width = 0) {
  std::vector<uint8_t> out;
  auto uleb = [&](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
  };
  auto zigzag = [&](int64_t v) {
    uleb((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  };
  uleb(128);
  uleb(4);
  uleb(values.size());
  zigzag(values.empty() ? 0 : values[0]);
  std::vector<uint64_t> deltas;
  for (size_t i = 1; i < values.size(); ++i) {
    deltas.push_back(static_cast<uint64_t>(values[i]) - static_cast<uint64_t>(values[i - 1]));
  }
  for (size_t block = 0; block < deltas.size(); block += 128) {
    const size_t end = std::min(deltas.size(), block + 128);
    int64_t min_delta = static_cast<int64_t>(deltas[block]);
    for (size_t i = block; i < end; ++i)
      min_delta = std::min(min_delta, static_cast<int64_t>(deltas[i]));
    zigzag(min_delta);
    std::vector<int> widths(4, 0);
    for (size_t m = 0; m < 4; ++m) {
      const size_t lo = block + m * 32;
      if (lo >= end) {
        widths[m] = unused_width;
        continue;
      }
      for (size_t i = lo; i < std::min(end, lo + 32); ++i) {
        const uint64_t v = deltas[i] - static_cast<uint64_t>(min_delta);
        while (widths[m] < 64 && (v >> widths[m]) != 0) ++widths[m];
      }
    }
    for (int w : widths) out.push_back(static_cast<uint8_t>(w));
    for (size_t m = 0; m < 4; ++m) {
      const size_t lo = block + m * 32;
      if (lo >= end) break;  // unused miniblocks store no bytes
      std::vector<uint8_t> packed(static_cast<size_t>(widths[m]) * 4, 0);
      for (size_t k = 0; k < 32; ++k) {
        const uint64_t v =
            lo + k < end ? deltas[lo + k] - static_cast<uint64_t>(min_delta) : 0;  // padding
        for (int b = 0; b < widths[m]; ++b) {
          const size_t bit = k * static_cast<size_t>(widths[m]) + static_cast<size_t>(b);
          if ((v >> b) & 1) packed[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
        }
      }
      out.insert(out.end(), packed.begin(), packed.end());
    }
  }
  return out;
}

TEST(DeltaBinaryPackedTest, RoundTripsWidths0To64AndWraps) {
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<std::vector<int64_t>> cases;
  cases.push_back(std::vector<int64_t>(300, 42));                // width 0 throughout
  cases.push_back({kMax, kMin, kMax, kMin, 0, kMin, kMax, -1});  // width 64, deltas wrap
  std::vector<int64_t> w32;
  for (int i = 0; i < 70; ++i) w32.push_back(i % 2 ? int64_t{0xffffffff} : 0);
  cases.push_back(w32);  // width 32
  std::vector<int64_t> ramp;
  for (int i = 0; i < 1000; ++i) ramp.push_back(int64_t{i} * i - 5000);
  cases.push_back(ramp);  // several blocks
  cases.push_back({7});   // first value only
  for (const auto& values : cases) {
    for (uint8_t unused : {uint8_t{0}, uint8_t{0xff}}) {
      const std::vector<uint8_t> bytes = EncodeDelta(values, unused);
      std::vector<int64_t> out;
      size_t consumed = 0;
      Status st = DecodeDeltaBinaryPacked(View(bytes), static_cast<int64_t>(values.size()), &out,
                                          &consumed);
      ASSERT_TRUE(st.ok()) << st.ToString() << " (" << values.size() << " values)";
      EXPECT_EQ(out, values);
      EXPECT_EQ(consumed, bytes.size()) << "padding miniblocks are part of the stream";
    }
  }
  // kMax + 1 wraps to kMin (min_delta 1, width 0).
  const std::vector<uint8_t> wrap = EncodeDelta({kMax - 1, kMax, kMin, kMin + 1});
  std::vector<int64_t> out;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(View(wrap), 4, &out, &consumed).ok());
  EXPECT_EQ(out, (std::vector<int64_t>{kMax - 1, kMax, kMin, kMin + 1}));
  // A miniblock bit width above 64 in a used miniblock is corrupt.
  std::vector<uint8_t> bad = EncodeDelta({1, 2, 3});
  bad[6] = 65;  // header 80 01 04 03 02, min_delta 02, then miniblock 0's bit width
  EXPECT_EQ(DecodeDeltaBinaryPacked(View(bad), 3, &out, &consumed).code(), ErrorCode::kCorruptFile);
}

TEST(ByteStreamSplitTest, WorkedExample) {
  std::vector<uint8_t> split = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3f, 0x40};
  std::vector<uint8_t> plain;
  ASSERT_TRUE(UnsplitByteStreams(View(split), 2, 4, &plain).ok());
  float f[2];
  std::memcpy(f, plain.data(), 8);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], 2.0f);
  EXPECT_EQ(UnsplitByteStreams(View(split), 3, 4, &plain).code(), ErrorCode::kCorruptFile);
  EXPECT_EQ(UnsplitByteStreams(View(split), 1, 3, &plain).code(), ErrorCode::kCorruptFile);
}

TEST(DeltaByteArrayTest, PrefixesAndSuffixes) {
  // prefix lengths 0 2; suffix lengths 4 2; suffixes "axis" "le".
  std::vector<uint8_t> bytes = {0x80, 0x01, 0x04, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00,
                                0x00, 0x80, 0x01, 0x04, 0x02, 0x08, 0x03, 0x00, 0x00,
                                0x00, 0x00, 'a',  'x',  'i',  's',  'l',  'e'};
  std::vector<uint8_t> plain;
  ASSERT_TRUE(DecodeDeltaByteArray(View(bytes), 2, &plain).ok());
  std::vector<uint8_t> want = {4, 0, 0, 0, 'a', 'x', 'i', 's', 4, 0, 0, 0, 'a', 'x', 'l', 'e'};
  EXPECT_EQ(plain, want);
  // A prefix longer than the previous value.
  bytes[5] = 0x0c;  // min delta 6 -> prefix 6 > 4
  EXPECT_EQ(DecodeDeltaByteArray(View(bytes), 2, &plain).code(), ErrorCode::kCorruptFile);
}

}  // namespace
}  // namespace sluice::parquet
