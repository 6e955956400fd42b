#pragma once
// Which arguments of a command are keys, for routing it in a Redis Cluster. A table covers the
// commands the typed API sends and the common ones beyond it; `Client` asks a node
// (`COMMAND GETKEYS`) about any other command.

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace bulwark::redis::detail {

/// The keys among `arguments` (the command name first, any case), or nothing when the command
/// is not in the table. A known command without keys (PING, INFO, SCAN) gives an empty list.
[[nodiscard]] std::optional<std::vector<std::string_view>> command_keys(
    std::span<const std::string_view> arguments);

}  // namespace bulwark::redis::detail
