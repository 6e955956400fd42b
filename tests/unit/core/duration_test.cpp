#include "bulwark/core/duration.hpp"

#include "bulwark/core/error.hpp"

#include <gtest/gtest.h>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("10s"), 10s);
  EXPECT_EQ(parse_duration("1.5m"), 90s);
  EXPECT_EQ(parse_duration("2h"), 2h);
  EXPECT_EQ(parse_duration("1d"), 24h);
  EXPECT_EQ(parse_duration("7ns"), 7ns);
  EXPECT_EQ(parse_duration("3us"), 3us);
  EXPECT_EQ(parse_duration("3\xC2\xB5s"), 3us);
  EXPECT_EQ(parse_duration("0"), 0s);
  EXPECT_EQ(parse_duration(" 5s "), 5s);
  EXPECT_EQ(parse_duration("+5s"), 5s);
}

TEST(ParseDuration, AcceptsCompoundsAndFractions) {
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1m0.5s"), 60500ms);
  EXPECT_EQ(parse_duration(".5s"), 500ms);
  EXPECT_EQ(parse_duration("0.0000000015s"), 2ns);  // rounded to the nearest nanosecond
  EXPECT_EQ(parse_duration("1.123456789123s"), 1123456789ns);
}

std::string error_of(std::string_view text) {
  std::string error;
  EXPECT_FALSE(try_parse_duration(text, &error).has_value()) << text;
  return error;
}

TEST(ParseDuration, ErrorsSayWhatWasWrong) {
  EXPECT_EQ(error_of("10"), "missing unit in \"10\" (write e.g. 250ms, 10s, 1.5m, 2h)");
  EXPECT_EQ(error_of("10sec"), "unknown unit \"sec\" in \"10sec\" (use ns, us, ms, s, m, h or d)");
  EXPECT_EQ(error_of("-5s"), "negative duration \"-5s\" is not allowed");
  EXPECT_EQ(error_of(""), "empty duration (write e.g. 250ms, 10s, 1.5m, 2h)");
  EXPECT_EQ(error_of("fast"), "expected a number at \"fast\" in \"fast\"");
  EXPECT_EQ(error_of("5s."), "expected a number at \".\" in \"5s.\"");
  EXPECT_EQ(error_of("300y"), "unknown unit \"y\" in \"300y\" (use ns, us, ms, s, m, h or d)");
  EXPECT_EQ(error_of("99999999999999999999s"), "\"99999999999999999999s\" is too large");
  EXPECT_EQ(error_of("300000d"), "\"300000d\" is too large (limit is about 292 years)");
}

TEST(ParseDuration, ThrowsConfigError) {
  try {
    (void)parse_duration("10 parsecs");
    FAIL() << "no exception";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.code(), errc::config_invalid);
    ASSERT_EQ(error.issues().size(), 1u);
    EXPECT_NE(error.issues()[0].message.find("parsecs"), std::string::npos);
  }
}

TEST(FormatDuration, UsesTheLargestExactUnits) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(1500us), "1ms500us");
  EXPECT_EQ(format_duration(36h), "36h");
  EXPECT_EQ(format_duration(-2s), "-2s");
  EXPECT_EQ(format_duration(Duration::min()).front(), '-');
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (const Duration d :
       {Duration{1}, Duration{999}, Duration{1'000'001}, Duration{123'456'789'012},
        Duration{86'400'000'000'001}, Duration::max()}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d) << format_duration(d);
  }
}

}  // namespace
}  // namespace bulwark
