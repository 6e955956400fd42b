#pragma once
// The soak run's fault schedule: one thread per proxy switches a fault on for a random while,
// then off for a random while, until stopped. Which fault, and for how long, comes from a seeded
// generator, so a run's schedule is repeatable (the traffic around it is not: it depends on
// the scheduler).

#include "bulwark/core/duration.hpp"
#include "support/fault_proxy.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::soak {

/// One fault: its name in the report, how to switch it on (off is `FaultProxy::clear`).
struct Fault {
  std::string name;
  std::function<void(test::FaultProxy&)> apply;
};

/// The faults that make sense in front of any TCP service.
[[nodiscard]] std::vector<Fault> network_faults();

class FaultSchedule {
 public:
  /// `target` names the proxy in the report ("http", "redis"). `extra` are faults of that
  /// service besides the network ones, such as restarting redis-server: an action taken when the
  /// fault begins (clearing the proxy at its end undoes nothing of it).
  FaultSchedule(std::string target, test::FaultProxy& proxy, std::uint64_t seed,
                std::vector<Fault> extra = {});
  ~FaultSchedule();
  FaultSchedule(const FaultSchedule&) = delete;
  FaultSchedule& operator=(const FaultSchedule&) = delete;

  void start();
  /// Ends the current fault, clears the proxy and joins the thread.
  void stop();

  /// How many times each fault was switched on.
  [[nodiscard]] std::map<std::string, std::uint64_t> counts() const;
  /// Total time faults were on.
  [[nodiscard]] Duration faulty_time() const;

 private:
  void run();

  std::string target_;
  test::FaultProxy& proxy_;
  std::uint64_t seed_;
  std::vector<Fault> faults_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;  // guards wake_ (with stopping_), counts_, faulty_
  std::condition_variable wake_;
  std::map<std::string, std::uint64_t> counts_;
  Duration faulty_{};
  std::thread thread_;
};

}  // namespace bulwark::soak
