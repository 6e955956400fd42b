#pragma once
/// @file
/// What a protected call knows about itself and tells the policies around it.
///
/// The pipeline creates one `CallContext` per call and passes it to the callee on every attempt:
/// the callee reads the attempt number and deadline, and reports back whether its request may
/// have reached the service (`mark_sent`) and when the service asked to be called again
/// (`set_retry_after`). Retry uses both: it never re-sends a non-idempotent request that was
/// sent, and it honours the service's hint for the next delay.
///
/// Thread-safety: a context belongs to one call; use it from one thread at a time.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"

#include <optional>
#include <string_view>

namespace bulwark {

/// Whether sending a request twice is harmless.
enum class Idempotency : unsigned char {
  idempotent,      ///< Safe to repeat (GET, PUT, DELETE, a Redis GET, a request with an idempotency
                   ///< key).
  non_idempotent,  ///< Must not be repeated once it may have reached the service (a POST).
};

class CallContext {
 public:
  explicit CallContext(std::string_view operation = {},
                       Idempotency idempotency = Idempotency::idempotent) noexcept
      : operation_(operation), idempotency_(idempotency) {}

  /// Name of the operation, for errors and metrics ("search", "GET"). Not owned.
  [[nodiscard]] std::string_view operation() const noexcept { return operation_; }
  [[nodiscard]] Idempotency idempotency() const noexcept { return idempotency_; }

  /// 1 for the first attempt, 2 for the first retry, ...; 0 before the first attempt starts.
  [[nodiscard]] int attempt() const noexcept { return attempt_; }

  /// The time by which the current attempt must finish (`Clock::time_point::max()` if none):
  /// the earlier of the attempt timeout and the overall deadline. Clients use it to bound their
  /// own waits.
  [[nodiscard]] Clock::time_point deadline() const noexcept { return deadline_; }
  [[nodiscard]] bool has_deadline() const noexcept { return deadline_ != Clock::time_point::max(); }

  /// The callee reports that its request may have reached the service (bytes were written).
  void mark_sent() noexcept { sent_ = true; }
  /// True once the current attempt called `mark_sent()`.
  [[nodiscard]] bool sent() const noexcept { return sent_; }

  /// The service asked to be called again after `delay` (HTTP `Retry-After`, a rate limiter).
  void set_retry_after(Duration delay) noexcept { retry_after_ = delay; }
  [[nodiscard]] std::optional<Duration> retry_after() const noexcept { return retry_after_; }

  /// Used by the pipeline at the start of each attempt: numbers it, sets its deadline, and clears
  /// what the previous attempt reported.
  void begin_attempt(int attempt, Clock::time_point deadline) noexcept {
    attempt_ = attempt;
    deadline_ = deadline;
    sent_ = false;
    retry_after_.reset();
  }
  /// Used by the pipeline to tighten the current deadline (never to extend it).
  void limit_deadline(Clock::time_point deadline) noexcept {
    if (deadline < deadline_) deadline_ = deadline;
  }

 private:
  std::string_view operation_;
  Idempotency idempotency_;
  int attempt_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool sent_ = false;
  std::optional<Duration> retry_after_;
};

}  // namespace bulwark
