#pragma once
// From the fields of client configs, as the struct validators name them ("timeouts.connect",
// "connection.database"), to the keys of the YAML file ("pool.connect_timeout", "db").

#include "manager/detail/yaml_reader.hpp"

#include <string>
#include <string_view>

namespace bulwark::detail {

enum class ClientKind { http, redis };

/// The YAML spelling of `field` in a service (http) or database (redis) section.
[[nodiscard]] std::string yaml_field(ClientKind kind, std::string_view field);

/// Where a problem with `field` belongs: the key that set it when `origins` knows it, otherwise
/// `<fallback>.<yaml_field(field)>` (a value nobody wrote: the library's default).
[[nodiscard]] std::string locate(ClientKind kind, std::string_view field, const Origins* origins,
                                 std::string_view fallback);

}  // namespace bulwark::detail
