#pragma once
/// @file
/// The bulkhead's queue of waiting callers: an intrusive FIFO list, so that queuing a
/// synchronous caller allocates nothing (its waiter lives on its stack) and removing a waiter
/// that timed out or was cancelled from the middle of the queue is O(1).
///
/// Thread-safety: none of its own; the bulkhead's mutex guards the queue and every waiter's
/// `outcome`.

#include <cstddef>
#include <cstdint>

namespace bulwark::detail {

/// How a wait ended; `pending` while the waiter is queued. Exactly one transition away from
/// `pending` happens, under the bulkhead's mutex, which is what makes a grant racing a timeout
/// or a cancellation lose nothing.
enum class WaitOutcome : std::uint8_t {
  pending,    ///< Still queued.
  granted,    ///< Handed a slot, which the waiter now owns.
  timed_out,  ///< Waited `max_wait` in vain.
  cancelled,  ///< The caller stopped waiting.
  abandoned,  ///< The caller's execution context was destroyed; there is nobody to tell.
};

class Waiter {
 public:
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
  virtual ~Waiter() = default;

  [[nodiscard]] WaitOutcome outcome() const noexcept { return outcome_; }

  /// Records the outcome and tells the waiting party, with the bulkhead's mutex held: it must
  /// neither block nor run a caller's code.
  void settle(WaitOutcome outcome) noexcept {
    outcome_ = outcome;
    on_settled();
  }

 private:
  friend class WaiterQueue;
  virtual void on_settled() noexcept = 0;

  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  WaitOutcome outcome_ = WaitOutcome::pending;
};

class WaiterQueue {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  void push_back(Waiter& waiter) noexcept {
    waiter.prev_ = tail_;
    waiter.next_ = nullptr;
    if (tail_ != nullptr) {
      tail_->next_ = &waiter;
    } else {
      head_ = &waiter;
    }
    tail_ = &waiter;
    ++size_;
  }

  /// Removes and returns the oldest waiter, or nullptr when empty.
  Waiter* pop_front() noexcept {
    Waiter* front = head_;
    if (front != nullptr) remove(*front);
    return front;
  }

  /// Removes `waiter`, which must be in this queue.
  void remove(Waiter& waiter) noexcept {
    if (waiter.prev_ != nullptr) {
      waiter.prev_->next_ = waiter.next_;
    } else {
      head_ = waiter.next_;
    }
    if (waiter.next_ != nullptr) {
      waiter.next_->prev_ = waiter.prev_;
    } else {
      tail_ = waiter.prev_;
    }
    waiter.prev_ = nullptr;
    waiter.next_ = nullptr;
    --size_;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bulwark::detail
