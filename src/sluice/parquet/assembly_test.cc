// Record assembly from hand-written levels: the level tables of levels.h and assembly.h, a
// struct whose null rows still give its fields a row, a map, a legacy 2-level list, and leaves
// that disagree.

#include "sluice/parquet/assembly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sluice/parquet/column_builder.h"

namespace sluice::parquet {
namespace {

SchemaElement Group(const std::string& name, Repetition r, int children,
                    std::optional<ConvertedType> converted = std::nullopt) {
  SchemaElement e;
  e.name = name;
  e.repetition = r;
  e.num_children = children;
  e.converted_type = converted;
  return e;
}

SchemaElement Int32(const std::string& name, Repetition r) {
  SchemaElement e;
  e.name = name;
  e.repetition = r;
  e.type = PhysicalType::kInt32;
  return e;
}

// A leaf batch of int32 values with the given levels (empty: not stored).
LeafBatch Leaf(std::vector<uint8_t> rep, std::vector<uint8_t> def, std::vector<int64_t> values) {
  LeafBatch b;
  b.Reset(batch::DataType(batch::TypeId::kInt32));
  b.entries = static_cast<int64_t>(std::max(rep.size(), def.size()));
  b.rep = std::move(rep);
  b.def = std::move(def);
  for (int64_t v : values) {
    const size_t at = b.values.fixed.size();
    b.values.fixed.resize(at + 8);
    std::memcpy(b.values.fixed.data() + at, &v, 8);
  }
  b.values.length = static_cast<int64_t>(values.size());
  return b;
}

// Assembles top-level column 0 of `elements` from `leaves` and renders each row.
Result<std::vector<std::string>> Rows(std::vector<SchemaElement> elements,
                                      std::vector<LeafBatch> leaves) {
  SLUICE_ASSIGN_OR_RETURN(FileSchema fs, BuildFileSchema(elements));
  batch::Column column;
  SLUICE_RETURN_IF_ERROR(AssembleColumn(fs.columns[0].shape, leaves, fs.leaves, &column));
  std::vector<std::string> rows;
  for (int64_t r = 0; r < column.length; ++r) {
    std::string text;
    batch::AppendCanonicalValue(column, r, &text);
    rows.push_back(text);
  }
  return rows;
}

TEST(AssemblyTest, ThreeLevelListLevelTable) {
  // optional group a (LIST) { repeated group list { optional int32 element } }: max_rep 1,
  // max_def 3. Rows: null, [], [null], [1, 2].
  auto rows =
      Rows({Group("schema", Repetition::kRequired, 1),
            Group("a", Repetition::kOptional, 1, ConvertedType::kList),
            Group("list", Repetition::kRepeated, 1), Int32("element", Repetition::kOptional)},
           {Leaf({0, 0, 0, 0, 1}, {0, 1, 2, 3, 3}, {1, 2})});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (std::vector<std::string>{"null", "[]", "[null]", "[1,2]"}));
}

TEST(AssemblyTest, NullStructKeepsARowInEveryField) {
  // optional group s { optional int32 x; repeated int32 y }: rows
  //   {x:1, y:[2,3]}, null, {x:null, y:[]}
  auto rows = Rows({Group("schema", Repetition::kRequired, 1), Group("s", Repetition::kOptional, 2),
                    Int32("x", Repetition::kOptional), Int32("y", Repetition::kRepeated)},
                   {Leaf({}, {2, 0, 1}, {1}), Leaf({0, 1, 0, 0}, {2, 2, 0, 1}, {2, 3})});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows,
            (std::vector<std::string>{R"({"x":1,"y":[2,3]})", "null", R"({"x":null,"y":[]})"}));
}

TEST(AssemblyTest, MapAndLegacyTwoLevelList) {
  // optional group m (MAP) { repeated group key_value { required int32 key; optional int32
  // value } }: rows [{1:10},{2:null}], null, [].
  auto map =
      Rows({Group("schema", Repetition::kRequired, 1),
            Group("m", Repetition::kOptional, 1, ConvertedType::kMap),
            Group("key_value", Repetition::kRepeated, 2), Int32("key", Repetition::kRequired),
            Int32("value", Repetition::kOptional)},
           {Leaf({0, 1, 0, 0}, {2, 2, 0, 1}, {1, 2}), Leaf({0, 1, 0, 0}, {3, 2, 0, 1}, {10})});
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(*map, (std::vector<std::string>{R"([{"key":1,"value":10},{"key":2,"value":null}])",
                                            "null", "[]"}));
  // required group a (LIST) { repeated int32 array }: [4, 5], [].
  auto list = Rows({Group("schema", Repetition::kRequired, 1),
                    Group("a", Repetition::kRequired, 1, ConvertedType::kList),
                    Int32("array", Repetition::kRepeated)},
                   {Leaf({0, 1, 0}, {1, 1, 0}, {4, 5})});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, (std::vector<std::string>{"[4,5]", "[]"}));
}

TEST(AssemblyTest, DisagreeingLeavesAreCorrupt) {
  // The struct's two fields claim different row counts.
  auto rows = Rows({Group("schema", Repetition::kRequired, 1), Group("s", Repetition::kOptional, 2),
                    Int32("x", Repetition::kOptional), Int32("y", Repetition::kOptional)},
                   {Leaf({}, {2, 2}, {1, 2}), Leaf({}, {2}, {3})});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kCorruptFile);
  // More values than defined slots.
  auto extra =
      Rows({Group("schema", Repetition::kRequired, 1),
            Group("a", Repetition::kOptional, 1, ConvertedType::kList),
            Group("list", Repetition::kRepeated, 1), Int32("element", Repetition::kOptional)},
           {Leaf({0, 0}, {3, 0}, {1, 2, 3})});
  EXPECT_EQ(extra.status().code(), ErrorCode::kCorruptFile);
}

}  // namespace
}  // namespace sluice::parquet
