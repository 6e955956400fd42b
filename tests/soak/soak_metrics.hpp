#pragma once
// Reads figures back from the manager's Prometheus exposition: what the resilience layer did
// (breaker transitions, retries) is counted there across client rebuilds, which the clients' own
// statistics are not.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace bulwark::soak {

/// The samples of counter `family` whose `client` label is `client`, keyed by their other labels
/// as `name=value,...` in exposition order ("" when there are none).
[[nodiscard]] std::map<std::string, std::uint64_t> client_samples(std::string_view exposition,
                                                                  std::string_view family,
                                                                  std::string_view client);

/// `client_samples` of `bulwark_circuit_breaker_transitions_total` keyed "from->to".
[[nodiscard]] std::map<std::string, std::uint64_t> breaker_transitions(std::string_view exposition,
                                                                       std::string_view client);

/// `bulwark_retries_total` of `client`.
[[nodiscard]] std::uint64_t retries(std::string_view exposition, std::string_view client);

}  // namespace bulwark::soak
