#pragma once
// Template definitions of bulwark::Pipeline; included at the end of pipeline.hpp.

#include "bulwark/resilience/detail/async_sleep.hpp"

#include <algorithm>

namespace bulwark {

// ---- invoking the callable ------------------------------------------------------------------

template <class R, class F>
detail::Outcome<R> Pipeline::invoke_sync(F& f, CallContext& context,
                                         const CallOptions<R>& options) {
  using Raw = detail::raw_return_t<F>;
  detail::Outcome<R> outcome;
  if constexpr (!detail::takes_context_v<F>) {
    if (context.idempotency() == Idempotency::non_idempotent) context.mark_sent();
  }
  try {
    auto call = [&]() -> Raw {
      if constexpr (detail::takes_context_v<F>) {
        return f(context);
      } else {
        return f();
      }
    };
    if constexpr (detail::unwrap_result<Raw>::is_result) {
      auto result = call();
      if (!result) {
        outcome.error = result.error();
        return outcome;
      }
      if constexpr (std::is_void_v<R>) {
        outcome.value.emplace();
      } else {
        outcome.value.emplace(std::move(*result));
      }
    } else if constexpr (std::is_void_v<R>) {
      call();
      outcome.value.emplace();
    } else {
      outcome.value.emplace(call());
    }
  } catch (...) {
    detail::capture_current_exception(outcome);
    return outcome;
  }
  if (options.classify_result) outcome.error = options.classify_result(*outcome.value);
  return outcome;
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::invoke_async(F& f, CallContext& context,
                                                                  const CallOptions<R>& options) {
  using Awaited = typename detail::unwrap_awaitable<detail::raw_return_t<F>>::type;
  detail::Outcome<R> outcome;
  if constexpr (!detail::takes_context_v<F>) {
    if (context.idempotency() == Idempotency::non_idempotent) context.mark_sent();
  }
  try {
    auto start = [&] {
      if constexpr (detail::takes_context_v<F>) {
        return f(context);
      } else {
        return f();
      }
    };
    if constexpr (detail::unwrap_result<Awaited>::is_result) {
      auto result = co_await start();
      if (!result) {
        outcome.error = result.error();
        co_return outcome;
      }
      if constexpr (std::is_void_v<R>) {
        outcome.value.emplace();
      } else {
        outcome.value.emplace(std::move(*result));
      }
    } else if constexpr (std::is_void_v<R>) {
      co_await start();
      outcome.value.emplace();
    } else {
      outcome.value.emplace(co_await start());
    }
  } catch (...) {
    detail::capture_current_exception(outcome);
    if (outcome.error == std::errc::operation_canceled) {
      outcome.error = make_error_code(errc::cancelled);
    }
    co_return outcome;
  }
  if (options.classify_result) outcome.error = options.classify_result(*outcome.value);
  co_return outcome;
}

// ---- one attempt: breaker → rate limiter → bulkhead → timeout → call
// ------------------------------

template <class R, class F>
detail::Outcome<R> Pipeline::attempt_sync(F& f, CallContext& context,
                                          const CallOptions<R>& options) {
  Result<Gate> gate = enter();
  if (!gate) return detail::Outcome<R>::failure(gate.error());
  if (gate->limiter_wait > Duration::zero()) clock_->sleep_for(gate->limiter_wait);

  Bulkhead::Permit slot;
  if (bulkhead_) {
    Result<Bulkhead::Permit> taken =
        bulkhead_->config().max_queue == 0 ? bulkhead_->try_acquire() : bulkhead_->acquire();
    if (!taken) {
      abandon(*gate);
      return detail::Outcome<R>::failure(taken.error());
    }
    slot = std::move(*taken);
  }

  Clock::time_point start{};
  if (times_attempts()) {
    start = clock_->coarse_now();
    if (timeout_.attempt > Duration::zero()) context.limit_deadline(start + timeout_.attempt);
  }
  detail::Outcome<R> outcome = invoke_sync<R>(f, context, options);
  Duration elapsed{};
  if (times_attempts()) {
    const Clock::time_point end = clock_->coarse_now();
    elapsed = end - start;
    if (context.has_deadline() && end > context.deadline() && outcome.succeeded()) {
      // The call ran to completion, too late: its request certainly reached the service.
      outcome = detail::Outcome<R>::failure(make_error_code(errc::timeout));
      context.mark_sent();
    }
  }
  leave(*gate, outcome.error, elapsed);
  return outcome;
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::attempt_async(F& f, CallContext& context,
                                                                   const CallOptions<R>& options) {
  Result<Gate> gate = enter();
  if (!gate) co_return detail::Outcome<R>::failure(gate.error());
  if (gate->limiter_wait > Duration::zero()) {
    if (std::error_code waited = co_await detail::async_sleep(*clock_, gate->limiter_wait)) {
      abandon(*gate);
      co_return detail::Outcome<R>::failure(waited);
    }
  }

  Bulkhead::Permit slot;
  if (bulkhead_) {
    Result<Bulkhead::Permit> taken = co_await bulkhead_->async_acquire();
    if (!taken) {
      abandon(*gate);
      co_return detail::Outcome<R>::failure(taken.error());
    }
    slot = std::move(*taken);
  }

  const Clock::time_point start = clock_->now();
  detail::Outcome<R> outcome;
  if (timeout_.attempt > Duration::zero()) {
    context.limit_deadline(start + timeout_.attempt);
    outcome = co_await detail::race_timeout(invoke_async<R>(f, context, options), timeout_.attempt);
  } else {
    outcome = co_await invoke_async<R>(f, context, options);
  }
  leave(*gate, outcome.error, clock_->now() - start);
  co_return outcome;
}

// ---- retries --------------------------------------------------------------------------------

template <class R, class F>
detail::Outcome<R> Pipeline::run_sync(F& f, CallContext& context, const CallOptions<R>& options) {
  const Clock::time_point overall = overall_deadline(*clock_, &Clock::coarse_now);
  if (!retry_) {
    context.begin_attempt(1, overall);
    return attempt_sync<R>(f, context, options);
  }
  Retry::Call call = retry_->begin();
  const Clock::time_point deadline = std::min(overall, call.deadline());
  for (;;) {
    retry_->on_attempt(call);
    context.begin_attempt(call.attempts(), deadline);
    detail::Outcome<R> outcome = attempt_sync<R>(f, context, options);
    if (outcome.succeeded()) {
      retry_->on_success(call);
      return outcome;
    }
    const Retry::Decision decision = retry_->on_failure(call, outcome.error, context);
    if (!decision.retry || clock_->coarse_now() + decision.delay >= overall) return outcome;
    clock_->sleep_for(decision.delay);
  }
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::retry_loop_async(
    F& f, CallContext& context, const CallOptions<R>& options) {
  const Clock::time_point overall = overall_deadline(*clock_, &Clock::now);
  if (!retry_) {
    context.begin_attempt(1, overall);
    co_return co_await attempt_async<R>(f, context, options);
  }
  Retry::Call call = retry_->begin();
  const Clock::time_point deadline = std::min(overall, call.deadline());
  for (;;) {
    retry_->on_attempt(call);
    context.begin_attempt(call.attempts(), deadline);
    detail::Outcome<R> outcome = co_await attempt_async<R>(f, context, options);
    if (outcome.succeeded()) {
      retry_->on_success(call);
      co_return outcome;
    }
    const Retry::Decision decision = retry_->on_failure(call, outcome.error, context);
    if (!decision.retry || clock_->now() + decision.delay >= overall) co_return outcome;
    if (std::error_code waited = co_await detail::async_sleep(*clock_, decision.delay)) {
      co_return detail::Outcome<R>::failure(waited);
    }
  }
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::run_async(F& f, CallContext& context,
                                                               const CallOptions<R>& options) {
  if (timeout_.overall > Duration::zero()) {
    co_return co_await detail::race_timeout(retry_loop_async<R>(f, context, options),
                                            timeout_.overall);
  }
  co_return co_await retry_loop_async<R>(f, context, options);
}

// ---- delivering the outcome -----------------------------------------------------------------

template <class R>
Result<R> Pipeline::settle(detail::Outcome<R>& outcome, const CallOptions<R>& options) {
  const bool fell_back =
      outcome.error && options.fallback && options.fallback->applies_to(outcome.error);
  count(outcome.error, fell_back);
  if (fell_back) {
    if constexpr (std::is_void_v<R>) {
      options.fallback->produce(outcome.error);
      return {};
    } else {
      return options.fallback->produce(outcome.error);
    }
  }
  if (outcome.value) {
    // Success, or a value the classifier judged a failure with no attempt left: the caller gets it.
    if constexpr (std::is_void_v<R>) {
      return {};
    } else {
      return std::move(*outcome.value);
    }
  }
  return outcome.error;
}

template <class R>
R Pipeline::value_or_throw(Result<R> result, const detail::Outcome<R>& outcome,
                           const CallContext& context) {
  if (!result) {
    if (outcome.exception) std::rethrow_exception(outcome.exception);
    throw_failure(result.error(), context);
  }
  if constexpr (!std::is_void_v<R>) return std::move(*result);
}

template <class R>
Result<R> Pipeline::result_or_rethrow(Result<R> result, const detail::Outcome<R>& outcome) {
  if (!result && outcome.exception && result.error() == errc::exception) {
    std::rethrow_exception(outcome.exception);
  }
  return result;
}

}  // namespace bulwark
