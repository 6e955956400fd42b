// The parser must give the same replies however the stream is cut: at every byte position, byte
// by byte, and in chunks of every small size.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bulwark/redis/resp_parser.hpp"
#include "resp_test_support.hpp"

namespace bulwark::redis {
namespace {

using test::drain;

struct Reply {
  std::string wire;
  Value value;
};

Value str(std::string text) { return Value::simple_string(std::move(text)); }
Value bulk(std::string bytes) { return Value::bulk_string(std::move(bytes)); }
Value num(std::int64_t n) { return Value::integer(n); }

// Replies of every type and form, including the awkward ones: empty strings and aggregates,
// CRLF and NUL inside payloads, attributes at the top and inside aggregates.
std::vector<Reply> corpus() {
  using P = std::pair<Value, Value>;
  return {
      {"+OK\r\n", str("OK")},
      {"+\r\n", str("")},
      {"-ERR unknown command 'FOO'\r\n", Value::simple_error("ERR unknown command 'FOO'")},
      {"-LOADING Redis is loading the dataset in memory\r\n",
       Value::simple_error("LOADING Redis is loading the dataset in memory")},
      {":0\r\n", num(0)},
      {":-9223372036854775808\r\n", num(std::numeric_limits<std::int64_t>::min())},
      {":1234567\r\n", num(1234567)},
      {"$5\r\nhello\r\n", bulk("hello")},
      {"$0\r\n\r\n", bulk("")},
      {std::string("$6\r\n\r\n\0\r\n\0\r\n", 12), bulk(std::string("\r\n\0\r\n\0", 6))},
      {"$-1\r\n", Value()},
      {"*-1\r\n", Value()},
      {"_\r\n", Value()},
      {"#t\r\n", Value::boolean(true)},
      {"#f\r\n", Value::boolean(false)},
      {",3.25\r\n", Value::double_number(3.25)},
      {",-inf\r\n", Value::double_number(-HUGE_VAL)},
      {",inf\r\n", Value::double_number(HUGE_VAL)},
      {",nan\r\n", Value::double_number(std::nan(""))},
      {",1.5e-10\r\n", Value::double_number(1.5e-10)},
      {"(-3492890328409238509324850943850943825024385\r\n",
       Value::big_number("-3492890328409238509324850943850943825024385")},
      {"!21\r\nSYNTAX invalid syntax\r\n", Value::bulk_error("SYNTAX invalid syntax")},
      {"!4\r\nA\r\nB\r\n", Value::bulk_error("A\r\nB")},
      {"=15\r\ntxt:Some string\r\n", Value::verbatim_string("txt", "Some string")},
      {"=6\r\nmkd:\r\n\r\n", Value::verbatim_string("mkd", "\r\n")},
      {"*0\r\n", Value::array({})},
      {"%0\r\n", Value::map({})},
      {"~0\r\n", Value::set({})},
      {">0\r\n", Value::push({})},
      {"*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n", Value::array({num(1), bulk("foo"), str("bar")})},
      {"*2\r\n$-1\r\n*-1\r\n", Value::array({Value(), Value()})},
      {"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n*1\r\n:2\r\n",
       Value::map({P{str("first"), num(1)}, P{bulk("second"), Value::array({num(2)})}})},
      {"~3\r\n+a\r\n:1\r\n#f\r\n", Value::set({str("a"), num(1), Value::boolean(false)})},
      {">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n",
       Value::push({bulk("message"), bulk("news"), bulk("hi")})},
      {"*2\r\n*2\r\n*0\r\n%1\r\n:1\r\n~1\r\n_\r\n*1\r\n*1\r\n*1\r\n+deep\r\n",
       Value::array(
           {Value::array({Value::array({}), Value::map({P{num(1), Value::set({Value()})}})}),
            Value::array({Value::array({Value::array({str("deep")})})})})},
      {"|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n",
       bulk("val").with_attributes({P{str("ttl"), num(3600)}})},
      {"*2\r\n|1\r\n+a\r\n%1\r\n+b\r\n,0.5\r\n:1\r\n|0\r\n:2\r\n",
       Value::array({num(1).with_attributes(
                         {P{str("a"), Value::map({P{str("b"), Value::double_number(0.5)}})}}),
                     num(2)})},
      {"|1\r\n+x\r\n|1\r\n+y\r\n:1\r\n:2\r\n*0\r\n",
       // The inner attribute annotates the outer attribute's value (:2), not the array.
       Value::array({}).with_attributes(
           {P{str("x"), num(2).with_attributes({P{str("y"), num(1)}})}})},
      {"*3\r\n-ERR a\r\n!1\r\nb\r\n+QUEUED\r\n",
       Value::array({Value::simple_error("ERR a"), Value::bulk_error("b"), str("QUEUED")})},
  };
}

std::string concatenated(const std::vector<Reply>& replies) {
  std::string wire;
  for (const Reply& reply : replies) wire += reply.wire;
  return wire;
}

std::vector<Value> expected_values(const std::vector<Reply>& replies) {
  std::vector<Value> values;
  for (const Reply& reply : replies) values.push_back(reply.value);
  return values;
}

TEST(ParserSplit, CorpusIsLargeEnough) { EXPECT_GE(corpus().size(), 30U); }

TEST(ParserSplit, EachReplyParsesToItsValue) {
  for (const Reply& reply : corpus()) {
    EXPECT_EQ(test::parse_one(reply.wire), reply.value) << ::testing::PrintToString(reply.wire);
  }
}

TEST(ParserSplit, WholeCorpusInOneFeed) {
  const std::vector<Reply> replies = corpus();
  EXPECT_EQ(test::parse_all(concatenated(replies)), expected_values(replies));
}

TEST(ParserSplit, SplitAtEveryBytePosition) {
  const std::vector<Reply> replies = corpus();
  const std::string wire = concatenated(replies);
  const std::vector<Value> expected = expected_values(replies);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Parser parser;
    ASSERT_FALSE(parser.feed(std::string_view(wire).substr(0, cut))) << parser.error_detail();
    std::vector<Value> values = drain(parser);
    ASSERT_FALSE(parser.feed(std::string_view(wire).substr(cut))) << parser.error_detail();
    for (Value& value : drain(parser)) values.push_back(std::move(value));
    ASSERT_EQ(values, expected) << "cut at " << cut;
    ASSERT_TRUE(parser.idle());
  }
}

TEST(ParserSplit, ByteByByteTakingValuesAsTheyComplete) {
  const std::vector<Reply> replies = corpus();
  const std::string wire = concatenated(replies);
  Parser parser;
  std::vector<Value> values;
  std::vector<std::uint64_t> completed_at;
  for (const char byte : wire) {
    ASSERT_FALSE(parser.feed(std::string_view(&byte, 1))) << parser.error_detail();
    for (Value& value : drain(parser)) {
      values.push_back(std::move(value));
      completed_at.push_back(parser.offset());
    }
  }
  EXPECT_EQ(values, expected_values(replies));
  // Each reply comes out at the very byte that completes it, not later.
  std::uint64_t end = 0;
  for (std::size_t i = 0; i < replies.size() && i < completed_at.size(); ++i) {
    end += replies[i].wire.size();
    EXPECT_EQ(completed_at[i], end) << replies[i].wire;
  }
}

TEST(ParserSplit, EveryChunkSize) {
  const std::vector<Reply> replies = corpus();
  const std::string wire = concatenated(replies);
  const std::vector<Value> expected = expected_values(replies);
  for (std::size_t chunk = 2; chunk <= 64; ++chunk) {
    Parser parser;
    for (std::size_t at = 0; at < wire.size(); at += chunk) {
      ASSERT_FALSE(parser.feed(std::string_view(wire).substr(at, chunk))) << parser.error_detail();
    }
    ASSERT_EQ(drain(parser), expected) << "chunks of " << chunk;
  }
}

}  // namespace
}  // namespace bulwark::redis
