#include "bulwark/redis/sentinel.hpp"

#include "bulwark/redis/connection.hpp"
#include "redis/detail/sentinel_query.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace bulwark::redis {
namespace detail {
namespace {

namespace asio = boost::asio;

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// A field of one entry of SENTINEL REPLICAS: a map over RESP3, a flat list of pairs over RESP2.
std::optional<std::string_view> field(const Value& entry, std::string_view name) {
  if (entry.type() == Type::map) {
    const Value* found = entry.find(name);
    if (found != nullptr && found->is_string()) return found->as_string();
    return std::nullopt;
  }
  if (entry.type() != Type::array) return std::nullopt;
  const std::span<const Value> items = entry.elements();
  for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].is_string() && items[i].as_string() == name && items[i + 1].is_string()) {
      return items[i + 1].as_string();
    }
  }
  return std::nullopt;
}

// The master's address from GET-MASTER-ADDR-BY-NAME, or why there is none.
std::optional<Endpoint> read_master(const Value& reply, const SentinelConfig& config,
                                    std::string& why) {
  if (reply.is_null()) {
    why = fmt::format("does not monitor a master named \"{}\"", config.master_name);
    return std::nullopt;
  }
  if (reply.is_aggregate() && reply.size() == 2 && reply.at(0).is_string() &&
      reply.at(1).is_string()) {
    if (const std::optional<std::uint16_t> port = parse_port(reply.at(1).as_string())) {
      return Endpoint{std::string(reply.at(0).as_string()), *port};
    }
  }
  why = fmt::format("unexpected reply {}", reply.to_string(100));
  return std::nullopt;
}

std::optional<std::vector<Endpoint>> read_replicas(const Value& reply, std::string& why) {
  if (!reply.is_aggregate()) {
    why = fmt::format("unexpected reply {}", reply.to_string(100));
    return std::nullopt;
  }
  std::vector<Endpoint> healthy;
  for (const Value& entry : reply.elements()) {
    const std::optional<std::string_view> ip = field(entry, "ip");
    const std::optional<std::string_view> port_text = field(entry, "port");
    const std::string_view flags = field(entry, "flags").value_or("");
    const std::string_view link = field(entry, "master-link-status").value_or("");
    if (!ip || !port_text) continue;
    const std::optional<std::uint16_t> port = parse_port(*port_text);
    const bool down = flags.find("s_down") != std::string_view::npos ||
                      flags.find("o_down") != std::string_view::npos ||
                      flags.find("disconnected") != std::string_view::npos;
    if (!port || down || link != "ok") continue;
    healthy.push_back({std::string(*ip), *port});
  }
  return healthy;
}

// Asks the sentinels `command` in order; `read` turns a reply into the answer or says why not.
template <class T, class Read>
asio::awaitable<T> ask(asio::any_io_executor executor, const SentinelConfig& config,
                       const Command& command, Read read, std::atomic<std::uint64_t>* failures) {
  std::string reasons;
  for (const Endpoint& node : config.nodes) {
    std::string why;
    std::shared_ptr<Connection> connection;
    ConnectionConfig settings = sentinel_connection(config, node);
    try {
      connection = co_await Connection::connect(executor, std::move(settings));
    } catch (const Error& error) {
      why = error.what();
    }
    if (connection) {
      Result<Value> reply = co_await connection->execute(command, config.timeout);
      connection->close();
      if (!reply) {
        why = reply.error().message();
      } else if (reply->is_error()) {
        why = std::string(reply->error_message());
      } else if (std::optional<T> answer = read(*reply, why)) {
        co_return std::move(*answer);
      }
    }
    if (failures != nullptr) failures->fetch_add(1, std::memory_order_relaxed);
    reasons += fmt::format("{}sentinel {}: {}", reasons.empty() ? "" : "; ", to_string(node), why);
  }
  throw Error(
      make_error_code(errc::connect_failed), {},
      fmt::format("no sentinel answered for master \"{}\" ({})", config.master_name, reasons));
}

}  // namespace

ConnectionConfig sentinel_connection(const SentinelConfig& config, const Endpoint& node) {
  ConnectionConfig connection;
  connection.host = node.host;
  connection.port = node.port;
  connection.tls = config.tls;
  connection.username = config.username;
  connection.password = config.password;
  connection.connect_timeout = config.timeout;
  return connection;
}

asio::awaitable<Endpoint> query_master(asio::any_io_executor executor, const SentinelConfig& config,
                                       std::atomic<std::uint64_t>* failures) {
  const Command command = make_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", config.master_name);
  auto read = [&config](const Value& reply, std::string& why) {
    return read_master(reply, config, why);
  };
  co_return co_await ask<Endpoint>(std::move(executor), config, command, read, failures);
}

asio::awaitable<std::vector<Endpoint>> query_replicas(asio::any_io_executor executor,
                                                      const SentinelConfig& config,
                                                      std::atomic<std::uint64_t>* failures) {
  const Command command = make_command("SENTINEL", "REPLICAS", config.master_name);
  auto read = [](const Value& reply, std::string& why) { return read_replicas(reply, why); };
  co_return co_await ask<std::vector<Endpoint>>(std::move(executor), config, command, read,
                                                failures);
}

}  // namespace detail

boost::asio::awaitable<Endpoint> discover_master(boost::asio::any_io_executor executor,
                                                 SentinelConfig config) {
  co_return co_await detail::query_master(std::move(executor), config);
}

boost::asio::awaitable<std::vector<Endpoint>> discover_replicas(
    boost::asio::any_io_executor executor, SentinelConfig config) {
  co_return co_await detail::query_replicas(std::move(executor), config);
}

}  // namespace bulwark::redis
