#include "resilience/detail/async_waiter.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <mutex>
#include <utility>

#include "bulwark/core/error.hpp"

namespace bulwark::detail {
namespace {

std::error_code error_of(WaitOutcome outcome) noexcept {
  switch (outcome) {
    case WaitOutcome::granted:
      return {};
    case WaitOutcome::timed_out:
      return make_error_code(errc::bulkhead_full);
    case WaitOutcome::pending:
    case WaitOutcome::cancelled:
    case WaitOutcome::abandoned:
      break;
  }
  return make_error_code(errc::cancelled);
}

}  // namespace

// The timer's completion handler. Asio destroys a handler without calling it only when its
// io_context is destroyed; the waiter then has nobody left to resume and leaves the queue.
class AsyncWaiter::TimerHandler {
 public:
  explicit TimerHandler(std::shared_ptr<AsyncWaiter> waiter) noexcept
      : waiter_(std::move(waiter)) {}
  TimerHandler(TimerHandler&&) noexcept = default;
  TimerHandler& operator=(TimerHandler&&) = delete;
  ~TimerHandler() {
    if (waiter_) waiter_->on_abandoned();
  }

  void operator()(const boost::system::error_code& /*expired or cancelled*/) {
    std::exchange(waiter_, nullptr)->on_timer();
  }

 private:
  std::shared_ptr<AsyncWaiter> waiter_;
};

// Resumes the coroutine on its executor. A granted slot travels with it: if the io_context is
// destroyed before the coroutine could take the slot, the slot goes back to the bulkhead.
class AsyncWaiter::Delivery {
 public:
  Delivery(Handler handler, std::error_code ec, std::shared_ptr<BulkheadCore> granted) noexcept
      : handler_(std::move(handler)), ec_(ec), granted_(std::move(granted)) {}
  Delivery(Delivery&&) noexcept = default;
  Delivery& operator=(Delivery&&) = delete;
  ~Delivery() {
    if (granted_) granted_->release_slot();
  }

  void operator()() {
    granted_.reset();  // the coroutine owns the slot from here on
    std::move(handler_)(ec_);
  }

 private:
  Handler handler_;
  std::error_code ec_;
  std::shared_ptr<BulkheadCore> granted_;
};

AsyncWaiter::AsyncWaiter(std::shared_ptr<BulkheadCore> core,
                         const boost::asio::any_io_executor& executor,
                         std::chrono::steady_clock::time_point deadline)
    : core_(std::move(core)), timer_(executor, deadline) {}

void AsyncWaiter::attach(Handler handler) {
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  if (slot.is_connected()) {
    // Weak: the slot may outlive the wait and be emitted late; a late emit finds nothing to do.
    slot.assign([weak = weak_from_this()](boost::asio::cancellation_type) {
      if (auto self = weak.lock()) self->on_cancel();
    });
  }
  std::lock_guard lock(core_->mutex());
  handler_.emplace(std::move(handler));
  if (outcome() != WaitOutcome::pending) {
    complete_locked();
    return;
  }
  // Armed under the mutex so that on_settled(), which cancels it under the mutex too, always
  // finds the wait started.
  timer_.async_wait(TimerHandler(shared_from_this()));
}

bool AsyncWaiter::withdraw() noexcept {
  std::lock_guard lock(core_->mutex());
  if (core_->withdraw_locked(*this, WaitOutcome::cancelled)) return false;
  return outcome() == WaitOutcome::granted;
}

void AsyncWaiter::on_settled() noexcept {
  // Not attached yet: attach() completes. Abandoned: the handler cannot be run.
  if (!handler_ || outcome() == WaitOutcome::abandoned) return;
  timer_.cancel();
  complete_locked();
}

void AsyncWaiter::complete_locked() noexcept {
  Handler handler(std::move(*handler_));
  handler_.reset();
  const WaitOutcome outcome = this->outcome();
  // Posted, never dispatched: the coroutine must not run inside the releasing caller, and
  // never under the bulkhead's mutex. The timer's executor is the coroutine's own.
  boost::asio::post(timer_.get_executor(),
                    Delivery(std::move(handler), error_of(outcome),
                             outcome == WaitOutcome::granted ? core_ : nullptr));
}

void AsyncWaiter::on_timer() noexcept {
  bool timed_out = false;
  {
    std::lock_guard lock(core_->mutex());
    timed_out = core_->withdraw_locked(*this, WaitOutcome::timed_out);
  }
  if (timed_out) core_->publish_queue_timeout();
}

void AsyncWaiter::on_cancel() noexcept {
  std::lock_guard lock(core_->mutex());
  core_->withdraw_locked(*this, WaitOutcome::cancelled);
}

void AsyncWaiter::on_abandoned() noexcept {
  std::optional<Handler> orphan;
  {
    std::lock_guard lock(core_->mutex());
    if (core_->withdraw_locked(*this, WaitOutcome::abandoned) && handler_) {
      orphan.emplace(std::move(*handler_));
      handler_.reset();
    }
  }
  // Destroying the handler destroys the coroutine it would have resumed: outside the mutex,
  // because that coroutine may hold permits of this very bulkhead.
}

}  // namespace bulwark::detail
