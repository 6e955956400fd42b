#pragma once
/// @file
/// The admission state of a `Bulkhead`, shared by its permits (which borrow it) and its
/// asynchronous waiters (which co-own it, so a timer that fires after the wait was decided
/// never touches freed memory).
///
/// Invariants:
/// - `in_flight_` never exceeds `max_concurrent`; only `take_slot()` increases it, by a CAS.
/// - Under `mutex_`, `waiting_` equals the queue's length. Outside it, it may briefly count one
///   more: a caller that is about to queue and re-tries for a slot first.
/// - A queued waiter is served only by handing it a slot: a release while someone is queued
///   passes its slot on without lowering `in_flight_`, so arrivals cannot overtake the queue.
///
/// The lost wake-up (a releaser sees nobody waiting while a caller, having found the bulkhead
/// full, is about to queue) is excluded by a Dekker handshake on two seq_cst atomics: the
/// queuer raises `waiting_` and then re-reads `in_flight_`; the releaser lowers `in_flight_`
/// and then re-reads `waiting_`. In the single total order of seq_cst operations one of the
/// two sees the other's write, so either the queuer takes the freed slot or the releaser takes
/// the mutex and hands the slot to the queue.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <utility>

#include "bulwark/resilience/bulkhead.hpp"
#include "resilience/detail/waiter_queue.hpp"

namespace bulwark::detail {

/// What became of a caller that could not get a slot at once.
enum class Admission : std::uint8_t {
  granted,  ///< A slot was free after all; the caller holds it and is not queued.
  queued,   ///< The caller is in the queue and will be settled by a grant, timeout or cancel.
  full,     ///< The queue is full; the caller should be rejected.
};

class BulkheadCore {
 public:
  explicit BulkheadCore(BulkheadConfig config) : config_(std::move(config)) {}
  BulkheadCore(const BulkheadCore&) = delete;
  BulkheadCore& operator=(const BulkheadCore&) = delete;

  [[nodiscard]] const BulkheadConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::mutex& mutex() noexcept { return mutex_; }
  [[nodiscard]] EventPublisher<BulkheadEvent>& events() noexcept { return events_; }

  /// The lock-free fast path: takes a slot when one is free and nobody is queued.
  [[nodiscard]] bool try_take_free_slot() noexcept;

  /// Gives a slot back: to the oldest waiter when there is one, otherwise to the pool.
  void release_slot() noexcept;

  /// The slow path, with `mutex()` held: takes a slot if one is free and the queue is empty,
  /// otherwise queues `waiter` unless the queue is full.
  [[nodiscard]] Admission enqueue_locked(Waiter& waiter) noexcept;

  /// With `mutex()` held: removes `waiter` from the queue and settles it with `outcome`
  /// (timed_out, cancelled or abandoned), unless it was settled already. Returns whether it
  /// was still pending: exactly one of a grant and a withdrawal wins.
  bool withdraw_locked(Waiter& waiter, WaitOutcome outcome) noexcept;

  /// Counts a rejection, publishes it, and returns `errc::bulkhead_full`.
  [[nodiscard]] std::error_code reject() noexcept;
  /// Publishes a queue timeout (counted by `withdraw_locked`); call without the mutex.
  void publish_queue_timeout() noexcept;

  [[nodiscard]] BulkheadStats stats() const noexcept;

 private:
  [[nodiscard]] bool take_slot() noexcept;
  void grant_front_locked() noexcept;
  void publish(BulkheadEvent::Type type) noexcept;

  const BulkheadConfig config_;
  std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<std::uint32_t> waiting_{0};
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> queued_total_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> queue_timeouts_{0};
  std::atomic<std::uint64_t> cancelled_{0};
  std::mutex mutex_;
  WaiterQueue queue_;  // guarded by mutex_
  EventPublisher<BulkheadEvent> events_;
};

}  // namespace bulwark::detail
