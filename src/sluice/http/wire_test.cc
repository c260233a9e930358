#include <gtest/gtest.h>

#include <memory>

#include "sluice/core/testing/memory_file.h"
#include "sluice/http/wire_internal.h"

namespace sluice::http::internal {
namespace {

TEST(WireTest, SplitTargetAtFirstQuestionMark) {
  std::string path, query;
  SplitTarget("/b/k?x=1?y=2", &path, &query);
  EXPECT_EQ(path, "/b/k");
  EXPECT_EQ(query, "x=1?y=2");
  SplitTarget("/b/k%3F", &path, &query);
  EXPECT_EQ(path, "/b/k%3F");
  EXPECT_EQ(query, "");
  SplitTarget("/?", &path, &query);
  EXPECT_EQ(path, "/");
  EXPECT_EQ(query, "");
}

TEST(WireTest, CheckResponseNamesTheBadPartWithoutTheValue) {
  EXPECT_EQ(CheckResponse(Response{200, {{"ETag", "\"abc\""}}, "", false}), "");
  EXPECT_NE(CheckResponse(Response{99, {}, "", false}).find("99"), std::string::npos);
  EXPECT_NE(CheckResponse(Response{600, {}, "", false}), "");
  std::string p = CheckResponse(Response{200, {{"X-A", "secret\r\nX: y"}}, "", false});
  EXPECT_NE(p.find("X-A"), std::string::npos);
  EXPECT_EQ(p.find("secret"), std::string::npos);
  EXPECT_NE(CheckResponse(Response{200, {{"Bad Name", "v"}}, "", false}), "");
  EXPECT_NE(CheckResponse(Response{200, {{"", "v"}}, "", false}), "");
  EXPECT_NE(CheckResponse(Response{200, {{"X", std::string("a\0b", 3)}}, "", false}), "");
}

TEST(WireTest, CheckResponseRefusesAFileRangePastTheEndOrABodyBeside) {
  Response r;
  r.file = std::make_shared<testing::MemoryFile>("0123456789");
  r.file_offset = 4;
  r.file_length = 6;
  EXPECT_EQ(CheckResponse(r), "");
  r.file_length = 7;
  EXPECT_NE(CheckResponse(r).find("passes the end of memory-file"), std::string::npos);
  r.file_offset = 11;
  r.file_length = 0;
  EXPECT_NE(CheckResponse(r), "");
  r.file_offset = 2;
  r.file_length = UINT64_MAX;  // offset + length would wrap
  EXPECT_NE(CheckResponse(r), "");
  r.file_length = 1;
  r.body = "x";
  EXPECT_NE(CheckResponse(r).find("both"), std::string::npos);
}

}  // namespace
}  // namespace sluice::http::internal
