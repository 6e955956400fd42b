#pragma once
// Validation of a ManagerConfig, shared by the public `validate` (configs built in code: paths
// are spelled as YAML keys under the client's section) and the loader (paths of the keys that
// set each value, from the `Origins` recorded while reading).

#include "bulwark/manager/config.hpp"
#include "manager/detail/yaml_reader.hpp"

#include <vector>

namespace bulwark::detail {

/// Where each client's fields came from, parallel to `ManagerConfig::services` and `::redis`.
struct ConfigOrigins {
  std::vector<Origins> services{};
  std::vector<Origins> redis{};
};

/// Appends one issue per problem. `origins` may be null (a config built in code).
void validate_config(const ManagerConfig& config, std::vector<ConfigIssue>& issues,
                     const ConfigOrigins* origins);

/// The problems of an HTTP client config that come from fields recorded in `origins` only: how
/// the loader checks the `defaults` and `http_pool` sections on their own.
void validate_http_defaults(const http::ClientConfig& client, const Origins& origins,
                            std::vector<ConfigIssue>& issues);

/// Characters a service or database name may use: letters, digits, '_', '-' and '.'.
[[nodiscard]] bool is_valid_name(std::string_view name) noexcept;

}  // namespace bulwark::detail
