#include "bulwark/observe/names.hpp"

#include <gtest/gtest.h>

namespace bulwark::observe {
namespace {

TEST(MetricName, AcceptsWhatPrometheusAccepts) {
  for (const char* name :
       {"a", "_", ":", "bulwark_client_calls_total", "job:requests:rate5m", "A9_:b", "_private"}) {
    EXPECT_TRUE(is_valid_metric_name(name)) << name;
  }
}

TEST(MetricName, RejectsEverythingElse) {
  for (const char* name :
       {"", "9lives", "client-calls", "calls total", "calls.total", "é", "calls{x}"}) {
    EXPECT_FALSE(is_valid_metric_name(name)) << name;
  }
}

TEST(LabelName, AcceptsWhatPrometheusAccepts) {
  for (const char* name : {"a", "_", "client", "_x", "A9_b"}) {
    EXPECT_TRUE(is_valid_label_name(name)) << name;
  }
}

TEST(LabelName, RejectsColonsLeadingDigitsAndTheReservedDoubleUnderscore) {
  for (const char* name : {"", "9", "a:b", "a-b", "__name__", "__x", "é"}) {
    EXPECT_FALSE(is_valid_label_name(name)) << name;
  }
}

}  // namespace
}  // namespace bulwark::observe
