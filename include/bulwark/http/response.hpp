#pragma once
/// @file
/// `http::Response`: what came back. Every status is a response; `raise_for_status()` turns 4xx
/// and 5xx into errors for callers that want exceptions.

#include "bulwark/http/headers.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace bulwark::http {

struct Response {
  unsigned status = 0;
  std::string reason{};
  Headers headers{};
  /// The body, decoded from chunked transfer coding; empty when the request streamed it.
  std::string body{};
  /// The URL that answered (after redirects), without credentials.
  std::string url{};
  /// The correlation ID that was sent.
  std::string correlation_id{};
  /// Attempts made, including the one that produced this response (retries, stale-connection
  /// resends); redirects are not attempts.
  int attempts = 1;

  [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
    return headers.get(name);
  }
  /// Parses the body as JSON. Throws `bulwark::Error` (`protocol_error`) naming the position of
  /// the first bad byte.
  [[nodiscard]] boost::json::value json() const;
  /// Throws `bulwark::Error` for a 4xx (`http_client_error`) or 5xx (`server_error`) status, with
  /// the status, reason and the start of the body in its detail. Returns `*this` otherwise.
  const Response& raise_for_status() const;
};

}  // namespace bulwark::http
