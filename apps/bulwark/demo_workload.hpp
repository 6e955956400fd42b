#pragma once
// The demo's traffic: coroutines on the manager's executor that call the HTTP service (GET
// /items/<n>) and Redis (SET and GET of a few keys), each at a fixed pace, through the clients
// the manager hands out — so every call goes through the resilience pipeline that the
// configuration describes, and is counted in the manager's metrics.
//
// Besides the calls, it keeps what the metrics cannot tell: when the first call succeeded after a
// service came back, and the retry figures of every client object it used (the manager rebuilds
// a failed client, and each new one starts its own statistics).
//
// Thread-safety: every member may be called from any thread. Lifetime: the manager must outlive
// the workload; `stop()` (also run by the destructor) returns once no worker runs.

#include "bulwark/core/duration.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace bulwark::cli {

enum class ClientKind { http, redis };

struct WorkloadOptions {
  std::size_t http_workers = 4;
  std::size_t redis_workers = 2;
  /// Calls each worker starts per second, at most (a worker waits for its call to end first).
  double calls_per_second = 20;
};

/// Retry figures summed over every client object of one kind the workload used.
struct RetryTotals {
  std::uint64_t retries = 0;                ///< Attempts made after a failed one.
  std::uint64_t succeeded_after_retry = 0;  ///< Calls that failed at first and then succeeded.
  std::uint64_t failed_after_retry = 0;     ///< Calls that failed on every attempt.
};

class Workload {
 public:
  Workload(ClientManager& manager, WorkloadOptions options = {});
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void start();
  /// Asks every worker to finish and waits up to `limit` for them.
  void stop(Duration limit = std::chrono::seconds(5));

  /// Starts timing a recovery of `kind`: the time from now to its next successful call.
  void mark(ClientKind kind);
  /// That time, once a call succeeded after the last `mark`.
  [[nodiscard]] std::optional<Duration> recovered_after(ClientKind kind) const;

  [[nodiscard]] RetryTotals retry_totals(ClientKind kind) const;
  /// The breaker state of the newest client of `kind`, read now ("closed", "open", ...), or
  /// "none" before the first call.
  [[nodiscard]] std::string breaker_state(ClientKind kind) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bulwark::cli
