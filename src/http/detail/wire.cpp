#include "http/detail/wire.hpp"

#include "bulwark/http/headers.hpp"

#include <fmt/format.h>

namespace bulwark::http::detail {
namespace {

void add_field(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

// True when a Connection field's comma-separated options include "close".
bool asks_to_close(std::string_view value) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view option = value.substr(0, comma);
    while (!option.empty() && (option.front() == ' ' || option.front() == '\t'))
      option.remove_prefix(1);
    while (!option.empty() && (option.back() == ' ' || option.back() == '\t'))
      option.remove_suffix(1);
    if (iequals(option, "close")) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool has_payload_method(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

WireRequest make_wire(const ClientConfig& config, const Request& request, const Target& target,
                      std::string_view correlation_id, bool send_auth) {
  WireRequest wire;
  wire.body = request.body;
  wire.head_method = request.method == "HEAD";
  std::string& head = wire.head;
  head.reserve(256 + target.target.size());
  head.append(request.method).append(" ").append(target.target).append(" HTTP/1.1\r\n");
  add_field(head, "Host", target.host_header);

  const Headers& own = request.headers;
  if (!config.user_agent.empty() && !own.contains("User-Agent") &&
      !config.headers.contains("User-Agent")) {
    add_field(head, "User-Agent", config.user_agent);
  }
  if (send_auth && config.auth.scheme != AuthScheme::none) {
    const bool bearer = config.auth.scheme == AuthScheme::bearer;
    const std::string_view name =
        bearer ? std::string_view("Authorization") : std::string_view(config.auth.header_name);
    if (!own.contains(name)) {
      head.append(name).append(": ");
      if (bearer) head.append("Bearer ");
      head.append(config.auth.token.reveal()).append("\r\n");
    }
  }
  if (!config.correlation_header.empty() && !own.contains(config.correlation_header)) {
    add_field(head, config.correlation_header, correlation_id);
  }
  for (const auto& [name, value] : config.headers) {
    if (!own.contains(name)) add_field(head, name, value);
  }
  // The body sent is the request's: its framing is this function's to state.
  for (const auto& [name, value] : own) {
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
    if (iequals(name, "Connection") && asks_to_close(value)) wire.keep_alive = false;
    add_field(head, name, value);
  }
  if (config.pool.keepalive_expiry <= Duration::zero() ||
      config.pool.max_keepalive_connections == 0) {
    // The connection is closed after this request: say so.
    if (wire.keep_alive) add_field(head, "Connection", "close");
    wire.keep_alive = false;
  }
  if (!request.body.empty() || has_payload_method(request.method)) {
    const fmt::format_int length(request.body.size());
    add_field(head, "Content-Length", std::string_view(length.data(), length.size()));
  }
  head.append("\r\n");
  return wire;
}

}  // namespace bulwark::http::detail
