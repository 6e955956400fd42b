#pragma once
// Waiting inside a coroutine on bulwark's Clock: a real timer for real clocks; for a ManualClock
// the clock is advanced and the coroutine only yields, so asynchronous tests stay instant and
// exact.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/error.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bulwark::detail {

// Returns errc::cancelled if the wait was cancelled, nothing otherwise.
inline boost::asio::awaitable<std::error_code> async_sleep(Clock& clock, Duration delay) {
  namespace asio = boost::asio;
  if (delay <= Duration::zero()) co_return std::error_code{};
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code error;
  if (clock.is_manual()) {
    clock.sleep_for(delay);
    co_await asio::post(executor, asio::redirect_error(asio::use_awaitable, error));
  } else {
    asio::steady_timer timer(executor, delay);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
  }
  co_return error ? make_error_code(errc::cancelled) : std::error_code{};
}

}  // namespace bulwark::detail
