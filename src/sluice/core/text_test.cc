#include "sluice/core/text.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TextTest, CaseMappingIsAsciiOnly) {
  EXPECT_EQ(AsciiLowered("Content-MD5 Äb"), "content-md5 Äb");
  EXPECT_EQ(AsciiUppered("decimal(18,2) äb"), "DECIMAL(18,2) äB");
  EXPECT_EQ(AsciiLower('@'), '@');  // the byte before 'A'
  EXPECT_EQ(AsciiLower('['), '[');  // the byte after 'Z'
  EXPECT_EQ(AsciiUpper('`'), '`');
  EXPECT_EQ(AsciiUpper('{'), '{');
  EXPECT_EQ(AsciiLower('\xC3'), '\xC3');
}

TEST(TextTest, EqualsIgnoreCaseIsAsciiOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("100-Continue", "100-continue"));
  EXPECT_TRUE(EqualsIgnoreCase("CONTENT-LENGTH", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("100-continue ", "100-continue"));
  EXPECT_FALSE(EqualsIgnoreCase("\xC3\x84", "\xC3\xA4"));  // Ä and ä
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));                // 0x40 and 0x60 differ by 32 too
  EXPECT_TRUE(StartsWithIgnoreCase("X-Amz-Meta-Owner", "x-amz-meta-"));
  EXPECT_FALSE(StartsWithIgnoreCase("X-Amz", "x-amz-meta-"));
}

TEST(TextTest, TrimRemovesAsciiSpaceOnBothEndsOnly) {
  EXPECT_EQ(TrimAscii(" \t\r\n\v\fa b \t\r\n"), "a b");
  EXPECT_EQ(TrimAscii("   "), "");
  EXPECT_EQ(TrimAscii(""), "");
  EXPECT_EQ(TrimAscii("\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");  // NBSP is not ASCII space
}

TEST(TextTest, CharacterClasses) {
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const bool upper = i >= 'A' && i <= 'Z';
    const bool lower = i >= 'a' && i <= 'z';
    const bool digit = i >= '0' && i <= '9';
    EXPECT_EQ(IsAsciiAlpha(c), upper || lower) << i;
    EXPECT_EQ(IsAsciiDigit(c), digit) << i;
    EXPECT_EQ(IsAsciiAlnum(c), upper || lower || digit) << i;
    EXPECT_EQ(IsAsciiSpace(c), i == ' ' || (i >= '\t' && i <= '\r')) << i;
  }
}

TEST(TextTest, HexDigits) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
  EXPECT_EQ(HexDigitValue(':'), -1);
  EXPECT_TRUE(IsHexString("0123456789abcdefABCDEF"));
  EXPECT_FALSE(IsHexString("12 4"));
  static_assert(HexDigitValue('e') == 14 && EqualsIgnoreCase("aB", "Ab"));
}

}  // namespace
}  // namespace sluice
