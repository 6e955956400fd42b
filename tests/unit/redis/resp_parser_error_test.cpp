// Malformed input and exceeded limits: the right code, a detail that says what and where, and a
// parser that accepts nothing afterwards.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bulwark/core/error.hpp"
#include "bulwark/redis/resp_parser.hpp"
#include "resp_test_support.hpp"

namespace bulwark::redis {
namespace {

using test::drain;

struct Bad {
  std::string wire;
  errc code;
  std::string detail;
};

ParserLimits small_limits() {
  ParserLimits limits;
  limits.max_bulk_length = 8;
  limits.max_depth = 2;
  limits.max_aggregate_elements = 3;
  limits.max_line_length = 10;
  return limits;
}

void expect_failure(const Bad& bad, ParserLimits limits, std::size_t chunk) {
  Parser parser(limits);
  std::error_code ec;
  for (std::size_t at = 0; at < bad.wire.size() && !ec; at += chunk) {
    ec = parser.feed(std::string_view(bad.wire).substr(at, chunk));
  }
  const std::string where =
      ::testing::PrintToString(bad.wire) + " in chunks of " + std::to_string(chunk);
  EXPECT_EQ(ec, bad.code) << where;
  EXPECT_TRUE(parser.failed()) << where;
  EXPECT_EQ(parser.error(), bad.code) << where;
  EXPECT_EQ(parser.error_detail(), bad.detail) << where;
}

void expect_all_failures(const std::vector<Bad>& cases, ParserLimits limits = {}) {
  for (const Bad& bad : cases) {
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, bad.wire.size()}) {
      expect_failure(bad, limits, chunk);
    }
  }
}

TEST(ParserErrors, MalformedInputIsAProtocolError) {
  const errc e = errc::protocol_error;
  expect_all_failures({
      {"?\r\n", e, "invalid type byte '?' (0x3f) at offset 0"},
      {"+OK\r\n\x01", e, "invalid type byte 0x01 at offset 5"},
      {"\r\n", e, "invalid type byte 0x0d at offset 0"},
      {"+OK\n", e, "LF without CR at offset 3"},
      {"+O\rK\r\n", e, "expected LF after CR at offset 3"},
      {":12a\r\n", e, "invalid integer \"12a\" at offset 0"},
      {":\r\n", e, "invalid integer \"\" at offset 0"},
      {":-\r\n", e, "invalid integer \"-\" at offset 0"},
      {":+-1\r\n", e, "invalid integer \"+-1\" at offset 0"},
      {":1.5\r\n", e, "invalid integer \"1.5\" at offset 0"},
      {":9223372036854775808\r\n", e, "invalid integer \"9223372036854775808\" at offset 0"},
      {"$abc\r\n", e, "invalid bulk string length \"abc\" at offset 0"},
      {"$\r\n", e, "invalid bulk string length \"\" at offset 0"},
      {"$+5\r\nhello\r\n", e, "invalid bulk string length \"+5\" at offset 0"},
      {"$ 5\r\n", e, "invalid bulk string length \" 5\" at offset 0"},
      {"*1x\r\n", e, "invalid array length \"1x\" at offset 0"},
      {"$99999999999999999999\r\n", e,
       "invalid bulk string length \"99999999999999999999\" at offset 0"},
      {"$-2\r\n", e, "invalid bulk string length \"-2\" at offset 0"},
      {"*-5\r\n", e, "invalid array length \"-5\" at offset 0"},
      {"%-1\r\n", e, "negative map length at offset 0"},
      {"~-1\r\n", e, "negative set length at offset 0"},
      {"!-1\r\n", e, "negative bulk error length at offset 0"},
      {"=-1\r\n", e, "negative verbatim string length at offset 0"},
      {"$3\r\nabcd\r\n", e, "expected CRLF after bulk string payload at offset 7, got 'd' (0x64)"},
      {"$3\r\nabc\rX", e, "expected CRLF after bulk string payload at offset 8, got 'X' (0x58)"},
      {"$3\r\nabc\n\r", e, "expected CRLF after bulk string payload at offset 7, got 0x0a"},
      {"#x\r\n", e, "invalid boolean \"x\" at offset 0 (expected t or f)"},
      {"#tt\r\n", e, "invalid boolean \"tt\" at offset 0 (expected t or f)"},
      {"#\r\n", e, "invalid boolean \"\" at offset 0 (expected t or f)"},
      {",abc\r\n", e, "invalid double \"abc\" at offset 0"},
      {",\r\n", e, "invalid double \"\" at offset 0"},
      {",1.5x\r\n", e, "invalid double \"1.5x\" at offset 0"},
      {",+-1\r\n", e, "invalid double \"+-1\" at offset 0"},
      {",1e999\r\n", e, "invalid double \"1e999\" at offset 0"},
      {"(12x\r\n", e, "invalid big number \"12x\" at offset 0"},
      {"(\r\n", e, "invalid big number \"\" at offset 0"},
      {"_x\r\n", e, "null with content \"x\" at offset 0"},
      {"=3\r\ntxt\r\n", e, "verbatim string without a 3-letter format and ':' at offset 0"},
      {"=5\r\ntxt-a\r\n", e, "verbatim string without a 3-letter format and ':' at offset 0"},
      {"*2\r\n:1\r\n:2\r\n*1\r\n$1\r\nxy", e,
       "expected CRLF after bulk string payload at offset 21, got 'y' (0x79)"},
      {"+\x01\xff\r\n:\x01\r\n", e, "invalid integer \"\\x01\" at offset 5"},
  });
}

TEST(ParserErrors, ExceededLimitsAreLimitExceeded) {
  const errc e = errc::limit_exceeded;
  expect_all_failures(
      {
          {"$9\r\n", e, "bulk string of 9 bytes exceeds the limit of 8 at offset 0"},
          {"!9\r\n", e, "bulk error of 9 bytes exceeds the limit of 8 at offset 0"},
          {"=9\r\n", e, "verbatim string of 9 bytes exceeds the limit of 8 at offset 0"},
          {"*4\r\n", e, "array of 4 elements exceeds the limit of 3 at offset 0"},
          {"%4\r\n", e, "map of 4 elements exceeds the limit of 3 at offset 0"},
          {"|4\r\n", e, "attribute of 4 elements exceeds the limit of 3 at offset 0"},
          {"*1\r\n*1\r\n*1\r\n", e, "array nested deeper than 2 levels at offset 8"},
          {"*1\r\n~1\r\n%0\r\n", e, "map nested deeper than 2 levels at offset 8"},
          {"*1\r\n*1\r\n|1\r\n", e, "attribute nested deeper than 2 levels at offset 8"},
          {"+0123456789a\r\n", e, "simple string line longer than 10 bytes at offset 0"},
          {":1\r\n*00000000001\r\n", e, "array line longer than 10 bytes at offset 4"},
          {"|2\r\n+a\r\n+b\r\n+c\r\n+d\r\n|2\r\n+e\r\n+f\r\n+g\r\n+h\r\n", e,
           "consecutive attributes of more than 3 pairs at offset 20"},
      },
      small_limits());
}

TEST(ParserErrors, LimitsAreInclusive) {
  Parser parser(small_limits());
  ASSERT_FALSE(parser.feed("$8\r\n12345678\r\n*3\r\n*1\r\n:1\r\n:2\r\n:3\r\n+0123456789\r\n"))
      << parser.error_detail();
  EXPECT_EQ(drain(parser).size(), 3U);
}

TEST(ParserErrors, DefaultLimitsMatchTheDocumentation) {
  const ParserLimits limits;
  EXPECT_EQ(limits.max_bulk_length, 512U * 1024 * 1024);
  EXPECT_EQ(limits.max_depth, 128U);
  EXPECT_EQ(limits.max_aggregate_elements, 16U * 1024 * 1024);
  EXPECT_EQ(limits.max_line_length, 64U * 1024);
  Parser parser;
  EXPECT_EQ(parser.feed("$536870913\r\n"), errc::limit_exceeded);
  Parser deep;
  std::string nested;
  for (int i = 0; i < 128; ++i) nested += "*1\r\n";
  ASSERT_FALSE(deep.feed(nested + ":1\r\n"));
  EXPECT_EQ(deep.available(), 1U);
  EXPECT_EQ(deep.feed(nested + "*1\r\n"), errc::limit_exceeded);
}

TEST(ParserErrors, RepliesBeforeTheFaultStayAvailableAndNothingAfter) {
  Parser parser;
  EXPECT_EQ(parser.feed("+OK\r\n:1\r\n?junk+LATE\r\n"), errc::protocol_error);
  EXPECT_EQ(parser.offset(), 9U);
  EXPECT_EQ(parser.feed("+MORE\r\n"), errc::protocol_error);
  EXPECT_EQ(parser.offset(), 9U);
  EXPECT_EQ(parser.error_detail(), "invalid type byte '?' (0x3f) at offset 9");
  const std::vector<Value> values = drain(parser);
  ASSERT_EQ(values.size(), 2U);
  EXPECT_EQ(values[0], Value::simple_string("OK"));
  EXPECT_EQ(values[1], Value::integer(1));
  EXPECT_FALSE(parser.idle());
}

TEST(ParserErrors, FailureInsideAnAggregateDropsThePartialReply) {
  Parser parser;
  EXPECT_EQ(parser.feed("*3\r\n:1\r\n:x\r\n:3\r\n"), errc::protocol_error);
  EXPECT_EQ(parser.available(), 0U);
  EXPECT_EQ(parser.error_detail(), "invalid integer \"x\" at offset 8");
}

TEST(ParserErrors, LongBadLinesAreQuotedShort) {
  Parser parser;
  EXPECT_EQ(parser.feed(":" + std::string(100, '7') + "x\r\n"), errc::protocol_error);
  EXPECT_EQ(parser.error_detail(),
            "invalid integer \"" + std::string(32, '7') + "\"... at offset 0");
}

// Found by the fuzzer: a line holding a bare LF and also running past the line limit reported
// the LF when fed whole but the limit when fed byte by byte. The first fault in the stream wins.
TEST(ParserErrors, FirstFaultWinsHoweverTheLineIsSplit) {
  ParserLimits limits;
  limits.max_line_length = 32;
  const std::string wire =
      ">3\r\n$" + std::string(35, '$') + "+mess%" + std::string(3, '\0') + "\n+channel\r\n";
  expect_all_failures(
      {{">3\r\n$$$\n" + std::string(40, 'x') + "\r\n", errc::protocol_error,
        "LF without CR at offset 7"},
       {wire, errc::limit_exceeded, "bulk string line longer than 32 bytes at offset 4"},
       {":" + std::string(32, '1') + "\n\r\n", errc::protocol_error, "LF without CR at offset 33"},
       {":" + std::string(33, '1') + "\n\r\n", errc::limit_exceeded,
        "integer line longer than 32 bytes at offset 0"}},
      limits);
}

}  // namespace
}  // namespace bulwark::redis
