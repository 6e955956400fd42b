#pragma once
/// @file
/// The settings of a `shared::SharedBreaker`, apart from the mechanism itself, so that
/// configuration code can hold and check them without the Redis machinery.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::shared {

struct SharedBreakerConfig {
  /// The breaker's name in the fleet: instances that use the same name (and prefix) share it.
  std::string name{};
  /// Prefix of every Redis key, and of the default channel.
  std::string key_prefix = "bulwark:";
  /// Pub/sub channel of the transitions; empty = `<key_prefix>breaker:<name>`.
  std::string channel{};
  /// Instances that may probe (be HALF_OPEN) at once, fleet-wide; >= 1. The fleet then runs at
  /// most `probing_instances * half_open_permitted_calls` probe calls at once.
  std::uint32_t probing_instances = 1;
  /// How long a probe slot is held before others may ask again; 0 = the breaker's
  /// `max_half_open_duration`, or its `recovery_timeout` when that is 0 (at least 1 s).
  Duration probe_lease = Duration::zero();
  /// This instance's identity in messages; empty = `<hostname>-<pid>-<random>`. No `|`. It must
  /// differ on every instance: an instance drops messages carrying its own identity as echoes,
  /// so instances given the same one never hear each other. Leave it empty unless each instance
  /// sets its own (`${HOSTNAME}`, say).
  std::string instance_id{};
};

/// Appends one issue per bad field of `config`, with paths `<path>.<field>`.
void validate(const SharedBreakerConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "circuit_breaker");

}  // namespace bulwark::shared
