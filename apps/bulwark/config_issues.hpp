#pragma once
// How the subcommands report an invalid configuration: a headline naming the file, then every
// problem on a line of its own with its path (`services.qdrant.pool.max_connections: must be
// >= 1, got 0`). Secrets never appear: the loader keeps them out of its messages.

#include "bulwark/core/error.hpp"

#include <cstdio>
#include <string_view>

namespace bulwark::cli {

/// Writes `headline` ("bulwark.yaml: 2 problems") and then each issue of `error` to `out`.
void print_config_issues(std::FILE* out, std::string_view headline, const ConfigError& error);

/// "bulwark.yaml: 2 problems" / "bulwark.yaml: 1 problem".
[[nodiscard]] std::string problems_headline(std::string_view file, const ConfigError& error);

}  // namespace bulwark::cli
