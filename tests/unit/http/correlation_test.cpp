#include "bulwark/http/correlation.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>

namespace bulwark::http {
namespace {

TEST(HttpCorrelation, NewIdsAreUuidV4) {
  const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_correlation_id();
    ASSERT_TRUE(std::regex_match(id, uuid_v4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

// IDs come from a per-thread batch of random bytes; a forked child must not repeat the IDs its
// parent draws from the same batch afterwards.
TEST(HttpCorrelation, AForkedChildDoesNotRepeatItsParentsIds) {
  (void)new_correlation_id();  // A batch is now drawn and mostly unused.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = new_correlation_id();
    const auto written = ::write(pipe_fds[1], id.data(), id.size());
    ::_exit(written == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  const std::string parent_id = new_correlation_id();
  std::string child_id(36, '\0');
  const auto got = ::read(pipe_fds[0], child_id.data(), child_id.size());
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(got, 36);
  EXPECT_NE(child_id, parent_id);
}

TEST(HttpCorrelation, ScopesNestPerThread) {
  EXPECT_EQ(CorrelationScope::current(), "");
  {
    CorrelationScope outer("outer");
    EXPECT_EQ(CorrelationScope::current(), "outer");
    {
      CorrelationScope inner("inner");
      EXPECT_EQ(CorrelationScope::current(), "inner");
      std::string seen_elsewhere = "unset";
      std::thread([&] { seen_elsewhere = CorrelationScope::current(); }).join();
      EXPECT_EQ(seen_elsewhere, "");
    }
    EXPECT_EQ(CorrelationScope::current(), "outer");
  }
  EXPECT_EQ(CorrelationScope::current(), "");
}

}  // namespace
}  // namespace bulwark::http
