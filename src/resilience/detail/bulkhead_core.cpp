#include "resilience/detail/bulkhead_core.hpp"

#include "bulwark/core/error.hpp"

namespace bulwark::detail {

// Every access to in_flight_ and waiting_ that takes part in the Dekker handshake is seq_cst
// (see the header); on x86 and ARMv8 that costs nothing beyond the atomic RMW itself.

bool BulkheadCore::take_slot() noexcept {
  std::uint32_t current = in_flight_.load(std::memory_order_seq_cst);
  while (current < config_.max_concurrent) {
    if (in_flight_.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst)) {
      return true;
    }
  }
  return false;
}

bool BulkheadCore::try_take_free_slot() noexcept {
  // With anyone queued, a free slot belongs to the queue (a releaser is about to hand it on).
  if (waiting_.load(std::memory_order_seq_cst) != 0 || !take_slot()) return false;
  admitted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void BulkheadCore::grant_front_locked() noexcept {
  Waiter* waiter = queue_.pop_front();
  waiting_.fetch_sub(1, std::memory_order_seq_cst);
  admitted_.fetch_add(1, std::memory_order_relaxed);
  waiter->settle(WaitOutcome::granted);
}

void BulkheadCore::release_slot() noexcept {
  if (waiting_.load(std::memory_order_seq_cst) != 0) {
    std::lock_guard lock(mutex_);
    if (!queue_.empty()) {
      grant_front_locked();  // the slot changes hands; in_flight_ stays as it is
      return;
    }
  }
  in_flight_.fetch_sub(1, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst) == 0) return;
  // Someone queued (or is queuing) after our first look. Either they re-read in_flight_ after
  // our decrement and took the slot themselves, or they are in the queue now and we take the
  // slot back for them. If take_slot() fails, another caller took the slot in between; its
  // own release will serve the queue.
  std::lock_guard lock(mutex_);
  if (!queue_.empty() && take_slot()) grant_front_locked();
}

Admission BulkheadCore::enqueue_locked(Waiter& waiter) noexcept {
  if (queue_.empty()) {
    waiting_.fetch_add(1, std::memory_order_seq_cst);
    if (take_slot()) {
      waiting_.fetch_sub(1, std::memory_order_seq_cst);
      admitted_.fetch_add(1, std::memory_order_relaxed);
      return Admission::granted;
    }
  } else {
    // Others are waiting, so there is no free slot to take: it would be theirs.
    if (queue_.size() >= config_.max_queue) return Admission::full;
    waiting_.fetch_add(1, std::memory_order_seq_cst);
  }
  queue_.push_back(waiter);
  queued_total_.fetch_add(1, std::memory_order_relaxed);
  return Admission::queued;
}

bool BulkheadCore::withdraw_locked(Waiter& waiter, WaitOutcome outcome) noexcept {
  if (waiter.outcome() != WaitOutcome::pending) return false;
  queue_.remove(waiter);
  waiting_.fetch_sub(1, std::memory_order_seq_cst);
  auto& counter = outcome == WaitOutcome::timed_out ? queue_timeouts_ : cancelled_;
  counter.fetch_add(1, std::memory_order_relaxed);
  waiter.settle(outcome);
  return true;
}

void BulkheadCore::publish(BulkheadEvent::Type type) noexcept {
  if (!events_.has_listeners()) return;
  events_.publish(BulkheadEvent{type, config_.name, in_flight_.load(std::memory_order_relaxed),
                                waiting_.load(std::memory_order_relaxed)});
}

std::error_code BulkheadCore::reject() noexcept {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  publish(BulkheadEvent::Type::rejected);
  return make_error_code(errc::bulkhead_full);
}

void BulkheadCore::publish_queue_timeout() noexcept { publish(BulkheadEvent::Type::queue_timeout); }

BulkheadStats BulkheadCore::stats() const noexcept {
  return BulkheadStats{
      .max_concurrent = config_.max_concurrent,
      .in_flight = in_flight_.load(std::memory_order_relaxed),
      .queued = waiting_.load(std::memory_order_relaxed),
      .admitted = admitted_.load(std::memory_order_relaxed),
      .queued_total = queued_total_.load(std::memory_order_relaxed),
      .rejected = rejected_.load(std::memory_order_relaxed),
      .queue_timeouts = queue_timeouts_.load(std::memory_order_relaxed),
      .cancelled = cancelled_.load(std::memory_order_relaxed),
  };
}

}  // namespace bulwark::detail
