#pragma once
// Tests that need a program from a Debian package (Chromium, promtool). `make test` installs them
// through scripts/deps.sh; on a developer's machine without one the test is skipped and says
// why, but under CI (the environment variable CI set) a missing program is a failure, so that a
// broken install can never pass as a skipped test.

#include <gtest/gtest.h>

#include <cstdlib>

/// Skips the test (fails it under CI) with `message` unless `available`.
#define BULWARK_REQUIRE_TOOL(available, message)             \
  do {                                                       \
    if (!(available)) {                                      \
      if (std::getenv("CI") != nullptr) FAIL() << (message); \
      GTEST_SKIP() << (message);                             \
    }                                                        \
  } while (false)
