#include "bulwark/redis/resp_parser.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bulwark/core/error.hpp"
#include "resp_test_support.hpp"

namespace bulwark::redis {

std::vector<Value> test::parse_all(std::string_view wire, ParserLimits limits) {
  Parser parser(limits);
  const std::error_code ec = parser.feed(wire);
  EXPECT_FALSE(ec) << parser.error_detail();
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.offset(), wire.size());
  return drain(parser);
}

Value test::parse_one(std::string_view wire) {
  std::vector<Value> values = parse_all(wire);
  EXPECT_EQ(values.size(), 1U) << "in " << ::testing::PrintToString(wire);
  return values.empty() ? Value() : std::move(values.front());
}

namespace {

using test::drain;
using test::parse_all;
using test::parse_one;

TEST(Parser, SimpleStringErrorAndInteger) {
  EXPECT_EQ(parse_one("+OK\r\n"), Value::simple_string("OK"));
  EXPECT_EQ(parse_one("+\r\n"), Value::simple_string(""));
  EXPECT_EQ(parse_one("-ERR unknown command 'FOO'\r\n"),
            Value::simple_error("ERR unknown command 'FOO'"));
  EXPECT_EQ(parse_one(":0\r\n"), Value::integer(0));
  EXPECT_EQ(parse_one(":-12\r\n"), Value::integer(-12));
  EXPECT_EQ(parse_one(":+12\r\n"), Value::integer(12));
  EXPECT_EQ(parse_one(":9223372036854775807\r\n"),
            Value::integer(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(parse_one(":-9223372036854775808\r\n"),
            Value::integer(std::numeric_limits<std::int64_t>::min()));
}

TEST(Parser, BulkStringsAreBinarySafe) {
  EXPECT_EQ(parse_one("$5\r\nhello\r\n"), Value::bulk_string("hello"));
  EXPECT_EQ(parse_one("$0\r\n\r\n"), Value::bulk_string(""));
  const std::string binary("a\r\nb\0c\r\n", 8);
  EXPECT_EQ(parse_one("$8\r\n" + binary + "\r\n"), Value::bulk_string(binary));
  EXPECT_EQ(parse_one("$8\r\n" + binary + "\r\n").as_string().size(), 8U);
}

TEST(Parser, Resp2AndResp3Nulls) {
  EXPECT_EQ(parse_one("$-1\r\n"), Value());
  EXPECT_EQ(parse_one("*-1\r\n"), Value());
  EXPECT_EQ(parse_one("_\r\n"), Value());
  EXPECT_TRUE(parse_one("*-1\r\n").elements().empty());
}

TEST(Parser, Resp3Scalars) {
  EXPECT_EQ(parse_one("#t\r\n"), Value::boolean(true));
  EXPECT_EQ(parse_one("#f\r\n"), Value::boolean(false));
  EXPECT_EQ(parse_one(",3.14\r\n").as_double(), 3.14);
  EXPECT_EQ(parse_one(",-1.5e-3\r\n").as_double(), -1.5e-3);
  EXPECT_EQ(parse_one(",+2\r\n").as_double(), 2.0);
  EXPECT_EQ(parse_one(",10\r\n").as_double(), 10.0);
  EXPECT_EQ(parse_one(",1E+300\r\n").as_double(), 1e300);
  EXPECT_EQ(parse_one(",inf\r\n").as_double(), HUGE_VAL);
  EXPECT_EQ(parse_one(",-inf\r\n").as_double(), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(parse_one(",nan\r\n").as_double()));
  EXPECT_EQ(parse_one("(3492890328409238509324850943850943825024385\r\n"),
            Value::big_number("3492890328409238509324850943850943825024385"));
  EXPECT_EQ(parse_one("(-1\r\n").as_string(), "-1");
  EXPECT_EQ(parse_one("!21\r\nSYNTAX invalid syntax\r\n"),
            Value::bulk_error("SYNTAX invalid syntax"));
  EXPECT_EQ(parse_one("!0\r\n\r\n"), Value::bulk_error(""));
  const Value verbatim = parse_one("=15\r\ntxt:Some string\r\n");
  EXPECT_EQ(verbatim.type(), Type::verbatim_string);
  EXPECT_EQ(verbatim.verbatim_format(), "txt");
  EXPECT_EQ(verbatim.as_string(), "Some string");
  EXPECT_EQ(parse_one("=4\r\nmkd:\r\n"), Value::verbatim_string("mkd", ""));
}

TEST(Parser, Aggregates) {
  EXPECT_EQ(
      parse_one("*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n"),
      Value::array({Value::integer(1), Value::bulk_string("foo"), Value::simple_string("bar")}));
  EXPECT_EQ(parse_one("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"),
            Value::map({{Value::simple_string("first"), Value::integer(1)},
                        {Value::simple_string("second"), Value::integer(2)}}));
  EXPECT_EQ(parse_one("~2\r\n+a\r\n+b\r\n"),
            Value::set({Value::simple_string("a"), Value::simple_string("b")}));
  EXPECT_EQ(parse_one(">3\r\n+message\r\n+news\r\n$2\r\nhi\r\n"),
            Value::push({Value::simple_string("message"), Value::simple_string("news"),
                         Value::bulk_string("hi")}));
}

TEST(Parser, EmptyAggregates) {
  EXPECT_EQ(parse_one("*0\r\n"), Value::array({}));
  EXPECT_EQ(parse_one("%0\r\n"), Value::map({}));
  EXPECT_EQ(parse_one("~0\r\n"), Value::set({}));
  EXPECT_EQ(parse_one(">0\r\n"), Value::push({}));
  EXPECT_EQ(parse_one("*2\r\n*0\r\n%0\r\n"), Value::array({Value::array({}), Value::map({})}));
}

TEST(Parser, NestedAggregates) {
  const Value value = parse_one("*2\r\n*2\r\n:1\r\n%1\r\n+k\r\n*1\r\n_\r\n~1\r\n#t\r\n");
  EXPECT_EQ(value,
            Value::array(
                {Value::array({Value::integer(1),
                               Value::map({{Value::simple_string("k"), Value::array({Value()})}})}),
                 Value::set({Value::boolean(true)})}));
}

TEST(Parser, AttributesAttachToTheFollowingValue) {
  // The example of the RESP3 specification.
  const Value value = parse_one(
      "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
      "*2\r\n:2039123\r\n:9543892\r\n");
  EXPECT_EQ(value.type(), Type::array);
  EXPECT_EQ(value.size(), 2U);
  ASSERT_EQ(value.attributes().size(), 2U);
  EXPECT_EQ(value.attributes()[0], Value::simple_string("key-popularity"));
  EXPECT_EQ(value.attributes()[1],
            Value::map({{Value::bulk_string("a"), Value::double_number(0.1923)},
                        {Value::bulk_string("b"), Value::double_number(0.0012)}}));
  // Each element keeps its own attributes.
  for (const Value& element : value.elements()) EXPECT_TRUE(element.attributes().empty());
}

TEST(Parser, AttributesInsideAggregatesAreNotElements) {
  const Value value = parse_one("*2\r\n:1\r\n|1\r\n+ttl\r\n:60\r\n:2\r\n");
  ASSERT_EQ(value.size(), 2U);
  EXPECT_TRUE(value.at(0).attributes().empty());
  EXPECT_EQ(value.at(1),
            Value::integer(2).with_attributes({{Value::simple_string("ttl"), Value::integer(60)}}));
  EXPECT_TRUE(value.attributes().empty());
}

TEST(Parser, ConsecutiveAttributesMergeAndEmptyOnesAnnotateNothing) {
  EXPECT_EQ(
      parse_one("|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n+x\r\n"),
      Value::simple_string("x").with_attributes({{Value::simple_string("a"), Value::integer(1)},
                                                 {Value::simple_string("b"), Value::integer(2)}}));
  EXPECT_EQ(parse_one("|0\r\n+x\r\n"), Value::simple_string("x"));
}

TEST(Parser, AttributeWaitsForItsValue) {
  Parser parser;
  ASSERT_FALSE(parser.feed("|1\r\n+a\r\n:1\r\n"));
  EXPECT_EQ(parser.available(), 0U);
  EXPECT_FALSE(parser.idle());
  ASSERT_FALSE(parser.feed("+x\r\n"));
  EXPECT_TRUE(parser.idle());
  const auto value = parser.next();
  ASSERT_TRUE(value);
  EXPECT_EQ(value->attributes().size(), 2U);
}

TEST(Parser, SeveralRepliesInOneBufferComeOutInOrder) {
  const std::vector<Value> values = parse_all("+OK\r\n:1\r\n$5\r\nhello\r\n*1\r\n+a\r\n_\r\n");
  ASSERT_EQ(values.size(), 5U);
  EXPECT_EQ(values[0], Value::simple_string("OK"));
  EXPECT_EQ(values[1], Value::integer(1));
  EXPECT_EQ(values[2], Value::bulk_string("hello"));
  EXPECT_EQ(values[3], Value::array({Value::simple_string("a")}));
  EXPECT_EQ(values[4], Value());
}

TEST(Parser, ReportsProgressAndIdleness) {
  Parser parser;
  EXPECT_TRUE(parser.idle());
  EXPECT_FALSE(parser.next());
  ASSERT_FALSE(parser.feed("*2\r\n:1"));
  EXPECT_FALSE(parser.idle());
  EXPECT_EQ(parser.available(), 0U);
  EXPECT_EQ(parser.offset(), 6U);
  ASSERT_FALSE(parser.feed("\r\n:2\r\n+O"));
  EXPECT_EQ(parser.available(), 1U);
  EXPECT_FALSE(parser.idle());
  ASSERT_FALSE(parser.feed("K\r\n"));
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.available(), 2U);
  EXPECT_EQ(parser.next(), Value::array({Value::integer(1), Value::integer(2)}));
  EXPECT_EQ(parser.next(), Value::simple_string("OK"));
  EXPECT_FALSE(parser.next());
  EXPECT_EQ(parser.available(), 0U);
  EXPECT_FALSE(parser.failed());
  EXPECT_EQ(parser.error_detail(), "");
}

TEST(Parser, EmptyFeedChangesNothing) {
  Parser parser;
  ASSERT_FALSE(parser.feed(""));
  ASSERT_FALSE(parser.feed("$3\r\n"));
  ASSERT_FALSE(parser.feed(""));
  ASSERT_FALSE(parser.feed("abc\r\n"));
  EXPECT_EQ(parser.next(), Value::bulk_string("abc"));
}

TEST(Parser, LargeBulkPayloadArrivingInPieces) {
  const std::string payload(1 << 20, 'z');
  const std::string wire = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  Parser parser;
  for (std::size_t at = 0; at < wire.size(); at += 4096) {
    ASSERT_FALSE(parser.feed(std::string_view(wire).substr(at, 4096)));
  }
  const auto value = parser.next();
  ASSERT_TRUE(value);
  EXPECT_EQ(value->as_string(), payload);
}

TEST(Parser, InvalidLimitsAreAConfigError) {
  ParserLimits limits;
  limits.max_depth = 0;
  limits.max_line_length = 0;
  try {
    Parser parser(limits);
    FAIL() << "zero limits were accepted";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 2U);
    EXPECT_EQ(error.issues()[0].path, "redis.parser.max_depth");
    EXPECT_EQ(error.issues()[1].path, "redis.parser.max_line_length");
  }
}

}  // namespace
}  // namespace bulwark::redis
