// The README's table of S3 operations, walked through the router: each row's request must route
// to the operation the row names (or, for a row answered 501, to none), and every operation the
// router serves must have a row. So the table cannot claim what the router does not do, nor
// miss what it does.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/s3/route_internal.h"

namespace sluice::s3 {
namespace {

struct Row {
  std::string names;    // "CopyObject", or "GetObjectTagging, PutObjectTagging"
  std::string request;  // "`PUT /b/k` + `x-amz-copy-source`"
  std::string answer;
};

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::vector<Row> ReadmeRows() {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t begin = readme.find("<!-- s3-operations -->");
  const size_t end = readme.find("<!-- /s3-operations -->");
  EXPECT_NE(begin, std::string::npos) << "README.md has no <!-- s3-operations --> table";
  EXPECT_NE(end, std::string::npos);
  std::vector<Row> rows;
  if (begin == std::string::npos || end == std::string::npos) return rows;
  std::istringstream lines(readme.substr(begin, end - begin));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("| ") || line.starts_with("| Operation") || line.starts_with("|---")) {
      continue;
    }
    std::vector<std::string> cells;
    size_t at = 1;
    for (size_t bar = line.find('|', at); bar != std::string::npos; bar = line.find('|', at)) {
      cells.push_back(Trim(line.substr(at, bar - at)));
      at = bar + 1;
    }
    EXPECT_EQ(cells.size(), 3u) << line;
    if (cells.size() == 3) rows.push_back({cells[0], cells[1], cells[2]});
  }
  return rows;
}

// "`PUT /b/k?partNumber=1&uploadId=u` + `x-amz-copy-source`" as a request head.
http::RequestHead HeadOf(const std::string& request) {
  std::vector<std::string> parts;
  for (size_t at = request.find('`'); at != std::string::npos;) {
    const size_t close = request.find('`', at + 1);
    if (close == std::string::npos) break;
    parts.push_back(request.substr(at + 1, close - at - 1));
    at = request.find('`', close + 1);
  }
  http::RequestHead head;
  if (parts.empty()) return head;
  const std::string& line = parts[0];
  const size_t space = line.find(' ');
  head.method = line.substr(0, space);
  const std::string target = space == std::string::npos ? "" : line.substr(space + 1);
  const size_t q = target.find('?');
  head.raw_path = target.substr(0, q);
  head.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  head.target = target;
  for (size_t i = 1; i < parts.size(); ++i) head.headers.emplace_back(parts[i], "b/k");
  return head;
}

TEST(RouteDoc, TheReadmeTableIsWhatTheRouterDoes) {
  const std::vector<Row> rows = ReadmeRows();
  ASSERT_GT(rows.size(), 20u);
  std::set<Operation> served;
  for (const Row& row : rows) {
    const http::RequestHead head = HeadOf(row.request);
    ASSERT_FALSE(head.method.empty()) << row.names << ": no request in " << row.request;
    const Route route = RouteRequest(head);
    EXPECT_TRUE(route.error.ok()) << row.names << ": " << route.error.ToString();
    if (row.answer.starts_with("501")) {
      EXPECT_EQ(route.op, Operation::kUnsupported) << row.names << " is listed as refused but "
                                                   << row.request << " routes to " << route.name;
      continue;
    }
    EXPECT_NE(route.op, Operation::kUnsupported) << row.names << " is listed as served but "
                                                 << row.request << " is not (" << route.name << ")";
    EXPECT_EQ(route.name, row.names) << row.request;
    served.insert(route.op);
  }
  // Every operation the router serves has a row.
  for (int op = 0; op < static_cast<int>(Operation::kUnsupported); ++op) {
    EXPECT_TRUE(served.count(static_cast<Operation>(op)))
        << "operation #" << op << " of route_internal.h has no row in README.md's S3 table";
  }
}

}  // namespace
}  // namespace sluice::s3
