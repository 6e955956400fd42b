#pragma once
// State that lives for one scrape (the samples collectors emit) and the list of collectors, which
// handles reach through a weak_ptr so that they may outlive their registry.

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bulwark/observe/collector.hpp"

namespace bulwark::observe::detail {

struct CollectedSample {
  std::vector<std::string> labels{};
  double value = 0.0;
};

struct Scrape {
  /// Samples per collected family, indexed by the family's index; grown on demand, because
  /// collectors may register families while they run.
  std::vector<std::vector<CollectedSample>> collected{};
};

struct CollectorSet {
  /// Held while collectors run, and to add or remove one: removal thereby waits for a scrape
  /// in progress, which is what lets a collector refer to objects that die with its handle.
  std::mutex mutex;
  std::uint64_t next_id = 1;
  std::vector<std::pair<std::uint64_t, Collector>> collectors{};
};

}  // namespace bulwark::observe::detail
