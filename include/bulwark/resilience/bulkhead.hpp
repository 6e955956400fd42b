#pragma once
/// @file
/// `Bulkhead`: bounds how many calls to one service are in flight at once, with an optional,
/// bounded, FIFO queue of callers waiting for a slot. It keeps one slow dependency from
/// tying up every thread or connection of the process.
///
/// A caller asks for a `Permit` (an RAII slot) and holds it for the duration of its call:
///
/// ```
/// bulwark::Bulkhead bulkhead({.name = "qdrant", .max_concurrent = 8, .max_queue = 32,
///                             .max_wait = std::chrono::milliseconds(250)});
/// auto permit = co_await bulkhead.async_acquire();
/// if (!permit) co_return permit.error();  // errc::bulkhead_full or errc::cancelled
/// co_return co_await call_the_service();  // the slot is released when `permit` goes away
/// ```
///
/// Admission: a slot is taken without waiting while one is free and nobody is queued. When
/// every slot is taken, `acquire()` and `async_acquire()` join the queue (if `max_queue > 0`)
/// and wait at most `max_wait`. Queued callers are served strictly first come, first served:
/// a released slot passes directly to the oldest waiter, so a new arrival never overtakes a
/// waiter, not even through `try_acquire()`.
///
/// Thread-safety: every member function may be called concurrently from any threads, and
/// synchronous and asynchronous callers may share one bulkhead.
///
/// Lifetime: the bulkhead must outlive every `Permit` it handed out and every `acquire()` /
/// `async_acquire()` in progress. The io_context that runs a waiting `async_acquire()` may
/// be destroyed before the bulkhead: its waiter then leaves the queue (counted as cancelled)
/// and its coroutine is destroyed, as Asio does for every pending operation.
///
/// Cost: when a slot is free and nobody is queued, taking and releasing a permit is a few
/// atomic operations: no lock, no allocation, no exception. Rejections are `Result` errors,
/// never exceptions. Only callers that actually wait take a mutex; an asynchronous waiter also
/// allocates its wait state and arms one timer.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/resilience/events.hpp"

namespace bulwark {

namespace detail {
class BulkheadCore;
}  // namespace detail

/// How a bulkhead admits calls. Validated by the `Bulkhead` constructor.
struct BulkheadConfig {
  /// Names the bulkhead in events, statistics and metrics (usually the client's name).
  std::string name{};
  /// Calls that may hold a permit at the same time. Must be >= 1.
  std::uint32_t max_concurrent = 25;
  /// Callers that may wait for a slot when all are taken; 0 rejects at once when full.
  std::uint32_t max_queue = 0;
  /// Longest a queued caller waits for a slot before it is rejected. Must be > 0 when
  /// `max_queue > 0`; ignored when `max_queue == 0`. Very large values mean "wait forever".
  Duration max_wait = std::chrono::seconds(1);
};

/// Published when a caller is turned away.
struct BulkheadEvent {
  enum class Type : std::uint8_t {
    rejected,       ///< No slot and no room in the queue (or `try_acquire()` found no slot).
    queue_timeout,  ///< A queued caller waited `max_wait` without getting a slot.
  };
  Type type = Type::rejected;
  /// The bulkhead's name; valid for as long as the bulkhead lives.
  std::string_view bulkhead{};
  /// Permits held just after the rejection.
  std::uint32_t in_flight = 0;
  /// Callers queued just after the rejection.
  std::uint32_t queued = 0;
};

/// A snapshot of a bulkhead's state and lifetime counters. Each field is read atomically on
/// its own; the fields are not one consistent snapshot while calls are running.
struct BulkheadStats {
  std::uint32_t max_concurrent = 0;  ///< The configured limit.
  std::uint32_t in_flight = 0;       ///< Permits held now.
  std::uint32_t queued = 0;          ///< Callers waiting in the queue now.
  std::uint64_t admitted = 0;        ///< Permits granted, at once or after waiting.
  std::uint64_t queued_total = 0;    ///< Callers that had to join the queue.
  std::uint64_t rejected = 0;        ///< Callers turned away at once (no slot, queue full).
  std::uint64_t queue_timeouts = 0;  ///< Queued callers that waited `max_wait` in vain.
  /// Queued callers that stopped waiting: Asio cancellation, or their io_context was destroyed.
  std::uint64_t cancelled = 0;
};

class Bulkhead {
 public:
  /// Throws `ConfigError` listing every invalid field as `bulkhead.<field>`.
  explicit Bulkhead(BulkheadConfig config);
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;
  ~Bulkhead();

  /// One slot of the bulkhead, held until destroyed, moved-from into another permit, or
  /// `release()`d. Move-only. A default-constructed or released permit holds nothing. Must not
  /// outlive the bulkhead that granted it. A permit is not itself thread-safe: use one permit
  /// from one thread at a time (it may be moved to, and released on, another thread).
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    /// Gives the slot back (to the oldest waiter, if any). Does nothing when the permit holds
    /// nothing, so releasing twice is harmless.
    void release() noexcept;
    /// True while the permit holds a slot.
    [[nodiscard]] bool valid() const noexcept { return core_ != nullptr; }

   private:
    friend class Bulkhead;
    explicit Permit(detail::BulkheadCore* core) noexcept : core_(core) {}
    detail::BulkheadCore* core_ = nullptr;
  };

  /// Takes a slot if one is free and nobody is queued; never waits, never locks.
  /// Errors: `errc::bulkhead_full` (a `rejected` event), even when a queue is configured.
  [[nodiscard]] Result<Permit> try_acquire() noexcept;

  /// Takes a slot, blocking the calling thread in the queue for up to `max_wait` when none is
  /// free. Errors: `errc::bulkhead_full` when the queue is full or `max_queue == 0` (a
  /// `rejected` event), or when the wait ran out (a `queue_timeout` event). A synchronous wait
  /// cannot be cancelled; `max_wait` bounds it.
  [[nodiscard]] Result<Permit> acquire();

  /// Takes a slot, suspending the calling coroutine (never blocking its thread) in the queue
  /// for up to `max_wait`. The wait is timed by a timer on the coroutine's executor and the
  /// coroutine is always resumed through that executor, never inside another caller's
  /// `release()`. Errors: as `acquire()`, plus `errc::cancelled` when the coroutine's Asio
  /// cancellation slot fires while it waits (any cancellation type): the waiter leaves the
  /// queue and the slot it would have had goes to the next waiter. As with every awaitable, if
  /// cancellation was already requested before the call, Asio may instead throw
  /// `boost::system::system_error(operation_aborted)` before anything is queued.
  [[nodiscard]] boost::asio::awaitable<Result<Permit>> async_acquire();

  [[nodiscard]] BulkheadStats stats() const noexcept;

  /// Calls `listener` on every rejection and queue timeout, on the thread that observed it
  /// (a caller's thread, or the executor running a timed-out waiter), outside every lock of the
  /// bulkhead. See `EventPublisher` for the rules listeners follow.
  [[nodiscard]] Subscription on_event(std::function<void(const BulkheadEvent&)> listener);

  [[nodiscard]] const BulkheadConfig& config() const noexcept;
  [[nodiscard]] std::string_view name() const noexcept;

  /// Appends one issue per bad field of `config`, with paths `<path>.<field>`: what the
  /// constructor checks, for configuration loaders that report every problem at once.
  static void validate(const BulkheadConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path = "bulkhead");

 private:
  // Shared with asynchronous waiters so that a timer completing after the wait was decided
  // never touches freed memory; permits only borrow it.
  std::shared_ptr<detail::BulkheadCore> core_;
};

}  // namespace bulwark
