#pragma once
// The metrics of one configured client, kept across rebuilds of the client so that counters
// only ever go up: calls by outcome, call durations, rejections, pool wait timeouts (all from
// the client's call observer), retries and breaker transitions (from the strategies' events).

#include "bulwark/core/call_observer.hpp"
#include "bulwark/observe/registry.hpp"
#include "bulwark/resilience/pipeline.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bulwark::detail {

class ClientMetrics : public std::enable_shared_from_this<ClientMetrics> {
 public:
  ClientMetrics(std::shared_ptr<observe::Registry> registry, std::string client);

  // For the client's config; it keeps these metrics (and the registry) alive.
  [[nodiscard]] CallObserver observer();
  // Counts the retries and breaker transitions of a newly built client's pipeline.
  void watch(Pipeline& pipeline);

  void on_call(const CallRecord& record) noexcept;

  // Completed calls and failed ones, for ClientManager::call_stats().
  [[nodiscard]] std::uint64_t calls() const noexcept {
    return calls_total_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t errors() const noexcept {
    return errors_total_.load(std::memory_order_relaxed);
  }

 private:
  observe::Counter& outcome_counter(const std::error_code& error);

  std::shared_ptr<observe::Registry> registry_;
  std::string client_;
  observe::CounterFamily& calls_;
  observe::Histogram& duration_;
  observe::Counter& retries_;
  observe::CounterFamily& transitions_;
  observe::Counter& rejected_by_breaker_;
  observe::Counter& rejected_by_bulkhead_;
  observe::Counter& rejected_by_limiter_;
  observe::Counter& pool_wait_timeouts_;
  // Outcome counters by bulwark error value (0 = success), resolved on first use.
  static constexpr std::size_t outcomes = 64;
  std::array<std::atomic<observe::Counter*>, outcomes> by_code_{};
  std::atomic<observe::Counter*> other_{nullptr};
  // The sums of the outcome counters, kept apart so that reading them needs no label lookup.
  std::atomic<std::uint64_t> calls_total_{0};
  std::atomic<std::uint64_t> errors_total_{0};
  std::mutex subscriptions_mutex_;
  std::vector<Subscription> subscriptions_;
};

}  // namespace bulwark::detail
