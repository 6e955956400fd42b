#include "bulwark/redis/value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "bulwark/core/error.hpp"

namespace bulwark::redis {
namespace {

std::error_code code_of_throw(const auto& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.code();
  }
  return {};
}

TEST(Value, DefaultIsNull) {
  const Value value;
  EXPECT_EQ(value.type(), Type::null);
  EXPECT_TRUE(value.is_null());
  EXPECT_FALSE(value.is_error());
  EXPECT_TRUE(value.elements().empty());
  EXPECT_EQ(value.size(), 0U);
  EXPECT_EQ(value, Value::null());
}

TEST(Value, StringLikeTypesShareAsString) {
  EXPECT_EQ(Value::simple_string("OK").as_string(), "OK");
  EXPECT_EQ(Value::bulk_string(std::string("a\r\n\0b", 5)).as_string(),
            std::string_view("a\r\n\0b", 5));
  EXPECT_EQ(Value::big_number("-123456789012345678901234567890").as_string(),
            "-123456789012345678901234567890");
  const Value verbatim = Value::verbatim_string("txt", "Some string");
  EXPECT_EQ(verbatim.as_string(), "Some string");
  EXPECT_EQ(verbatim.verbatim_format(), "txt");
  EXPECT_TRUE(verbatim.is_string());
}

TEST(Value, ErrorsAreNotStrings) {
  const Value error = Value::simple_error("ERR wrong");
  EXPECT_TRUE(error.is_error());
  EXPECT_FALSE(error.is_string());
  EXPECT_EQ(code_of_throw([&] { (void)error.as_string(); }), errc::invalid_argument);
  EXPECT_EQ(error.error_message(), "ERR wrong");
  EXPECT_EQ(Value::bulk_string("x").error_message(), "");
}

TEST(Value, NumbersAndBooleans) {
  EXPECT_EQ(Value::integer(std::numeric_limits<std::int64_t>::min()).as_integer(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Value::double_number(1.5).as_double(), 1.5);
  EXPECT_EQ(Value::integer(3).as_double(), 3.0);
  EXPECT_TRUE(std::isinf(Value::double_number(-HUGE_VAL).as_double()));
  EXPECT_TRUE(Value::boolean(true).as_bool());
  EXPECT_FALSE(Value::boolean(false).as_bool());
  EXPECT_TRUE(Value::integer(1).as_bool());
  EXPECT_FALSE(Value::integer(0).as_bool());
}

TEST(Value, TypeMismatchThrowsInvalidArgumentNamingBothTypes) {
  const Value text = Value::bulk_string("12");
  try {
    (void)text.as_integer();
    FAIL() << "as_integer() accepted a bulk string";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("expected an integer, got bulk_string"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(code_of_throw([&] { (void)text.as_double(); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([&] { (void)text.as_bool(); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([&] { (void)text.elements(); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([&] { (void)text.verbatim_format(); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([] { (void)Value::integer(1).as_string(); }), errc::invalid_argument);
}

TEST(Value, FactoriesRejectWhatCannotBeWritten) {
  EXPECT_EQ(code_of_throw([] { (void)Value::simple_string("a\r\nb"); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([] { (void)Value::simple_error("a\nb"); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([] { (void)Value::big_number("12a"); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([] { (void)Value::big_number("-"); }), errc::invalid_argument);
  EXPECT_EQ(code_of_throw([] { (void)Value::verbatim_string("text", "x"); }),
            errc::invalid_argument);
}

TEST(Value, AggregatesAndFlattenedMaps) {
  const Value array = Value::array({Value::integer(1), Value::bulk_string("two")});
  ASSERT_EQ(array.size(), 2U);
  EXPECT_EQ(array.at(0).as_integer(), 1);
  EXPECT_EQ(array.at(1).as_string(), "two");
  EXPECT_EQ(code_of_throw([&] { (void)array.at(2); }), errc::invalid_argument);

  const Value map = Value::map({{Value::bulk_string("server"), Value::bulk_string("redis")},
                                {Value::simple_string("proto"), Value::integer(3)}});
  EXPECT_EQ(map.type(), Type::map);
  EXPECT_EQ(map.size(), 2U);
  ASSERT_EQ(map.elements().size(), 4U);
  EXPECT_EQ(map.elements()[0].as_string(), "server");
  EXPECT_EQ(map.elements()[3].as_integer(), 3);
  ASSERT_NE(map.find("proto"), nullptr);
  EXPECT_EQ(map.find("proto")->as_integer(), 3);
  EXPECT_EQ(map.find("version"), nullptr);
  EXPECT_EQ(array.find("two"), nullptr);

  EXPECT_EQ(Value::set({Value::integer(1)}).type(), Type::set);
  EXPECT_EQ(Value::push({}).type(), Type::push);
  EXPECT_TRUE(Value::array({}).elements().empty());
}

TEST(Value, ErrorClassification) {
  struct Case {
    Value reply;
    std::error_code code;
    std::string_view prefix;
  };
  const Case cases[] = {
      {Value::simple_error("LOADING Redis is loading the dataset in memory"), errc::redis_loading,
       "LOADING"},
      {Value::simple_error("BUSY Redis is busy running a script"), errc::redis_busy, "BUSY"},
      {Value::simple_error("TRYAGAIN Multiple keys request during rehashing"), errc::redis_tryagain,
       "TRYAGAIN"},
      {Value::simple_error("MASTERDOWN Link with MASTER is down"), errc::redis_masterdown,
       "MASTERDOWN"},
      {Value::simple_error("NOSCRIPT No matching script"), errc::redis_error, "NOSCRIPT"},
      {Value::simple_error("WRONGTYPE Operation against a key"), errc::redis_error, "WRONGTYPE"},
      {Value::simple_error("MOVED 3999 127.0.0.1:6381"), errc::redis_error, "MOVED"},
      {Value::bulk_error("SYNTAX invalid syntax"), errc::redis_error, "SYNTAX"},
      {Value::bulk_error("LOADING"), errc::redis_loading, "LOADING"},
      {Value::simple_error("LOADINGX not loading"), errc::redis_error, "LOADINGX"},
      {Value::simple_error(""), errc::redis_error, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.reply.error_code(), c.code) << c.reply;
    EXPECT_EQ(c.reply.error_prefix(), c.prefix) << c.reply;
  }
  EXPECT_FALSE(Value::simple_string("LOADING").error_code());
  EXPECT_EQ(Value::simple_string("LOADING").error_prefix(), "");
}

TEST(Value, EqualityIsDeep) {
  EXPECT_EQ(Value::integer(1), Value::integer(1));
  EXPECT_NE(Value::integer(1), Value::integer(2));
  EXPECT_NE(Value::integer(1), Value::boolean(true));
  EXPECT_NE(Value::simple_string("a"), Value::bulk_string("a"));
  EXPECT_NE(Value::simple_error("a"), Value::bulk_error("a"));
  EXPECT_NE(Value::verbatim_string("txt", "a"), Value::verbatim_string("mkd", "a"));
  EXPECT_EQ(Value::array({Value::array({Value::integer(1)})}),
            Value::array({Value::array({Value::integer(1)})}));
  EXPECT_NE(Value::array({Value::array({Value::integer(1)})}),
            Value::array({Value::array({Value::integer(2)})}));
  EXPECT_NE(Value::array({}), Value::set({}));
  EXPECT_EQ(Value::double_number(std::nan("")), Value::double_number(std::nan("")));
  EXPECT_NE(Value::double_number(1.0), Value::double_number(std::nan("")));
  const auto attributed = [](int n) {
    return Value::integer(1).with_attributes({{Value::simple_string("ttl"), Value::integer(n)}});
  };
  EXPECT_EQ(attributed(5), attributed(5));
  EXPECT_NE(attributed(5), attributed(6));
  EXPECT_NE(attributed(5), Value::integer(1));
}

TEST(Value, CopiesAreDeepAndIndependent) {
  Value original =
      Value::array({Value::bulk_string("x")}).with_attributes({{Value::integer(1), Value()}});
  Value copy = original;
  EXPECT_EQ(copy, original);
  ASSERT_EQ(copy.attributes().size(), 2U);
  EXPECT_NE(copy.attributes().data(), original.attributes().data());
  copy = Value::integer(7);
  EXPECT_EQ(original.at(0).as_string(), "x");
  Value assigned;
  assigned = original;
  EXPECT_EQ(assigned, original);
}

TEST(Value, ToStringRendersEveryType) {
  const Value value = Value::array({
      Value::simple_string("OK"),
      Value::bulk_string(std::string("a\"\r\n\0\xff", 6)),
      Value::integer(-42),
      Value::double_number(1.5),
      Value::double_number(-HUGE_VAL),
      Value::boolean(true),
      Value(),
      Value::big_number("12345678901234567890"),
      Value::simple_error("ERR bad"),
      Value::verbatim_string("txt", "hi"),
      Value::map({{Value::bulk_string("k"), Value::boolean(false)}}),
      Value::set({Value::integer(1)}),
      Value::push({Value::bulk_string("message")}),
      Value::integer(1).with_attributes({{Value::simple_string("ttl"), Value::integer(9)}}),
  });
  EXPECT_EQ(value.to_string(),
            R"(["OK", "a\"\r\n\x00\xff", -42, (double) 1.5, (double) -inf, true, (nil), )"
            R"((big number) 12345678901234567890, (error) "ERR bad", (verbatim "txt") "hi", )"
            R"({"k": false}, ~[1], >["message"], (attributes {"ttl": 9}) 1])");
  EXPECT_EQ(fmt::format("{}", Value::integer(3)), "3");
  EXPECT_EQ(fmt::format("{}", Type::bulk_string), "bulk_string");
  std::ostringstream out;
  out << Value::simple_string("OK") << ' ' << Type::map;
  EXPECT_EQ(out.str(), R"("OK" map)");
}

TEST(Value, EveryTypeHasADistinctName) {
  std::set<std::string_view> names;
  for (int t = static_cast<int>(Type::null); t <= static_cast<int>(Type::push); ++t) {
    const std::string_view name = type_name(static_cast<Type>(t));
    EXPECT_NE(name, "unknown") << t;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(Value, WithNoAttributesDropsThem) {
  const Value value = Value::integer(1)
                          .with_attributes({{Value::simple_string("a"), Value::integer(2)}})
                          .with_attributes({});
  EXPECT_TRUE(value.attributes().empty());
  EXPECT_EQ(value, Value::integer(1));
}

TEST(Value, ToStringEscapesBackslashAndTab) {
  EXPECT_EQ(Value::bulk_string("a\\b\tc").to_string(), R"("a\\b\tc")");
}

TEST(Value, ToStringStopsAtItsBound) {
  const Value big = Value::array(std::vector<Value>(10000, Value::bulk_string("abcdef")));
  const std::string text = big.to_string(50);
  EXPECT_EQ(text.size(), 53U);
  EXPECT_EQ(text.substr(0, 12), R"(["abcdef", ")");
  EXPECT_EQ(text.substr(50), "...");
  EXPECT_EQ(Value::bulk_string(std::string(1000, 'x')).to_string(10), "\"xxxxxxxxx...");
}

}  // namespace
}  // namespace bulwark::redis
