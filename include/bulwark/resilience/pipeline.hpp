#pragma once
/// @file
/// A pipeline composes the resilience strategies around a call, always in this order, from the
/// outside in:
///
///     fallback → retry → circuit breaker → rate limiter → bulkhead → timeout → call
///
/// - *fallback* sees only the final failure, after every retry;
/// - *retry* repeats whole passes through the inner strategies, so each attempt asks the breaker,
///   the rate limiter and the bulkhead again, and a rejection is itself an outcome retry judges
///   (by default rejections are not retried);
/// - the *circuit breaker* counts every attempt's outcome, but not local rejections by the rate
///   limiter or bulkhead, which say nothing about the service;
/// - the *rate limiter* may delay an attempt (up to its `max_wait`) before it takes a bulkhead
/// slot;
/// - the *bulkhead* bounds concurrent attempts, and the *timeout* covers the call alone, so waiting
///   for admission never eats into an attempt's time.
/// An overall timeout (`TimeoutConfig::overall`) bounds the whole call, retries included.
///
/// Every strategy is optional. A pipeline is built from a `PipelineConfig` (it then owns its
/// strategies) or from `PipelineParts` (strategies shared with other pipelines, e.g. one breaker
/// for every client of a service).
///
/// Synchronous use:
///
///     bulwark::Pipeline pipeline({.name = "qdrant", .retry = bulwark::RetryConfig{},
///                                 .circuit_breaker = bulwark::CircuitBreakerConfig{}});
///     auto hits = pipeline.execute([&](bulwark::CallContext& ctx) { return search(query,
///     ctx.deadline()); },
///                                  {.operation = "search"});
///
/// Asynchronous use (inside a coroutine):
///
///     auto hits = co_await pipeline.execute_async(
///         [&](bulwark::CallContext& ctx) { return async_search(query, ctx.deadline()); });
///
/// The callable may take a `CallContext&` or nothing, and may return `T`, `Result<T>`, or (for
/// the async forms) `awaitable<T>` / `awaitable<Result<T>>`. It reports failure by returning an
/// error `Result` or by throwing; a `std::system_error` is judged by its code, any other exception
/// counts as `errc::exception`, and the exception itself reaches the caller unchanged.
///
/// Errors: `execute` throws `ServiceUnavailable` (breaker open, or the last attempt failed with an
/// `unavailable` error), `Error` for other bulwark failures (its `attempt()` tells how many
/// attempts were made), or the callable's own exception. `try_execute` returns the error code
/// instead and does not allocate or throw when a strategy rejects the call; only a foreign
/// exception thrown by the callable propagates.
///
/// Thread-safety: a pipeline is used concurrently by any number of threads and coroutines. The
/// strategies must outlive every call in flight. The callable and the options passed to the async
/// forms are moved into the coroutine frame; whatever the callable refers to must outlive the call.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/random.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/resilience/bulkhead.hpp"
#include "bulwark/resilience/call_context.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/resilience/detail/outcome.hpp"
#include "bulwark/resilience/fallback.hpp"
#include "bulwark/resilience/rate_limiter.hpp"
#include "bulwark/resilience/retry.hpp"
#include "bulwark/resilience/timeout.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

/// A pipeline described as data; each present section builds its strategy.
struct PipelineConfig {
  /// The protected client's name; it appears in errors and events.
  std::string name{};
  std::optional<RetryConfig> retry{};
  std::optional<CircuitBreakerConfig> circuit_breaker{};
  std::optional<RateLimiterConfig> rate_limiter{};
  std::optional<BulkheadConfig> bulkhead{};
  TimeoutConfig timeout{};
  /// Given to every strategy whose own clock is unset; null → `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Given to every strategy whose own random source is unset; null → each seeds its own.
  std::shared_ptr<Random> random{};
};

/// Strategies built elsewhere, possibly shared with other pipelines. Null members are absent.
struct PipelineParts {
  std::shared_ptr<Retry> retry{};
  std::shared_ptr<CircuitBreaker> circuit_breaker{};
  std::shared_ptr<RateLimiter> rate_limiter{};
  std::shared_ptr<Bulkhead> bulkhead{};
  TimeoutConfig timeout{};
};

/// Per-call options. `T` is the value the call returns (`void` allowed).
template <class T>
struct CallOptions {
  /// Name of the operation, for errors ("search", "GET /collections"). Not owned: it must outlive
  /// the call (a string literal usually does).
  std::string_view operation;
  /// A non-idempotent call is never retried once its request may have reached the service (the
  /// callable says so with `CallContext::mark_sent()`; a callable that does not take a context is
  /// assumed to have sent its request whenever it ran).
  Idempotency idempotency = Idempotency::idempotent;
  /// Judges a returned value: a non-empty code makes the value count as that failure for the
  /// breaker and retry (an HTTP 503 reply, say). When no attempt is left, the value itself is
  /// returned to the caller, unless a fallback applies.
  std::function<std::error_code(const detail::stored_t<T>&)> classify_result{};
  /// What to return instead of failing.
  std::optional<Fallback<T>> fallback{};
  /// A deadline for this call alone, retries included (e.g. a request's own total timeout):
  /// no retry starts after it and every attempt sees it in `CallContext::deadline()`. Unlike
  /// `TimeoutConfig::overall` it is not enforced by cancelling the attempt: the callee bounds
  /// its own work by the context's deadline. `time_point::max()` = none.
  Clock::time_point deadline = Clock::time_point::max();
};

/// Counters of calls through one pipeline (not of attempts: the strategies count those).
struct PipelineStats {
  std::uint64_t succeeded = 0;  ///< Calls that returned a value (fallbacks excluded).
  std::uint64_t failed = 0;     ///< Calls that ended in an error the service caused.
  std::uint64_t rejected = 0;   ///< Calls ended by a local rejection (breaker, limiter, bulkhead).
  std::uint64_t fallbacks = 0;  ///< Calls answered by the fallback.
};

namespace detail {

template <class F>
inline constexpr bool takes_context_v = std::is_invocable_v<F&, CallContext&>;

template <class F>
using raw_return_t =
    typename std::conditional_t<takes_context_v<F>, std::invoke_result<F&, CallContext&>,
                                std::invoke_result<F&>>::type;

template <class F>
using sync_value_t = typename unwrap_result<raw_return_t<F>>::type;

template <class F>
using async_value_t =
    typename unwrap_result<typename unwrap_awaitable<raw_return_t<F>>::type>::type;

}  // namespace detail

class Pipeline {
 public:
  /// Builds every configured strategy. Throws `ConfigError` listing the problems of all of them.
  explicit Pipeline(PipelineConfig config);
  /// Uses strategies built elsewhere.
  Pipeline(std::string name, PipelineParts parts, std::shared_ptr<Clock> clock = nullptr);

  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Runs `f` through the pipeline; returns its value or throws (see the file comment).
  template <class F, class R = detail::sync_value_t<F>>
  R execute(F&& f, CallOptions<R> options = {}) {
    CallContext context(options.operation, options.idempotency);
    detail::Outcome<R> outcome = run_sync<R>(f, context, options);
    return value_or_throw(settle(outcome, options), outcome, context);
  }

  /// Like `execute`, but failures come back as the error of the `Result`.
  template <class F, class R = detail::sync_value_t<F>>
  Result<R> try_execute(F&& f, CallOptions<R> options = {}) {
    CallContext context(options.operation, options.idempotency);
    detail::Outcome<R> outcome = run_sync<R>(f, context, options);
    return result_or_rethrow(settle(outcome, options), outcome);
  }

  /// Runs the awaitable that `f` returns through the pipeline. Waits (rate limiter, bulkhead queue,
  /// retry delays) suspend the coroutine instead of blocking; timeouts cancel the operation.
  /// Cancelling the awaiting coroutine cancels the call; it then fails with `errc::cancelled`.
  template <class F, class R = detail::async_value_t<F>>
  boost::asio::awaitable<R> execute_async(F f, CallOptions<R> options = {}) {
    CallContext context(options.operation, options.idempotency);
    detail::Outcome<R> outcome = co_await run_async<R>(f, context, options);
    co_return value_or_throw(settle(outcome, options), outcome, context);
  }

  /// Like `execute_async`, but failures come back as the error of the `Result`.
  template <class F, class R = detail::async_value_t<F>>
  boost::asio::awaitable<Result<R>> try_execute_async(F f, CallOptions<R> options = {}) {
    CallContext context(options.operation, options.idempotency);
    detail::Outcome<R> outcome = co_await run_async<R>(f, context, options);
    co_return result_or_rethrow(settle(outcome, options), outcome);
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The strategies; null when absent. Use them for stats, events and manual control.
  [[nodiscard]] Retry* retry() const noexcept { return retry_.get(); }
  [[nodiscard]] CircuitBreaker* circuit_breaker() const noexcept { return breaker_.get(); }
  [[nodiscard]] RateLimiter* rate_limiter() const noexcept { return limiter_.get(); }
  [[nodiscard]] Bulkhead* bulkhead() const noexcept { return bulkhead_.get(); }
  [[nodiscard]] const TimeoutConfig& timeout() const noexcept { return timeout_; }
  [[nodiscard]] PipelineStats stats() const noexcept;

  /// When the breaker is open (or forced open) and not yet due to let a probe through, counts a
  /// rejection as a call would and returns `circuit_open`; otherwise returns nothing and counts
  /// nothing. For clients that would otherwise build a request, or throw, only to be turned
  /// away: checked first, it keeps a rejected call well under a microsecond. Calls with a
  /// fallback must go through `execute` instead, which runs the fallback on rejection.
  [[nodiscard]] std::error_code reject_if_open() noexcept;

 private:
  // Admission through the breaker and the rate limiter, decided without waiting.
  struct Gate {
    CircuitBreaker::Permit permit{};
    bool has_permit = false;
    Duration limiter_wait{};
  };

  // Returns the breaker's permit on every way out of an attempt: `leave` with the outcome, or,
  // if the attempt ends any other way (a rejection after the breaker, an exception), `abandon`.
  class GateGuard {
   public:
    GateGuard(Pipeline& pipeline, const Gate& gate) noexcept : pipeline_(pipeline), gate_(gate) {}
    GateGuard(const GateGuard&) = delete;
    GateGuard& operator=(const GateGuard&) = delete;
    ~GateGuard() {
      if (!settled_) pipeline_.abandon(gate_);
    }
    void leave(const std::error_code& error, Duration elapsed) noexcept {
      settled_ = true;
      pipeline_.leave(gate_, error, elapsed);
    }

   private:
    Pipeline& pipeline_;
    Gate gate_;
    bool settled_ = false;
  };

  void finish_construction(std::vector<ConfigIssue> issues);
  // `coordinated_limiter`: the caller asks a coordinated rate limiter itself, asynchronously.
  [[nodiscard]] Result<Gate> enter(bool coordinated_limiter = false) noexcept;
  void leave(const Gate& gate, const std::error_code& error, Duration elapsed) noexcept;
  void abandon(const Gate& gate) noexcept;
  [[nodiscard]] bool times_attempts() const noexcept { return timed_; }
  // time_point::max() without an overall timeout; reads the clock only with one.
  [[nodiscard]] Clock::time_point overall_deadline() const noexcept;
  void count(const std::error_code& error, bool fell_back) noexcept;
  [[noreturn]] void throw_failure(const std::error_code& error, const CallContext& context) const;

  template <class R, class F>
  detail::Outcome<R> invoke_sync(F& f, CallContext& context, const CallOptions<R>& options);
  template <class R, class F>
  detail::Outcome<R> attempt_sync(F& f, CallContext& context, const CallOptions<R>& options,
                                  Clock::time_point overall);
  template <class R, class F>
  detail::Outcome<R> run_sync(F& f, CallContext& context, const CallOptions<R>& options);

  template <class R, class F>
  boost::asio::awaitable<detail::Outcome<R>> invoke_async(F& f, CallContext& context,
                                                          const CallOptions<R>& options);
  template <class R, class F>
  boost::asio::awaitable<detail::Outcome<R>> attempt_async(F& f, CallContext& context,
                                                           const CallOptions<R>& options);
  template <class R, class F>
  boost::asio::awaitable<detail::Outcome<R>> retry_loop_async(F& f, CallContext& context,
                                                              const CallOptions<R>& options);
  template <class R, class F>
  boost::asio::awaitable<detail::Outcome<R>> run_async(F& f, CallContext& context,
                                                       const CallOptions<R>& options);

  template <class R>
  Result<R> settle(detail::Outcome<R>& outcome, const CallOptions<R>& options);
  template <class R>
  R value_or_throw(Result<R> result, const detail::Outcome<R>& outcome, const CallContext& context);
  template <class R>
  Result<R> result_or_rethrow(Result<R> result, const detail::Outcome<R>& outcome);

  std::string name_{};
  std::shared_ptr<Clock> clock_{};
  std::shared_ptr<Retry> retry_{};
  std::shared_ptr<CircuitBreaker> breaker_{};
  std::shared_ptr<RateLimiter> limiter_{};
  std::shared_ptr<Bulkhead> bulkhead_{};
  TimeoutConfig timeout_{};
  bool timed_ = false;  // sync attempts need timing: an attempt timeout or slow-call detection

  std::atomic<std::uint64_t> succeeded_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> fallbacks_{0};
};

}  // namespace bulwark

#include "bulwark/resilience/detail/pipeline_impl.hpp"
