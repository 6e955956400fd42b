#include "bulwark/core/runtime.hpp"

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <set>

namespace bulwark {
namespace {

namespace asio = boost::asio;

TEST(Runtime, BlockOnRunsTheCoroutineOnTheRuntimeAndReturnsItsValue) {
  Runtime runtime({.threads = 2});
  EXPECT_EQ(runtime.thread_count(), 2u);
  const std::thread::id caller = std::this_thread::get_id();
  const auto [value, ran_elsewhere, on_runtime] =
      runtime.block_on([&]() -> asio::awaitable<std::tuple<int, bool, bool>> {
        co_return std::tuple{42, std::this_thread::get_id() != caller,
                             runtime.running_in_this_thread()};
      }());
  EXPECT_EQ(value, 42);
  EXPECT_TRUE(ran_elsewhere);
  EXPECT_TRUE(on_runtime);
  EXPECT_FALSE(runtime.running_in_this_thread());
}

TEST(Runtime, BlockOnRethrowsTheCoroutinesException) {
  Runtime runtime;
  EXPECT_THROW(runtime.block_on([]() -> asio::awaitable<void> {
    throw Error(errc::connect_failed);
    co_return;
  }()),
               Error);
}

TEST(Runtime, BlockOnFromARuntimeThreadIsRefusedNotDeadlocked) {
  Runtime runtime;
  const std::error_code code = runtime.block_on([&]() -> asio::awaitable<std::error_code> {
    try {
      runtime.block_on([]() -> asio::awaitable<int> { co_return 1; }());
    } catch (const Error& error) {
      co_return error.code();
    }
    co_return std::error_code{};
  }());
  EXPECT_EQ(code, errc::invalid_argument);
}

TEST(Runtime, ZeroThreadsIsAConfigError) { EXPECT_THROW(Runtime({.threads = 0}), ConfigError); }

TEST(Runtime, UsesEveryThread) {
  Runtime runtime({.threads = 3});
  std::mutex mutex;
  std::set<std::thread::id> seen;
  std::atomic<int> arrived{0};
  // Each handler waits until all three are running at once, so they must be on three threads.
  for (int i = 0; i < 3; ++i) {
    asio::post(runtime.context(), [&] {
      {
        std::lock_guard lock(mutex);
        seen.insert(std::this_thread::get_id());
      }
      arrived.fetch_add(1);
      while (arrived.load() < 3) std::this_thread::yield();
    });
  }
  while (arrived.load() < 3) std::this_thread::yield();
  runtime.stop();
  EXPECT_EQ(seen.size(), 3u);
}

TEST(Runtime, StopIsIdempotent) {
  Runtime runtime;
  runtime.stop();
  runtime.stop();
  EXPECT_EQ(runtime.thread_count(), 0u);
}

}  // namespace
}  // namespace bulwark
