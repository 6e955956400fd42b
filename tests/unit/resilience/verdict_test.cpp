#include "bulwark/resilience/verdict.hpp"

#include "bulwark/core/error.hpp"

#include <gtest/gtest.h>

namespace bulwark {
namespace {

TEST(DefaultFailureClassifier, CountsServiceFailuresAndIgnoresLocalRejections) {
  EXPECT_EQ(default_failure_classifier({}), Verdict::success);
  EXPECT_EQ(default_failure_classifier(errc::timeout), Verdict::failure);
  EXPECT_EQ(default_failure_classifier(errc::connect_failed), Verdict::failure);
  EXPECT_EQ(default_failure_classifier(errc::protocol_error), Verdict::failure);
  EXPECT_EQ(default_failure_classifier(errc::circuit_open), Verdict::ignored);
  EXPECT_EQ(default_failure_classifier(errc::bulkhead_full), Verdict::ignored);
  EXPECT_EQ(default_failure_classifier(errc::rate_limited), Verdict::ignored);
  EXPECT_EQ(default_failure_classifier(errc::cancelled), Verdict::ignored);
  EXPECT_EQ(default_failure_classifier(std::make_error_code(std::errc::operation_canceled)),
            Verdict::ignored);
}

TEST(DefaultRetryPredicate, RetriesOnlyTransientFailures) {
  EXPECT_TRUE(default_retry_predicate(errc::timeout));
  EXPECT_TRUE(default_retry_predicate(errc::connection_lost));
  EXPECT_TRUE(default_retry_predicate(errc::redis_loading));
  EXPECT_TRUE(default_retry_predicate(std::make_error_code(std::errc::connection_refused)));
  EXPECT_FALSE(default_retry_predicate(errc::circuit_open));
  EXPECT_FALSE(default_retry_predicate(errc::bulkhead_full));
  EXPECT_FALSE(default_retry_predicate(errc::protocol_error));
  EXPECT_FALSE(default_retry_predicate(errc::redis_error));
  EXPECT_FALSE(default_retry_predicate(errc::invalid_argument));
}

}  // namespace
}  // namespace bulwark
