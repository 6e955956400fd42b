// redis::Script: the SHA1 it computes is the one Redis caches the script under.
#include "bulwark/redis/script.hpp"

#include <gtest/gtest.h>

namespace bulwark::redis {
namespace {

TEST(Script, KeepsTheSourceAndItsSha1InLowerCaseHex) {
  const Script script("return 1");
  EXPECT_EQ(script.source(), "return 1");
  // `echo -n 'return 1' | sha1sum`, and what SCRIPT LOAD answers for it.
  EXPECT_EQ(script.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(Script, Sha1OfKnownInputs) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  // Binary-safe: a NUL byte is part of the input.
  EXPECT_NE(sha1_hex(std::string_view("a\0b", 3)), sha1_hex("a"));
}

}  // namespace
}  // namespace bulwark::redis
