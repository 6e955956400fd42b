#pragma once
/// @file
/// A coroutine waiting in a bulkhead's queue: holds the suspended coroutine's completion
/// handler and the timer that bounds the wait, and completes the handler exactly once, through
/// its associated executor, whichever of grant, timeout, cancellation comes first.
///
/// Ownership: created by `async_acquire`, queued before the coroutine suspends, then owned by
/// its pending timer wait while queued. The timer handler, the cancellation handler and late
/// calls all reach the waiter through shared or weak pointers, and the waiter co-owns the
/// core, so nothing outlives what it touches.
///
/// Thread-safety: `attach` runs on the coroutine's thread; grants arrive from any releasing
/// thread, timeouts from the executor, cancellation from whoever emits the signal. Every
/// decision is taken under the core's mutex.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <system_error>

#include "resilience/detail/bulkhead_core.hpp"
#include "resilience/detail/waiter_queue.hpp"

namespace bulwark::detail {

class AsyncWaiter final : public Waiter, public std::enable_shared_from_this<AsyncWaiter> {
 public:
  using Handler = boost::asio::any_completion_handler<void(std::error_code)>;

  /// `executor` runs the timer; the wait ends at `deadline` at the latest.
  AsyncWaiter(std::shared_ptr<BulkheadCore> core, const boost::asio::any_io_executor& executor,
              std::chrono::steady_clock::time_point deadline);

  /// Called once, on the coroutine's thread after it suspended, with the handler that resumes
  /// it: hooks up cancellation and the timer, or completes at once if the wait was already
  /// decided (a grant can arrive between queuing and suspending).
  void attach(Handler handler);

  /// For a caller that stops before `attach` (Asio refused to suspend because cancellation was
  /// already requested): leaves the queue. Returns true when a slot was granted meanwhile; the
  /// caller then owns that slot and must release it.
  [[nodiscard]] bool withdraw() noexcept;

 private:
  class TimerHandler;
  class Delivery;

  void on_settled() noexcept override;
  void on_timer() noexcept;
  void on_cancel() noexcept;
  void on_abandoned() noexcept;
  void complete_locked() noexcept;

  std::shared_ptr<BulkheadCore> core_;
  boost::asio::steady_timer timer_;  // armed in attach(), cancelled in on_settled(); under mutex
  std::optional<Handler> handler_;   // under the core's mutex
};

}  // namespace bulwark::detail
