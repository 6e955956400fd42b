#include "manager/client_metrics.hpp"

#include "bulwark/observe/catalogue.hpp"

namespace bulwark::detail {
namespace catalogue = observe::catalogue;

ClientMetrics::ClientMetrics(std::shared_ptr<observe::Registry> registry, std::string client)
    : registry_(std::move(registry)),
      client_(std::move(client)),
      calls_(registry_->counter(catalogue::client_calls())),
      duration_(registry_->histogram(catalogue::client_call_duration()).labels({client_})),
      retries_(registry_->counter(catalogue::retries()).labels({client_})),
      transitions_(registry_->counter(catalogue::circuit_breaker_transitions())),
      rejected_by_breaker_(
          registry_->counter(catalogue::rejections()).labels({client_, "circuit_open"})),
      rejected_by_bulkhead_(
          registry_->counter(catalogue::rejections()).labels({client_, "bulkhead_full"})),
      rejected_by_limiter_(
          registry_->counter(catalogue::rejections()).labels({client_, "rate_limited"})),
      pool_wait_timeouts_(registry_->counter(catalogue::pool_wait_timeouts()).labels({client_})) {}

CallObserver ClientMetrics::observer() {
  return [self = shared_from_this()](const CallRecord& record) { self->on_call(record); };
}

observe::Counter& ClientMetrics::outcome_counter(const std::error_code& error) {
  // Outcomes are a fixed set of words: "success", a bulwark error's name, or "other" for
  // errors of other categories (whose names could be anything).
  std::atomic<observe::Counter*>* slot = &other_;
  std::string outcome = "other";
  if (!error) {
    slot = &by_code_[0];
    outcome = "success";
  } else if (error.category() == error_category() && error.value() > 0 &&
             static_cast<std::size_t>(error.value()) < outcomes) {
    slot = &by_code_[static_cast<std::size_t>(error.value())];
    outcome = error_name(error);
  }
  if (observe::Counter* counter = slot->load(std::memory_order_acquire)) return *counter;
  observe::Counter& counter = calls_.labels({client_, outcome});
  slot->store(&counter, std::memory_order_release);
  return counter;
}

void ClientMetrics::on_call(const CallRecord& record) noexcept {
  calls_total_.fetch_add(1, std::memory_order_relaxed);
  if (record.error) errors_total_.fetch_add(1, std::memory_order_relaxed);
  try {
    outcome_counter(record.error).inc();
  } catch (...) {  // NOLINT(bugprone-empty-catch): metrics must never fail a call.
  }
  duration_.observe(record.elapsed);
  if (record.error == errc::circuit_open) {
    rejected_by_breaker_.inc();
  } else if (record.error == errc::bulkhead_full) {
    rejected_by_bulkhead_.inc();
  } else if (record.error == errc::rate_limited) {
    rejected_by_limiter_.inc();
  } else if (record.error == errc::pool_timeout) {
    pool_wait_timeouts_.inc();
  }
}

void ClientMetrics::watch(Pipeline& pipeline) {
  std::lock_guard lock(subscriptions_mutex_);
  if (Retry* retry = pipeline.retry()) {
    subscriptions_.push_back(retry->on_event([self = shared_from_this()](const RetryEvent& event) {
      if (event.type == RetryEvent::Type::retry) self->retries_.inc();
    }));
  }
  if (CircuitBreaker* breaker = pipeline.circuit_breaker()) {
    subscriptions_.push_back(
        breaker->on_event([self = shared_from_this()](const BreakerEvent& event) {
          if (event.type != BreakerEvent::Type::state_changed) return;
          self->transitions_
              .labels({self->client_, std::string(to_string(event.from)),
                       std::string(to_string(event.to))})
              .inc();
        }));
  }
}

}  // namespace bulwark::detail
