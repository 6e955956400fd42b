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
    if (options.classify_result) outcome.error = options.classify_result(*outcome.value);
  } catch (...) {
    detail::capture_current_exception(outcome);
  }
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
        detail::normalize_cancellation(outcome);
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
    if (options.classify_result) outcome.error = options.classify_result(*outcome.value);
  } catch (...) {
    detail::capture_current_exception(outcome);
  }
  detail::normalize_cancellation(outcome);
  co_return outcome;
}

// ---- one attempt: breaker → rate limiter → bulkhead → timeout → call
// ------------------------------

template <class R, class F>
detail::Outcome<R> Pipeline::attempt_sync(F& f, CallContext& context, const CallOptions<R>& options,
                                          Clock::time_point overall) {
  Result<Gate> gate = enter();
  if (!gate) return detail::Outcome<R>::failure(gate.error());
  GateGuard guard(*this, *gate);
  if (gate->limiter_wait > Duration::zero()) clock_->sleep_for(gate->limiter_wait);

  Bulkhead::Permit slot;
  if (bulkhead_) {
    Result<Bulkhead::Permit> taken =
        bulkhead_->config().max_queue == 0 ? bulkhead_->try_acquire() : bulkhead_->acquire();
    if (!taken) return detail::Outcome<R>::failure(taken.error());
    slot = std::move(*taken);
  }

  // Attempt durations use the coarse clock: both readings come from it, and milliseconds suffice.
  Clock::time_point start{};
  if (times_attempts()) {
    start = clock_->coarse_now();
    if (timeout_.attempt > Duration::zero()) context.limit_deadline(start + timeout_.attempt);
  }
  detail::Outcome<R> outcome = invoke_sync<R>(f, context, options);
  const Duration elapsed = times_attempts() ? clock_->coarse_now() - start : Duration::zero();
  if (outcome.succeeded() && ((timeout_.attempt > Duration::zero() && elapsed > timeout_.attempt) ||
                              (overall != Clock::time_point::max() && clock_->now() > overall))) {
    // The call ran to completion, too late: its request certainly reached the service.
    outcome = detail::Outcome<R>::failure(make_error_code(errc::timeout));
    context.mark_sent();
  }
  guard.leave(outcome.error, elapsed);
  return outcome;
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::attempt_async(F& f, CallContext& context,
                                                                   const CallOptions<R>& options) {
  // A coordinated limiter asks state shared with other instances: a round trip, so it is
  // awaited here rather than decided in `enter`.
  const bool coordinated = limiter_ && limiter_->coordinated();
  Result<Gate> gate = enter(coordinated);
  if (!gate) co_return detail::Outcome<R>::failure(gate.error());
  GateGuard guard(*this, *gate);

  // Once the caller's coroutine is cancelled, Asio makes its next co_await throw; every wait here
  // is inside the try, and the guard returns the breaker's permit on any way out.
  detail::Outcome<R> outcome;
  Bulkhead::Permit slot;
  Clock::time_point start{};
  bool admitted = false;
  try {
    if (coordinated) {
      const RateLimiter::Admission admission = co_await limiter_->async_try_acquire();
      if (admission.error) co_return detail::Outcome<R>::failure(admission.error);
      gate->limiter_wait = admission.wait;
    }
    if (gate->limiter_wait > Duration::zero()) {
      outcome.error = co_await detail::async_sleep(*clock_, gate->limiter_wait);
    }
    if (!outcome.error && bulkhead_) {
      Result<Bulkhead::Permit> taken = co_await bulkhead_->async_acquire();
      if (taken) {
        slot = std::move(*taken);
      } else {
        outcome.error = taken.error();
      }
    }
    if (!outcome.error) {
      admitted = true;
      start = clock_->now();
      if (timeout_.attempt > Duration::zero()) {
        context.limit_deadline(start + timeout_.attempt);
        outcome =
            co_await detail::race_timeout(invoke_async<R>(f, context, options), timeout_.attempt);
      } else {
        outcome = co_await invoke_async<R>(f, context, options);
      }
    }
  } catch (...) {
    outcome = detail::Outcome<R>::failure(make_error_code(errc::exception));
    detail::capture_current_exception(outcome);
    detail::normalize_cancellation(outcome);
  }
  if (admitted) guard.leave(outcome.error, clock_->now() - start);
  co_return outcome;
}

// ---- retries --------------------------------------------------------------------------------

template <class R, class F>
detail::Outcome<R> Pipeline::run_sync(F& f, CallContext& context, const CallOptions<R>& options) {
  const Clock::time_point overall = std::min(overall_deadline(), options.deadline);
  if (!retry_) {
    context.begin_attempt(1, overall);
    return attempt_sync<R>(f, context, options, overall);
  }
  Retry::Call call = retry_->begin(overall);
  for (;;) {
    retry_->on_attempt(call);
    context.begin_attempt(call.attempts(), call.deadline());
    detail::Outcome<R> outcome = attempt_sync<R>(f, context, options, overall);
    if (outcome.succeeded()) {
      retry_->on_success(call);
      return outcome;
    }
    const Retry::Decision decision = retry_->on_failure(call, outcome.error, context);
    if (!decision.retry) return outcome;
    clock_->sleep_for(decision.delay);
  }
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::retry_loop_async(
    F& f, CallContext& context, const CallOptions<R>& options) {
  const Clock::time_point overall = std::min(overall_deadline(), options.deadline);
  detail::Outcome<R> outcome;
  try {
    if (!retry_) {
      context.begin_attempt(1, overall);
      outcome = co_await attempt_async<R>(f, context, options);
    } else {
      Retry::Call call = retry_->begin(overall);
      for (;;) {
        retry_->on_attempt(call);
        context.begin_attempt(call.attempts(), call.deadline());
        outcome = co_await attempt_async<R>(f, context, options);
        if (outcome.succeeded()) {
          retry_->on_success(call);
          break;
        }
        const Retry::Decision decision = retry_->on_failure(call, outcome.error, context);
        if (!decision.retry) break;
        if (std::error_code waited = co_await detail::async_sleep(*clock_, decision.delay)) {
          outcome = detail::Outcome<R>::failure(waited);
          break;
        }
      }
    }
  } catch (...) {
    // Only a cancelled caller gets here: Asio refuses the next co_await of a cancelled coroutine.
    outcome = detail::Outcome<R>::failure(make_error_code(errc::exception));
    detail::capture_current_exception(outcome);
    detail::normalize_cancellation(outcome);
  }
  co_return outcome;
}

template <class R, class F>
boost::asio::awaitable<detail::Outcome<R>> Pipeline::run_async(F& f, CallContext& context,
                                                               const CallOptions<R>& options) {
  detail::Outcome<R> outcome;
  try {
    if (timeout_.overall > Duration::zero()) {
      outcome =
          co_await detail::race_timeout(retry_loop_async<R>(f, context, options), timeout_.overall);
    } else {
      outcome = co_await retry_loop_async<R>(f, context, options);
    }
  } catch (...) {
    outcome = detail::Outcome<R>::failure(make_error_code(errc::exception));
    detail::capture_current_exception(outcome);
    detail::normalize_cancellation(outcome);
  }
  co_return outcome;
}

// ---- delivering the outcome -----------------------------------------------------------------

template <class R>
Result<R> Pipeline::settle(detail::Outcome<R>& outcome, const CallOptions<R>& options) {
  if (outcome.error && options.fallback && options.fallback->applies_to(outcome.error)) {
    try {
      if constexpr (std::is_void_v<R>) {
        options.fallback->produce(outcome.error);
        count(outcome.error, true);
        return {};
      } else {
        R value = options.fallback->produce(outcome.error);
        count(outcome.error, true);
        return value;
      }
    } catch (...) {
      count(outcome.error, false);
      throw;
    }
  }
  count(outcome.error, false);
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
