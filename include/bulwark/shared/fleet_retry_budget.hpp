#pragma once
/// @file
/// `shared::FleetRetryBudget`: one retry budget for every instance of an application, so that
/// "retries <= ratio * calls" holds for the fleet's traffic, not per process.
///
/// Calls and retries are counted in Redis per time bucket (the budget's window divided into
/// `RetryBudget::bucket_count` buckets, by the server's clock), in one hash per budget. Every
/// `sync_interval` this instance publishes what its `RetryBudget` recorded since the previous
/// publication and reads the fleet's totals over the window back, in one round trip (one Lua
/// script); the budget then decides each retry from the fleet's totals last seen plus its own
/// counts since. Decisions stay local and cost no round trip; the price is that the other
/// instances' counts are up to one `sync_interval` (plus a round trip) old.
///
/// When the server does not answer within `timeout`, the budget goes back to its own window
/// (`RetryBudget::clear_fleet_totals`) until a publication succeeds again; counts taken for the
/// failed publication stay in the local window but never reach the fleet's.
///
/// Thread-safety: every member may be called concurrently. Lifetime: create it with
/// `std::make_shared`; the loop `start` runs holds it only during a publication, and ends when
/// the object is gone or stopped.

#include "bulwark/redis/client.hpp"
#include "bulwark/redis/script.hpp"
#include "bulwark/resilience/retry_budget.hpp"
#include "bulwark/shared/fleet_rate_limiter.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace bulwark::shared {

struct FleetRetryBudgetConfig {
  /// The Redis key of the budget's hash (prefix and budget name).
  std::string key{};
  /// Bound on one publication round trip; > 0.
  Duration timeout = std::chrono::milliseconds(50);
  /// Time between publications; > 0.
  Duration sync_interval = std::chrono::milliseconds(250);
};

class FleetRetryBudget : public std::enable_shared_from_this<FleetRetryBudget> {
 public:
  /// Throws `ConfigError` for an empty key or a non-positive interval; `client` and `budget`
  /// must not be null.
  FleetRetryBudget(std::shared_ptr<redis::Client> client, std::shared_ptr<RetryBudget> budget,
                   FleetRetryBudgetConfig config);

  /// One publication: adds the counts recorded since the last one, reads the fleet's totals and
  /// hands them to the budget. True when it reached the server.
  boost::asio::awaitable<bool> sync();

  /// Runs `sync()` every `sync_interval` on `executor` until `stop()`. Once only.
  void start(boost::asio::any_io_executor executor);
  /// Ends the loop after its current wait; the budget keeps its last state.
  void stop() noexcept;

  /// True while a publication is in flight (for an orderly shutdown: close the client, then
  /// wait for this to turn false before the executor goes away).
  [[nodiscard]] bool publishing() const noexcept;

  [[nodiscard]] bool coordinated() const noexcept;
  /// `shared_decisions` counts successful publications, `local_decisions` failed ones.
  [[nodiscard]] FleetStats stats() const noexcept;
  [[nodiscard]] const std::shared_ptr<RetryBudget>& budget() const noexcept { return budget_; }

  /// KEYS[1] the hash; ARGV bucket width (ms), buckets per window, calls, retries. Replies
  /// `{calls, retries}` over the window, the new counts included.
  [[nodiscard]] static const redis::Script& script();

 private:
  std::shared_ptr<redis::Client> client_;
  std::shared_ptr<RetryBudget> budget_;
  FleetRetryBudgetConfig config_;
  std::int64_t bucket_ms_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> coordinated_{false};
  std::atomic<int> publishing_{0};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace bulwark::shared
