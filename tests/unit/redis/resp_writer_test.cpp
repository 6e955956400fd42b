#include "bulwark/redis/resp_writer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <list>
#include <span>
#include <string>
#include <vector>

#include "bulwark/redis/resp_parser.hpp"
#include "resp_test_support.hpp"

namespace bulwark::redis {
namespace {

using namespace std::string_view_literals;

// What a server receives: the command's arguments as bulk strings.
std::vector<std::string> arguments_of(std::string_view wire) {
  const Value value = test::parse_one(wire);
  std::vector<std::string> arguments;
  for (const Value& element : value.elements()) {
    EXPECT_EQ(element.type(), Type::bulk_string);
    arguments.emplace_back(element.as_string());
  }
  return arguments;
}

TEST(WriteCommand, ExactBytes) {
  std::string out;
  write_command(out, "SET", "key", "value");
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
}

TEST(WriteCommand, AppendsForPipelining) {
  std::string out = "prefix";
  write_command(out, "PING");
  write_command(out, "GET", std::string("k"));
  EXPECT_EQ(out, "prefix*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST(WriteCommand, BinarySafeArguments) {
  const std::string binary("a\r\n\0b", 5);
  std::string out;
  write_command(out, "SET", binary, std::string_view());
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$5\r\na\r\n\0b\r\n$0\r\n\r\n"sv);
  EXPECT_EQ(arguments_of(out), (std::vector<std::string>{"SET", binary, ""}));
}

TEST(WriteCommand, Numbers) {
  std::string out;
  write_command(out, "X", 0, -1, std::numeric_limits<std::int64_t>::min(),
                std::numeric_limits<std::uint64_t>::max(), static_cast<short>(7), 1.5, -0.25, 1e300,
                HUGE_VAL, -HUGE_VAL, 0.1f, 3U);
  EXPECT_EQ(arguments_of(out), (std::vector<std::string>{
                                   "X", "0", "-1", "-9223372036854775808", "18446744073709551615",
                                   "7", "1.5", "-0.25", "1e+300", "inf", "-inf", "0.1", "3"}));
  EXPECT_EQ(out.substr(0, 19), "*13\r\n$1\r\nX\r\n$1\r\n0\r\n");
}

TEST(WriteCommand, RangesExpandToOneArgumentEach) {
  const std::vector<std::string> keys = {"a", "b", "c"};
  const std::array<int, 2> numbers = {1, 2};
  const std::list<std::string_view> views = {"x"};
  const std::vector<std::string> none;
  const char* const pointers[] = {"p", "q"};
  std::string out;
  write_command(out, "MGET", keys, numbers, views, none, std::span(pointers));
  EXPECT_EQ(arguments_of(out),
            (std::vector<std::string>{"MGET", "a", "b", "c", "1", "2", "x", "p", "q"}));
}

TEST(WriteCommand, ArgumentKinds) {
  static_assert(CommandArgument<std::string>);
  static_assert(CommandArgument<const char*>);
  static_assert(CommandArgument<char[4]>);
  static_assert(CommandArgument<std::int64_t>);
  static_assert(CommandArgument<double>);
  static_assert(CommandArgument<std::vector<long>>);
  static_assert(!CommandArgument<bool>);
  static_assert(!CommandArgument<char>);
  static_assert(!CommandArgument<std::vector<bool>>);
  static_assert(!CommandArgument<std::vector<char>>);
  static_assert(!CommandArgument<std::vector<std::vector<int>>>);
  SUCCEED();
}

TEST(Command, BuilderProducesExactBytes) {
  const std::string key = "session:42";
  Command cmd("set");
  cmd.arg(key).arg(std::string_view("v")).arg("EX").arg(30);
  EXPECT_EQ(cmd.name(), "SET");
  EXPECT_EQ(cmd.arg_count(), 5U);
  const std::string expected =
      "*5\r\n$3\r\nset\r\n$10\r\nsession:42\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n30\r\n";
  EXPECT_EQ(cmd.bytes(), expected);
  EXPECT_EQ(cmd.encoded_size(), expected.size());
  std::string buffer = "+";
  cmd.append_to(buffer);
  cmd.append_to(buffer);
  EXPECT_EQ(buffer, "+" + expected + expected);
}

TEST(Command, MakeCommandMatchesTheBuilder) {
  const std::vector<std::string> members = {"m1", "m2"};
  const Command made = make_command("SADD", "set", members);
  Command built("SADD");
  built.arg("set").arg(members);
  EXPECT_EQ(made, built);
  EXPECT_EQ(made.arg_count(), 4U);
  EXPECT_EQ(made.bytes(), "*4\r\n$4\r\nSADD\r\n$3\r\nset\r\n$2\r\nm1\r\n$2\r\nm2\r\n");
  EXPECT_NE(made, make_command("SADD", "set", "m1"));
}

TEST(Command, ChainsOnTemporaries) {
  const Command cmd = Command("client").arg("SETNAME").arg("worker-1");
  EXPECT_EQ(cmd.name(), "CLIENT");
  EXPECT_EQ(arguments_of(cmd.bytes()), (std::vector<std::string>{"client", "SETNAME", "worker-1"}));
}

TEST(Command, NameOnlyAndBinaryName) {
  EXPECT_EQ(make_command("ping").bytes(), "*1\r\n$4\r\nping\r\n");
  EXPECT_EQ(make_command("ping").name(), "PING");
  EXPECT_EQ(make_command("é-x").name(), "é-X");
}

TEST(WriteCommand, RoundTripsThroughTheParser) {
  std::string wire;
  std::vector<std::vector<std::string>> sent;
  for (int i = 0; i < 50; ++i) {
    std::vector<std::string> args = {"CMD" + std::to_string(i)};
    for (int j = 0; j < i % 7; ++j)
      args.push_back(std::string(static_cast<std::size_t>(j * 37), static_cast<char>('\0' + j)) +
                     "\r\n");
    write_command(wire, args);
    sent.push_back(args);
  }
  Parser parser;
  ASSERT_FALSE(parser.feed(wire));
  for (const auto& args : sent) {
    const auto value = parser.next();
    ASSERT_TRUE(value);
    ASSERT_EQ(value->size(), args.size());
    for (std::size_t k = 0; k < args.size(); ++k) EXPECT_EQ(value->at(k).as_string(), args[k]);
  }
  EXPECT_FALSE(parser.next());
}

TEST(WriteValue, ExactBytesForEveryType) {
  using P = std::pair<Value, Value>;
  const Value value = Value::array({
      Value(),
      Value::simple_string("OK"),
      Value::simple_error("ERR x"),
      Value::integer(-5),
      Value::bulk_string(std::string("a\0", 2)),
      Value::boolean(true),
      Value::boolean(false),
      Value::double_number(2.5),
      Value::big_number("123"),
      Value::bulk_error("E"),
      Value::verbatim_string("txt", "hi"),
      Value::map({P{Value::integer(1), Value::integer(2)}}),
      Value::set({}),
      Value::push({Value::integer(1)}),
      Value::integer(9).with_attributes({P{Value::simple_string("a"), Value()}}),
  });
  std::string out;
  write_value(out, value);
  EXPECT_EQ(out,
            "*15\r\n_\r\n+OK\r\n-ERR x\r\n:-5\r\n$2\r\na\0\r\n#t\r\n#f\r\n"
            ",2.5\r\n(123\r\n!1\r\nE\r\n=6\r\ntxt:hi\r\n%1\r\n:1\r\n:2\r\n~0\r\n"
            ">1\r\n:1\r\n|1\r\n+a\r\n_\r\n:9\r\n"sv);
  EXPECT_EQ(test::parse_one(out), value);
}

TEST(WriteValue, SpecialDoublesRoundTrip) {
  for (const double d :
       {0.0, -0.0, 0.1, 1e-320, 1.7976931348623157e308, HUGE_VAL, -HUGE_VAL, std::nan("")}) {
    std::string out;
    write_value(out, Value::double_number(d));
    EXPECT_EQ(test::parse_one(out), Value::double_number(d)) << out;
  }
}

}  // namespace
}  // namespace bulwark::redis
