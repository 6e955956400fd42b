#include "bulwark/shared/shared_breaker_config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bulwark::shared {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> paths_of(const SharedBreakerConfig& config) {
  std::vector<ConfigIssue> issues;
  validate(config, issues, "services.a.circuit_breaker");
  std::vector<std::string> paths;
  for (const auto& issue : issues) paths.push_back(issue.path + ": " + issue.message);
  return paths;
}

TEST(SharedBreakerConfig, DefaultsWithANameAreValid) {
  SharedBreakerConfig config;
  config.name = "a";
  EXPECT_TRUE(paths_of(config).empty());
  EXPECT_EQ(config.key_prefix, "bulwark:");
  EXPECT_EQ(config.probing_instances, 1U);
}

TEST(SharedBreakerConfig, EveryBadFieldIsNamed) {
  SharedBreakerConfig config;
  config.probing_instances = 0;
  config.probe_lease = -1s;
  config.instance_id = "a|b";
  config.channel = "two words";
  EXPECT_EQ(paths_of(config),
            (std::vector<std::string>{
                "services.a.circuit_breaker.name: must not be empty",
                "services.a.circuit_breaker.probing_instances: must be >= 1, got 0",
                "services.a.circuit_breaker.probe_lease: must be >= 0, got -1s",
                "services.a.circuit_breaker.instance_id: must not contain '|'",
                "services.a.circuit_breaker.channel: must not contain spaces or control "
                "characters"}));
}

TEST(SharedBreakerConfig, AProbeLeaseUnderASecondIsRefusedRatherThanRaised) {
  SharedBreakerConfig config;
  config.name = "a";
  config.probe_lease = 200ms;
  EXPECT_EQ(paths_of(config),
            (std::vector<std::string>{"services.a.circuit_breaker.probe_lease: must be 0 (derived "
                                      "from the breaker) or at least 1s, got 200ms"}));
  config.probe_lease = 1s;
  EXPECT_TRUE(paths_of(config).empty());
}

}  // namespace
}  // namespace bulwark::shared
