#include "bulwark/core/clock.hpp"

#include <ctime>
#include <thread>

namespace bulwark {

Clock::time_point SteadyClock::coarse_now() const noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return time_point{std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec)};
}

void SteadyClock::sleep_for(duration d) {
  if (d > duration::zero()) std::this_thread::sleep_for(d);
}

std::shared_ptr<Clock> steady_clock() {
  static const std::shared_ptr<Clock> instance = std::make_shared<SteadyClock>();
  return instance;
}

void ManualClock::sleep_for(duration d) {
  if (d <= duration::zero()) return;
  sleeps_.fetch_add(1, std::memory_order_acq_rel);
  slept_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  advance(d);
}

void ManualClock::advance(duration d) noexcept {
  if (d > duration::zero()) now_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
}

void ManualClock::set(time_point t) noexcept {
  std::int64_t current = now_ns_.load(std::memory_order_acquire);
  const std::int64_t target = t.time_since_epoch().count();
  while (target > current &&
         !now_ns_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) {
  }
}

}  // namespace bulwark
