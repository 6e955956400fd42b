#include "bulwark/core/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>

namespace bulwark {
namespace {

TEST(ErrorCode, ConvertsFromErrcAndNamesItself) {
  const std::error_code ec = errc::circuit_open;
  EXPECT_EQ(&ec.category(), &error_category());
  EXPECT_STREQ(ec.category().name(), "bulwark");
  EXPECT_EQ(ec.message(), "circuit breaker is open");
  EXPECT_EQ(error_name(ec), "circuit_open");
  EXPECT_EQ(error_name({}), "ok");
  EXPECT_EQ(error_name(std::make_error_code(std::errc::connection_refused)),
            "generic:" + std::to_string(ECONNREFUSED));
}

TEST(ErrorCode, EveryCodeHasADistinctName) {
  std::set<std::string> names;
  for (int value = static_cast<int>(errc::circuit_open); value <= static_cast<int>(errc::exception);
       ++value) {
    const std::string name = error_name(std::error_code(value, error_category()));
    EXPECT_NE(name, "unknown") << value;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(ErrorCondition, GroupsBulwarkCodes) {
  EXPECT_EQ(make_error_code(errc::circuit_open), condition::rejected);
  EXPECT_EQ(make_error_code(errc::bulkhead_full), condition::rejected);
  EXPECT_EQ(make_error_code(errc::rate_limited), condition::overload);
  EXPECT_EQ(make_error_code(errc::pool_timeout), condition::timeout);
  EXPECT_EQ(make_error_code(errc::timeout), condition::transient);
  EXPECT_EQ(make_error_code(errc::redis_loading), condition::transient);
  EXPECT_EQ(make_error_code(errc::circuit_open), condition::unavailable);
  EXPECT_NE(make_error_code(errc::circuit_open), condition::transient);
  EXPECT_NE(make_error_code(errc::protocol_error), condition::transient);
  EXPECT_NE(make_error_code(errc::config_invalid), condition::unavailable);
}

TEST(ErrorCondition, GroupsOperatingSystemErrors) {
  EXPECT_EQ(std::make_error_code(std::errc::connection_refused), condition::transient);
  EXPECT_EQ(std::make_error_code(std::errc::connection_reset), condition::unavailable);
  EXPECT_EQ(std::error_code(ETIMEDOUT, std::system_category()), condition::timeout);
  EXPECT_NE(std::make_error_code(std::errc::permission_denied), condition::transient);
}

TEST(ErrorCode, TimeoutAndCancelledMatchPortableConditions) {
  EXPECT_EQ(make_error_code(errc::timeout), std::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::cancelled), std::errc::operation_canceled);
}

TEST(Error, MessageNamesClientOperationAttemptAndDetail) {
  const Error error(errc::timeout, {"qdrant", "search", 3}, "after 2s");
  EXPECT_STREQ(error.what(), "qdrant: search (attempt 3): timed out: after 2s");
  EXPECT_EQ(error.client(), "qdrant");
  EXPECT_EQ(error.operation(), "search");
  EXPECT_EQ(error.attempt(), 3);
  EXPECT_EQ(error.code(), errc::timeout);
}

TEST(Error, MessageWithoutContextIsTheReason) {
  EXPECT_STREQ(Error(errc::bulkhead_full).what(), "bulkhead is full");
}

TEST(Error, ThrowErrorPicksServiceUnavailableForUnavailableCodes) {
  EXPECT_THROW(throw_error(errc::circuit_open, {"redis", "GET", 0}), ServiceUnavailable);
  EXPECT_THROW(throw_error(errc::retries_exhausted), ServiceUnavailable);
  try {
    throw_error(errc::protocol_error, {"redis", "", 0});
    FAIL() << "throw_error returned";
  } catch (const ServiceUnavailable&) {
    FAIL() << "protocol_error is not unavailability";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::protocol_error);
  }
}

TEST(ConfigError, ListsEveryIssueWithItsPath) {
  const ConfigError error(std::vector<ConfigIssue>{
      {"services.qdrant.pool.max_connections", "must be >= 1, got 0"}, {"redis.url", "missing"}});
  ASSERT_EQ(error.issues().size(), 2u);
  EXPECT_EQ(error.code(), errc::config_invalid);
  EXPECT_STREQ(error.what(),
               "invalid configuration: services.qdrant.pool.max_connections: must be >= 1, got 0; "
               "redis.url: missing");
}

}  // namespace
}  // namespace bulwark
