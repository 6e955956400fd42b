#pragma once
// The soak run's traffic: paced coroutines on the manager's executor calling the HTTP service and
// Redis through the clients the manager hands out, so every call goes through the configured
// retries, breakers and timeouts, and through client rebuilds after failed health checks.
//
// Besides latency and outcomes, it keeps what proves nothing was lost or mixed up:
//  - writes the clients acknowledged (HTTP POST /write?id=N answered 2xx; Redis SET soak:w:N
//    answered OK; INCR soak:counter answered with a number), checked against the servers at the
//    end by the caller;
//  - misdelivered replies: every read asks for something whose answer it knows (GET /echo?n=N
//    echoes its target; GET soak:r:K holds "value-K"), so a reply meant for another call shows.
//
// Thread-safety: every member may be called from any thread.

#include "bulwark/manager/client_manager.hpp"
#include "latency_histogram.hpp"
#include "soak_options.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bulwark::soak {

inline constexpr const char* http_client_name = "soak-http";
inline constexpr const char* redis_client_name = "soak-redis";
/// Keys GET reads (soak:r:0 .. soak:r:<n-1>), written before the traffic starts.
inline constexpr std::size_t redis_read_keys = 100;

/// What one kind of client did.
struct ClientTally {
  bench::Histogram all;        ///< Latency of every call, failures and rejections included.
  bench::Histogram succeeded;  ///< Latency of the calls that succeeded.
  std::map<std::string, std::uint64_t> outcomes;  ///< "success" or the error's name.
};

/// Ids of writes, one bit each (ids are dense: one counter per kind of write).
class IdSet {
 public:
  void insert(std::uint64_t id);
  [[nodiscard]] bool contains(std::uint64_t id) const;
  [[nodiscard]] std::uint64_t size() const;
  /// Every id in the set, ascending.
  [[nodiscard]] std::vector<std::uint64_t> ids() const;

 private:
  mutable std::mutex mutex_;
  std::vector<bool> bits_;
  std::uint64_t size_ = 0;
};

class Traffic {
 public:
  Traffic(ClientManager& manager, const Options& options);
  /// Stops the workers.
  ~Traffic();
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

  void start();
  /// Asks every worker to finish its call and waits for them.
  void stop();

  [[nodiscard]] ClientTally http() const;
  [[nodiscard]] ClientTally redis() const;

  /// Calls and failed calls since the last `reset_window()` (both kinds).
  void reset_window();
  [[nodiscard]] std::uint64_t window_calls() const { return window_calls_.load(); }
  [[nodiscard]] std::uint64_t window_failures() const { return window_failures_.load(); }

  [[nodiscard]] std::uint64_t misdelivered() const { return misdelivered_.load(); }
  [[nodiscard]] const IdSet& http_writes_acknowledged() const { return http_acknowledged_; }
  [[nodiscard]] const IdSet& redis_writes_acknowledged() const { return redis_acknowledged_; }
  [[nodiscard]] std::uint64_t redis_increments_acknowledged() const { return increments_.load(); }

 private:
  struct Tallies {
    mutable std::mutex mutex;
    ClientTally tally;
  };

  boost::asio::awaitable<void> http_worker(std::size_t index);
  boost::asio::awaitable<void> redis_worker(std::size_t index);
  boost::asio::awaitable<void> pace(boost::asio::steady_timer& timer,
                                    std::chrono::steady_clock::time_point& next);
  void count(Tallies& tallies, const std::string& outcome,
             std::chrono::steady_clock::duration took);
  void leave();

  ClientManager& manager_;
  const Options options_;
  Duration period_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable finished_;
  std::size_t running_ = 0;  // guarded by mutex_

  Tallies http_;
  Tallies redis_;
  IdSet http_acknowledged_;
  IdSet redis_acknowledged_;
  std::atomic<std::uint64_t> next_http_write_{0};
  std::atomic<std::uint64_t> next_redis_write_{0};
  std::atomic<std::uint64_t> window_calls_{0};
  std::atomic<std::uint64_t> window_failures_{0};
  std::atomic<std::uint64_t> misdelivered_{0};
  std::atomic<std::uint64_t> increments_{0};
};

}  // namespace bulwark::soak
