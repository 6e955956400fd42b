#pragma once
// Driving an io_context from a test. An open Redis or HTTP connection keeps its io_context busy
// (its read loop), so tests run until the result they wait for is ready, not until the
// io_context runs out of work.

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>

namespace bulwark::test {

/// Runs handlers until `done()` is true; fails the test after `limit`.
template <class Done>
void run_until(boost::asio::io_context& io, Done done,
               std::chrono::seconds limit = std::chrono::seconds(30)) {
  io.restart();
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    io.run_one_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() > give_up) {
      ADD_FAILURE() << "gave up waiting after " << limit.count() << "s";
      return;
    }
  }
}

/// Runs `work` to completion and returns its value (or rethrows its exception).
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
  auto future = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  run_until(io,
            [&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
  return future.get();
}

}  // namespace bulwark::test
