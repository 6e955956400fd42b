#pragma once
/// @file
/// Timeouts. For asynchronous calls a timeout *cancels* the operation through Asio's per-operation
/// cancellation (the socket read, the timer, the nested coroutine all see `operation_aborted`) and
/// waits for it to wind down before returning, so no work outlives the call that gave up on it.
///
/// Synchronous callables cannot be pre-empted: the pipeline hands them the deadline through
/// `CallContext::deadline()` (clients bound their own waits with it) and reports an attempt that
/// returns after its deadline as `errc::timeout`. That overrun check uses `Clock::coarse_now()`,
/// so its resolution is the kernel tick (a few milliseconds).

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/resilience/detail/outcome.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bulwark {

/// Timeouts of a pipeline. Zero means no timeout.
struct TimeoutConfig {
  /// Limit of each attempt, measured from the moment the attempt is admitted (after the rate
  /// limiter and bulkhead). 0 = none.
  Duration attempt = Duration::zero();
  /// Limit of the whole call, retries and their delays included. 0 = none.
  Duration overall = Duration::zero();
};

namespace detail {

// Races `op` against a timer of `limit`. The loser is cancelled and awaited. When the timer wins,
// the outcome is errc::timeout.
template <class T>
boost::asio::awaitable<Outcome<T>> race_timeout(boost::asio::awaitable<Outcome<T>> op,
                                                Duration limit) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, limit);
  auto [order, op_exception, outcome, timer_error] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(executor, std::move(op), asio::deferred), timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (op_exception) {
    // The outcome coroutines catch what they run; an exception here means the operation never
    // ran (typically: the caller was already cancelled when it was spawned).
    Outcome<T> failed;
    try {
      std::rethrow_exception(op_exception);
    } catch (...) {
      capture_current_exception(failed);
    }
    normalize_cancellation(failed);
    if (order[0] == 1 && !timer_error) {
      failed.error = make_error_code(errc::timeout);
      failed.exception = nullptr;
    }
    co_return failed;
  }
  if (order[0] == 1 && !timer_error) {
    // The limit expired first. Whatever the cancelled operation returned on its way out (a
    // `Result` holding `cancelled`, a partial value) is not an answer.
    co_return Outcome<T>::failure(make_error_code(errc::timeout));
  }
  co_return std::move(outcome);
}

template <class T>
boost::asio::awaitable<Outcome<T>> capture(boost::asio::awaitable<T> op) {
  Outcome<T> outcome;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(op);
      outcome.value.emplace();
    } else {
      outcome.value.emplace(co_await std::move(op));
    }
  } catch (...) {
    capture_current_exception(outcome);
  }
  co_return outcome;
}

}  // namespace detail

/// Runs `op`, cancelling it if it has not finished after `limit`.
///
/// Returns what `op` returns. Throws `bulwark::Error` with `errc::timeout` when the limit expired
/// (after `op` has been cancelled and has finished), or rethrows what `op` threw. A `limit` of
/// zero or less means no limit. Cancelling the awaiting coroutine cancels `op` too.
template <class T>
boost::asio::awaitable<T> with_timeout(boost::asio::awaitable<T> op, Duration limit) {
  if (limit <= Duration::zero()) co_return co_await std::move(op);
  detail::Outcome<T> outcome = co_await detail::race_timeout(detail::capture(std::move(op)), limit);
  if (outcome.error == errc::timeout && !outcome.exception) throw Error(outcome.error);
  if (outcome.exception) std::rethrow_exception(outcome.exception);
  if constexpr (!std::is_void_v<T>) co_return std::move(*outcome.value);
}

}  // namespace bulwark
