// AdminOptions validation: every bad field named at its path, all at once.
#include "bulwark/admin/admin_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> paths_of(const AdminOptions& options) {
  std::vector<ConfigIssue> issues;
  AdminServer::validate(options, issues);
  std::vector<std::string> paths;
  for (const ConfigIssue& issue : issues) paths.push_back(issue.path);
  return paths;
}

TEST(AdminOptions, DefaultsAreValidAndLoopback) {
  const AdminOptions options;
  EXPECT_TRUE(paths_of(options).empty());
  EXPECT_EQ(options.listen, "127.0.0.1:9090");
  EXPECT_EQ(options.max_request_bytes, 8192U);
  EXPECT_EQ(options.max_connections, 64U);
  EXPECT_EQ(options.read_timeout, 10s);
  EXPECT_EQ(options.idle_timeout, 10s);
  EXPECT_EQ(options.status_refresh, 5s);
  EXPECT_EQ(options.history, 10min);
  EXPECT_FALSE(options.bearer_token);
}

TEST(AdminOptions, EveryBadFieldIsReported) {
  AdminOptions options;
  options.listen = "somewhere";
  options.max_request_bytes = 100;
  options.max_requests_per_second = -1;
  options.max_connections = 0;
  options.read_timeout = 0s;
  options.idle_timeout = -1s;
  options.status_refresh = 100ms;
  options.sample_interval = 0s;
  const std::vector<std::string> expected = {
      "admin.listen",          "admin.max_request_bytes", "admin.max_requests_per_second",
      "admin.max_connections", "admin.read_timeout",      "admin.idle_timeout",
      "admin.status_refresh",  "admin.sample_interval"};
  EXPECT_EQ(paths_of(options), expected);
}

TEST(AdminOptions, HistoryMustHoldASample) {
  AdminOptions options;
  options.sample_interval = 10s;
  options.history = 5s;
  EXPECT_EQ(paths_of(options), std::vector<std::string>{"admin.history"});
}

}  // namespace
}  // namespace bulwark
