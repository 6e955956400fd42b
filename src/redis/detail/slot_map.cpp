#include "redis/detail/slot_map.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace bulwark::redis::detail {
namespace {

std::error_code malformed() { return make_error_code(errc::protocol_error); }

// A field of a RESP3 map, or of RESP2's flat array of alternating names and values.
const Value* field(const Value& record, std::string_view name) {
  if (record.type() == Type::map) return record.find(name);
  if (record.type() != Type::array) return nullptr;
  const std::span<const Value> flat = record.elements();
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    if (flat[i].is_string() && flat[i].as_string() == name) return &flat[i + 1];
  }
  return nullptr;
}

std::optional<std::int64_t> integer(const Value* value) {
  if (value == nullptr) return std::nullopt;
  if (value->type() == Type::integer) return value->as_integer();
  if (value->is_string()) {
    std::int64_t number = 0;
    const std::string_view text = value->as_string();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc{} && end == text.data() + text.size()) return number;
  }
  return std::nullopt;
}

std::string_view text(const Value* value) {
  return value != nullptr && value->is_string() ? value->as_string() : std::string_view{};
}

bool valid_slot(std::int64_t slot) { return slot >= 0 && slot < cluster_slot_count; }

bool valid_port(std::int64_t port) { return port > 0 && port <= 65535; }

std::string host_or(std::string_view host, std::string_view asked_host) {
  return host.empty() || host == "?" ? std::string(asked_host) : std::string(host);
}

}  // namespace

std::optional<Redirect> parse_redirect(const Value& reply, std::string_view asked_host) {
  if (!reply.is_error()) return std::nullopt;
  const std::string_view prefix = reply.error_prefix();
  Redirect redirect;
  if (prefix == "MOVED") {
    redirect.kind = Redirect::Kind::moved;
  } else if (prefix == "ASK") {
    redirect.kind = Redirect::Kind::ask;
  } else {
    return std::nullopt;
  }
  // "MOVED 3999 127.0.0.1:6381"
  std::string_view rest = reply.error_message().substr(prefix.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const std::size_t space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + space, slot);
  if (ec != std::errc{} || end != rest.data() + space || slot >= cluster_slot_count) {
    return std::nullopt;
  }
  redirect.slot = static_cast<std::uint16_t>(slot);
  std::string_view endpoint = rest.substr(space + 1);
  while (!endpoint.empty() && (endpoint.back() == ' ' || endpoint.back() == '\r')) {
    endpoint.remove_suffix(1);
  }
  // Redis writes the address as "ip:port" without brackets, IPv6 included ("2001:db8::1:7000"):
  // the port is what follows the last colon. A node that does not know its own address names
  // only the port (":7000").
  const std::size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port_text = endpoint.substr(colon + 1);
  unsigned port = 0;
  const auto [port_end, port_ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_ec != std::errc{} || port_end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  redirect.node.host = std::string(host.empty() ? asked_host : host);
  redirect.node.port = static_cast<std::uint16_t>(port);
  if (redirect.node.host.empty()) return std::nullopt;
  return redirect;
}

Result<SlotMap> SlotMap::from_shards(const Value& reply, std::string_view asked_host, bool tls) {
  if (reply.type() != Type::array) return malformed();
  SlotMap map;
  for (const Value& shard : reply.elements()) {
    const Value* slots = field(shard, "slots");
    const Value* nodes = field(shard, "nodes");
    if (slots == nullptr || nodes == nullptr || slots->type() != Type::array ||
        nodes->type() != Type::array || slots->size() % 2 != 0) {
      return malformed();
    }
    std::optional<NodeAddress> master;
    for (const Value& node : nodes->elements()) {
      if (text(field(node, "role")) != "master") continue;
      const std::string_view health = text(field(node, "health"));
      if (!health.empty() && health != "online") continue;
      std::optional<std::int64_t> port = integer(field(node, "port"));
      if (tls) {
        if (const std::optional<std::int64_t> tls_port = integer(field(node, "tls-port"))) {
          port = tls_port;
        }
      }
      if (!port || !valid_port(*port)) return malformed();
      std::string_view host = text(field(node, "endpoint"));
      if (host.empty() || host == "?") host = text(field(node, "ip"));
      master = NodeAddress{host_or(host, asked_host), static_cast<std::uint16_t>(*port)};
      break;
    }
    if (!master) continue;  // a shard whose master failed serves nothing until a failover
    const std::span<const Value> ranges = slots->elements();
    for (std::size_t i = 0; i < ranges.size(); i += 2) {
      const std::optional<std::int64_t> first = integer(&ranges[i]);
      const std::optional<std::int64_t> last = integer(&ranges[i + 1]);
      if (!first || !last || !valid_slot(*first) || !valid_slot(*last) || *first > *last) {
        return malformed();
      }
      map.assign_range(static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last),
                       *master);
    }
  }
  return map;
}

Result<SlotMap> SlotMap::from_slots(const Value& reply, std::string_view asked_host) {
  if (reply.type() != Type::array) return malformed();
  SlotMap map;
  for (const Value& range : reply.elements()) {
    if (range.type() != Type::array || range.size() < 3) return malformed();
    const std::optional<std::int64_t> first = integer(&range.at(0));
    const std::optional<std::int64_t> last = integer(&range.at(1));
    const Value& master = range.at(2);
    if (!first || !last || !valid_slot(*first) || !valid_slot(*last) || *first > *last ||
        master.type() != Type::array || master.size() < 2) {
      return malformed();
    }
    const std::string_view host = master.at(0).is_null() ? std::string_view{} : text(&master.at(0));
    const std::optional<std::int64_t> port = integer(&master.at(1));
    if (!port || !valid_port(*port)) return malformed();
    map.assign_range(static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last),
                     NodeAddress{host_or(host, asked_host), static_cast<std::uint16_t>(*port)});
  }
  return map;
}

const NodeAddress* SlotMap::owner(std::uint16_t slot) const noexcept {
  if (slot >= cluster_slot_count) return nullptr;
  const std::uint16_t index = owners_[slot];
  return index == unowned ? nullptr : &nodes_[index];
}

void SlotMap::assign(std::uint16_t slot, const NodeAddress& node) {
  if (slot < cluster_slot_count) owners_[slot] = index_of(node);
}

std::size_t SlotMap::covered() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(owners_.begin(), owners_.end(), [](std::uint16_t i) { return i != unowned; }));
}

void SlotMap::assign_range(std::uint16_t first, std::uint16_t last, const NodeAddress& node) {
  const std::uint16_t index = index_of(node);
  std::fill(owners_.begin() + first, owners_.begin() + last + 1, index);
}

std::uint16_t SlotMap::index_of(const NodeAddress& node) {
  const auto found = std::find(nodes_.begin(), nodes_.end(), node);
  if (found != nodes_.end()) return static_cast<std::uint16_t>(found - nodes_.begin());
  nodes_.push_back(node);
  return static_cast<std::uint16_t>(nodes_.size() - 1);
}

}  // namespace bulwark::redis::detail
