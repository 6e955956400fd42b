// The building blocks of the text format, checked one by one; registry_test checks them together.
#include "observe/detail/text.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace bulwark::observe::detail {
namespace {

std::string value(double v) {
  std::string out;
  append_value(out, v);
  return out;
}

TEST(TextValue, SpellsSpecialValuesAsPrometheusDoes) {
  EXPECT_EQ(value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(TextValue, WritesIntegersWithoutExponentOrFraction) {
  EXPECT_EQ(value(0), "0");
  EXPECT_EQ(value(-0.0), "0");
  EXPECT_EQ(value(42), "42");
  EXPECT_EQ(value(-3), "-3");
  EXPECT_EQ(value(1234567), "1234567");
  EXPECT_EQ(value(1e15), "1000000000000000");
  EXPECT_EQ(value(9007199254740993.0), "9007199254740992");  // the nearest double
}

TEST(TextValue, WritesFractionsInTheShortestFormThatReadsBack) {
  EXPECT_EQ(value(0.5), "0.5");
  EXPECT_EQ(value(0.0005), "0.0005");
  EXPECT_EQ(value(2.5), "2.5");
  EXPECT_EQ(value(0.1), "0.1");
  EXPECT_EQ(value(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(value(1e-05), "1e-05");
  EXPECT_EQ(std::stod(value(1.5e300)), 1.5e300);
  EXPECT_EQ(std::stod(value(1e20)), 1e20);  // past 2^63: no longer printed through an integer
}

TEST(TextEscape, EscapesBackslashQuoteAndNewlineInLabelValues) {
  std::string out;
  append_escaped_label_value(out, "a\\b\"c\nd\te");
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd\te");
}

TEST(TextEscape, EscapesBackslashAndNewlineButNotQuotesInHelp) {
  std::string out;
  append_escaped_help(out, "C:\\path \"x\"\nnext");
  EXPECT_EQ(out, "C:\\\\path \"x\"\\nnext");
}

TEST(TextSample, WritesNameLabelsAndLe) {
  const std::vector<std::string> names{"client", "outcome"};
  const std::vector<std::string> values{"qdrant", "ok"};
  std::string out;
  append_sample(out, "calls_total", {}, names, values, {}, 3);
  append_sample(out, "d_seconds", "_bucket", names, values, "0.25", 1);
  append_sample(out, "d_seconds", "_bucket", {}, {}, "+Inf", 2);
  append_sample(out, "up", {}, {}, {}, {}, 1);
  EXPECT_EQ(out,
            "calls_total{client=\"qdrant\",outcome=\"ok\"} 3\n"
            "d_seconds_bucket{client=\"qdrant\",outcome=\"ok\",le=\"0.25\"} 1\n"
            "d_seconds_bucket{le=\"+Inf\"} 2\n"
            "up 1\n");
}

TEST(TextUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("qdrant"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));       // é
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));      // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // an emoji, 4 bytes
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));
}

TEST(TextUtf8, RejectsMalformedText) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // continuation byte first
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

}  // namespace
}  // namespace bulwark::observe::detail
