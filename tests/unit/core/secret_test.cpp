#include "bulwark/core/secret.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

namespace bulwark {
namespace {

TEST(Secret, NeverPrintsItsValue) {
  const Secret secret("sk-live-123");
  EXPECT_EQ(fmt::format("{}", secret), "***");
  EXPECT_EQ(fmt::format("key={:>5}", secret), "key=  ***");
  std::ostringstream out;
  out << secret;
  EXPECT_EQ(out.str(), "***");
  EXPECT_EQ(secret.reveal(), "sk-live-123");
}

TEST(Secret, MovedFromIsEmpty) {
  Secret a("token");
  Secret b(std::move(a));
  EXPECT_EQ(b.reveal(), "token");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  Secret c;
  c = std::move(b);
  EXPECT_EQ(c.reveal(), "token");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(Secret, ComparesByValue) {
  EXPECT_EQ(Secret("abc"), Secret("abc"));
  EXPECT_FALSE(Secret("abc") == Secret("abd"));
  EXPECT_FALSE(Secret("abc") == Secret("abcd"));
  EXPECT_EQ(Secret(), Secret(""));
}

TEST(RedactUrl, HidesPasswordsAndTokens) {
  EXPECT_EQ(redact_url("redis://user:hunter2@cache:6379/0"), "redis://user:***@cache:6379/0");
  EXPECT_EQ(redact_url("redis://:hunter2@cache:6379"), "redis://:***@cache:6379");
  EXPECT_EQ(redact_url("https://TOKEN@api.example.com/v1?q=a@b"),
            "https://***@api.example.com/v1?q=a@b");
  EXPECT_EQ(redact_url("https://api.example.com/v1?email=a@b"),
            "https://api.example.com/v1?email=a@b");
  EXPECT_EQ(redact_url("not a url"), "not a url");
}

TEST(RedactUrl, HidesPasswordsContainingUrlDelimiters) {
  EXPECT_EQ(redact_url("redis://:s3cr#t@cache:6379/0"), "redis://:***@cache:6379/0");
  EXPECT_EQ(redact_url("redis://app:pa/ss@cache:6379"), "redis://app:***@cache:6379");
  EXPECT_EQ(redact_url("https://u:p?w@host/x"), "https://u:***@host/x");
  EXPECT_EQ(redact_url("redis://u:p@ss@cache"), "redis://u:***@cache");
}

TEST(RedactUrl, LeavesPortsAndQueryAddressesAlone) {
  EXPECT_EQ(redact_url("https://host:8080/x?mail=a@b"), "https://host:8080/x?mail=a@b");
  EXPECT_EQ(redact_url("https://host/x?mail=a@b"), "https://host/x?mail=a@b");
}

}  // namespace
}  // namespace bulwark
