#include "sluice/parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::parquet {
namespace {

ByteView View(const std::vector<uint8_t>& v) { return ByteView(v.data(), v.size()); }

TEST(ThriftCompactTest, ZigZag) {
  EXPECT_EQ(ZigZagDecode(0), 0);
  EXPECT_EQ(ZigZagDecode(1), -1);
  EXPECT_EQ(ZigZagDecode(2), 1);
  EXPECT_EQ(ZigZagDecode(3), -2);
  EXPECT_EQ(ZigZagDecode(0xfffffffffffffffeull), INT64_MAX);
  EXPECT_EQ(ZigZagDecode(0xffffffffffffffffull), INT64_MIN);
}

TEST(ThriftCompactTest, Varints) {
  std::vector<uint8_t> bytes = {0x96, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f};
  CompactReader r(View(bytes));
  EXPECT_EQ(*r.ReadVarint(), 150u);
  EXPECT_EQ(*r.ReadVarint(), 0u);
  EXPECT_EQ(*r.ReadVarint(), 0xffffffffu);
  std::vector<uint8_t> too_long(11, 0x80);
  CompactReader bad(View(too_long));
  EXPECT_EQ(bad.ReadVarint().status().code(), ErrorCode::kCorruptFile);
  std::vector<uint8_t> truncated = {0x80};
  CompactReader cut(View(truncated));
  EXPECT_EQ(cut.ReadVarint().status().code(), ErrorCode::kCorruptFile);
  std::vector<uint8_t> big = {0x80, 0x80, 0x80, 0x80, 0x10};  // zigzag 2^32 -> 2^31
  CompactReader i32(View(big));
  EXPECT_EQ(i32.ReadI32().status().code(), ErrorCode::kCorruptFile);
}

TEST(ThriftCompactTest, StructWithWorkedExample) {
  // Field 1 = i32 2, field 2 = "abc", STOP (the header's worked example).
  std::vector<uint8_t> bytes = {0x15, 0x04, 0x18, 0x03, 'a', 'b', 'c', 0x00};
  CompactReader r(View(bytes));
  int32_t a = 0;
  std::string b;
  Status st = r.ReadStruct([&](int16_t id, CType t) -> Status {
    if (id == 1) return r.ReadField(t, &a);
    if (id == 2) return r.ReadField(t, &b);
    return r.Skip(t);
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, "abc");
  EXPECT_EQ(r.position(), bytes.size());
}

TEST(ThriftCompactTest, SkipsUnknownFieldsOfEveryType) {
  // One field of every wire type, then a long-form id (32) and field 33 to read.
  std::vector<uint8_t> bytes;
  bytes = {0x11, 0x13, 0x7f, 0x14, 0x02, 0x16, 0x80, 0x01, 0x17, 0,    0,    0,
           0,    0,    0,    0xf0, 0x3f, 0x19, 0x35, 0x02, 0x04, 0x06, 0x1b, 0x01,
           0x85, 0x01, 'k',  0x04, 0x0c, 0x40, 0x00, 0x15, 0x0a, 0x00};
  CompactReader r(View(bytes));
  int32_t last = 0;
  std::vector<int16_t> ids;
  Status st = r.ReadStruct([&](int16_t id, CType t) -> Status {
    ids.push_back(id);
    if (id == 33) return r.ReadField(t, &last);
    return r.Skip(t);
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(last, 5);
  EXPECT_EQ(ids, (std::vector<int16_t>{1, 2, 3, 4, 5, 6, 7, 32, 33}));
  EXPECT_EQ(r.position(), bytes.size());
}

TEST(ThriftCompactTest, RejectsHostileSizesAndDepth) {
  // A list claiming 1,000,000 elements in 3 bytes.
  std::vector<uint8_t> list = {0x19, 0xf5, 0xc0, 0x84, 0x3d, 0x00};
  CompactReader r(View(list));
  Status st = r.ReadStruct([&](int16_t, CType t) { return r.Skip(t); });
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  // A string longer than the data.
  std::vector<uint8_t> str = {0x18, 0x7f, 'a', 0x00};
  CompactReader s(View(str));
  st = s.ReadStruct([&](int16_t, CType t) { return s.Skip(t); });
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  // Structs nested 10,000 deep.
  std::vector<uint8_t> deep(10000, 0x1c);
  CompactReader d(View(deep));
  st = d.ReadStruct([&](int16_t, CType t) { return d.Skip(t); });
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  // A field header with an unknown type nibble.
  std::vector<uint8_t> unknown = {0x1e, 0x00};
  CompactReader u(View(unknown));
  st = u.ReadStruct([&](int16_t, CType t) { return u.Skip(t); });
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
}

TEST(ThriftCompactTest, WrongWireTypeForKnownField) {
  std::vector<uint8_t> bytes = {0x18, 0x01, 'x', 0x00};  // field 1 as binary
  CompactReader r(View(bytes));
  int32_t v = 0;
  Status st = r.ReadStruct([&](int16_t, CType t) { return r.ReadField(t, &v); });
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
}

}  // namespace
}  // namespace sluice::parquet
