#include "sluice/cli/output.h"

#include <gtest/gtest.h>

namespace sluice::cli {
namespace {

Table Sample() {
  return Table{{"order_id", "payment_method", "order_value"},
               {{"ORD-1001", "cash", "600.00"}, {"ORD-7", std::nullopt, "12.5"}}};
}

TEST(OutputTest, Aligned) {
  EXPECT_EQ(Render(Sample(), Format::kAligned),
            "order_id | payment_method | order_value\n"
            "---------+----------------+------------\n"
            "ORD-1001 | cash           |      600.00\n"
            "ORD-7    | NULL           |        12.5\n"
            "(2 rows)\n");
}

TEST(OutputTest, JsonKeepsNumbersAndText) {
  Table t{{"id", "code", "v"}, {{"1", "007", std::nullopt}}};
  EXPECT_EQ(Render(t, Format::kJson),
            "[\n  {\n    \"id\": 1,\n    \"code\": \"007\",\n    \"v\": null\n  }\n]\n");
}

TEST(OutputTest, CsvQuotes) {
  Table t{{"a", "b"}, {{"x,y", "say \"hi\""}, {std::nullopt, "z"}}};
  EXPECT_EQ(Render(t, Format::kCsv), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n,z\n");
}

}  // namespace
}  // namespace sluice::cli
