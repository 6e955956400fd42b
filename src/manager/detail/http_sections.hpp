#pragma once
// The HTTP side of the file: `http_pool` and `services.<name>`.

#include "bulwark/manager/config.hpp"
#include "manager/detail/policy_sections.hpp"
#include "manager/detail/yaml_reader.hpp"

#include <vector>

namespace bulwark::detail {

/// What every service starts from: the library's defaults, then `defaults`, then `http_pool`.
struct HttpBase {
  http::ClientConfig client{};
  Origins origins{};
};

[[nodiscard]] HttpBase read_http_base(LoadContext& context, const Policies& policies,
                                      const YAML::Node& http_pool);

/// Reads every service of the `services` map, in file order, with the origins of their fields.
void read_services(LoadContext& context, const YAML::Node& services, const HttpBase& base,
                   std::vector<HttpServiceConfig>& out, std::vector<Origins>& origins);

}  // namespace bulwark::detail
