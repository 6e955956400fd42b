#pragma once
// The Redis side of the file: `redis` and its `databases`.

#include "bulwark/manager/config.hpp"
#include "manager/detail/policy_sections.hpp"
#include "manager/detail/yaml_reader.hpp"

#include <vector>

namespace bulwark::detail {

/// Reads the `redis` section: one database per entry of `databases` (a db number, or a map that
/// overrides the connection), each starting from the section's own settings; without
/// `databases`, one database named "default". Nothing when the section is absent.
void read_redis(LoadContext& context, const YAML::Node& redis, const Policies& policies,
                std::vector<RedisDatabaseConfig>& out, std::vector<Origins>& origins);

}  // namespace bulwark::detail
