#include <gtest/gtest.h>

#include <set>

#include "sluice/catalog/names_internal.h"

namespace sluice::catalog {
namespace {

TEST(DeriveConnectionIdTest, NormalisesNames) {
  EXPECT_EQ(*DeriveConnectionId("Sales"), "sales");
  EXPECT_EQ(*DeriveConnectionId("My  Sales_DB (EU)"), "my-sales-db-eu");
  EXPECT_EQ(*DeriveConnectionId("--a--b--c--"), "a-b-c");
  EXPECT_EQ(*DeriveConnectionId("  x.y.z  "), "x-y-z");
  // Namespaces the pool's engines reserve.
  for (const char* reserved : {"main", "TEMP", "Public"}) {
    auto id = DeriveConnectionId(reserved);
    ASSERT_FALSE(id.ok()) << reserved;
    EXPECT_NE(id.status().message().find("reserves"), std::string::npos);
  }
  EXPECT_EQ(*DeriveConnectionId("Café 2024"), "caf-2024");
  EXPECT_EQ(*DeriveConnectionId("abc"), "abc");
  EXPECT_EQ(*DeriveConnectionId(std::string(63, 'a')), std::string(63, 'a'));
}

TEST(DeriveConnectionIdTest, RejectsWithTheRule) {
  for (const std::string name : {"", "ab", "--", "a_b" /* a-b: 3 chars, fine */}) {
    auto id = DeriveConnectionId(name);
    if (name == "a_b") {
      ASSERT_TRUE(id.ok());
      EXPECT_EQ(*id, "a-b");
      continue;
    }
    ASSERT_FALSE(id.ok()) << name;
    EXPECT_EQ(id.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find("3 to 63"), std::string::npos) << id.status().ToString();
  }
  auto long_id = DeriveConnectionId(std::string(64, 'a'));
  ASSERT_FALSE(long_id.ok());
  EXPECT_NE(long_id.status().message().find("64 characters"), std::string::npos);
  EXPECT_EQ(DeriveConnectionId("sthree-data").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(DeriveConnectionId("x-s3alias").status().code(), ErrorCode::kInvalidArgument);
}

TEST(ValidateTableNameTest, AcceptsIdentifiers) {
  for (const char* name : {"orders", "_t", "Order_Lines2", "A"}) {
    EXPECT_TRUE(ValidateTableName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateTableName(std::string(63, 'x')).ok());
}

TEST(ValidateTableNameTest, RejectsOthers) {
  for (const char* name : {"", "2orders", "or-ders", "a b", "a/b", "a;DROP", "ü"}) {
    Status st = ValidateTableName(name);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(st.message().find("[A-Za-z_]"), std::string::npos) << st.ToString();
  }
  EXPECT_EQ(ValidateTableName(std::string(64, 'x')).code(), ErrorCode::kInvalidArgument);
}

TEST(ValidateTableNameTest, RejectsReservedPrefixesInAnyCase) {
  for (const char* name :
       {"_sluice", "_sluice_applied", "_SLUICE_x", "_Sluice", "sqlite_master", "SQLITE_x"}) {
    Status st = ValidateTableName(name);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(st.message().find("is reserved"), std::string::npos) << st.ToString();
  }
  for (const char* name : {"_sluic", "sluice", "my_sluice", "sqlite", "sqlitex"}) {
    EXPECT_TRUE(ValidateTableName(name).ok()) << name;
  }
}

TEST(CredentialFormatTest, AccessKeyShape) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto key = NewAccessKey();
    ASSERT_TRUE(key.ok());
    ASSERT_EQ(key->size(), 20u);
    EXPECT_EQ(key->substr(0, 2), "SK");
    for (char c : *key) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << *key;
    seen.insert(*key);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(CredentialFormatTest, SecretShapeAndCoverage) {
  std::set<char> chars;
  for (int i = 0; i < 200; ++i) {
    auto secret = NewSecret();
    ASSERT_TRUE(secret.ok());
    const std::string& s = secret->reveal();
    ASSERT_EQ(s.size(), 40u);
    for (char c : s) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '+')
          << c;
      chars.insert(c);
    }
  }
  // 8000 draws from 64 symbols: every symbol shows up (missing one has odds ~e^-125).
  EXPECT_EQ(chars.size(), 64u);
}

}  // namespace
}  // namespace sluice::catalog
