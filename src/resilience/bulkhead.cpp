#include "bulwark/resilience/bulkhead.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

#include "bulwark/core/error.hpp"
#include "resilience/detail/async_waiter.hpp"
#include "resilience/detail/bulkhead_core.hpp"
#include "resilience/detail/waiter_queue.hpp"

namespace bulwark {
namespace {

// Waits longer than this are "forever"; capping them keeps deadlines far from the clock's
// overflow, which condition variables and timers handle poorly.
constexpr Duration forever = std::chrono::hours(24 * 365 * 10);

std::chrono::steady_clock::time_point deadline_after(Duration wait) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::min(wait, forever));
}

BulkheadConfig validated(BulkheadConfig config) {
  std::vector<ConfigIssue> issues;
  Bulkhead::validate(config, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return config;
}

// A thread blocked in acquire(); lives on that thread's stack.
class SyncWaiter final : public detail::Waiter {
 public:
  std::condition_variable ready;

 private:
  // Under the mutex, so the waiter cannot return and free `ready` before it is notified.
  void on_settled() noexcept override { ready.notify_one(); }
};

}  // namespace

Bulkhead::Bulkhead(BulkheadConfig config)
    : core_(std::make_shared<detail::BulkheadCore>(validated(std::move(config)))) {}

Bulkhead::~Bulkhead() = default;

Bulkhead::Permit::Permit(Permit&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}

Bulkhead::Permit& Bulkhead::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::exchange(other.core_, nullptr);
  }
  return *this;
}

Bulkhead::Permit::~Permit() { release(); }

void Bulkhead::Permit::release() noexcept {
  if (core_ != nullptr) std::exchange(core_, nullptr)->release_slot();
}

Result<Bulkhead::Permit> Bulkhead::try_acquire() noexcept {
  if (core_->try_take_free_slot()) return Permit(core_.get());
  return core_->reject();
}

Result<Bulkhead::Permit> Bulkhead::acquire() {
  detail::BulkheadCore& core = *core_;
  if (core.try_take_free_slot()) return Permit(&core);
  if (core.config().max_queue == 0) return core.reject();

  SyncWaiter waiter;
  std::unique_lock lock(core.mutex());
  switch (core.enqueue_locked(waiter)) {
    case detail::Admission::granted:
      return Permit(&core);
    case detail::Admission::full:
      lock.unlock();
      return core.reject();
    case detail::Admission::queued:
      break;
  }
  const auto deadline = deadline_after(core.config().max_wait);
  while (waiter.outcome() == detail::WaitOutcome::pending) {
    if (waiter.ready.wait_until(lock, deadline) == std::cv_status::timeout &&
        core.withdraw_locked(waiter, detail::WaitOutcome::timed_out)) {
      lock.unlock();
      core.publish_queue_timeout();
      return make_error_code(errc::bulkhead_full);
    }
  }
  return Permit(&core);  // granted: the releaser handed its slot over
}

boost::asio::awaitable<Result<Bulkhead::Permit>> Bulkhead::async_acquire() {
  if (core_->try_take_free_slot()) co_return Permit(core_.get());
  if (core_->config().max_queue == 0) co_return core_->reject();

  // Only locals are used once the coroutine has suspended.
  std::shared_ptr<detail::BulkheadCore> core = core_;

  auto waiter = std::make_shared<detail::AsyncWaiter>(
      core, co_await boost::asio::this_coro::executor, deadline_after(core->config().max_wait));
  detail::Admission admission{};
  {
    std::lock_guard lock(core->mutex());
    admission = core->enqueue_locked(*waiter);
  }
  switch (admission) {
    case detail::Admission::granted:
      co_return Permit(core.get());
    case detail::Admission::full:
      co_return core->reject();
    case detail::Admission::queued:
      break;
  }

  std::error_code ec = make_error_code(errc::cancelled);
  bool suspended = false;
  try {
    ec = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                              void(std::error_code)>(
        [](auto handler, const std::shared_ptr<detail::AsyncWaiter>& self) {
          self->attach(std::move(handler));
        },
        boost::asio::use_awaitable, waiter);
    suspended = true;
  } catch (const boost::system::system_error&) {
    // Asio refuses to suspend when cancellation was requested while we queued. The wait is
    // abandoned before it began: leave the queue, and pass on a slot granted in between.
  }
  if (!suspended) {
    if (waiter->withdraw()) core->release_slot();
    co_return make_error_code(errc::cancelled);
  }
  if (ec) co_return ec;
  co_return Permit(core.get());
}

BulkheadStats Bulkhead::stats() const noexcept { return core_->stats(); }

Subscription Bulkhead::on_event(std::function<void(const BulkheadEvent&)> listener) {
  return core_->events().subscribe(std::move(listener));
}

const BulkheadConfig& Bulkhead::config() const noexcept { return core_->config(); }

std::string_view Bulkhead::name() const noexcept { return core_->config().name; }

}  // namespace bulwark
