#pragma once
/// @file
/// `http::Request`: what to send. A plain value built with named constructors and chained
/// setters:
///
///     auto request = bulwark::http::Request::post("/collections/docs/points/search")
///                        .json({{"vector", {0.1, 0.2}}, {"limit", 5}})
///                        .header("X-Tenant", "acme")
///                        .timeout(std::chrono::seconds(2));
///
/// The URL is absolute ("https://host/path") or relative to the client's `base_url`
/// ("/collections", "collections" — both are appended to the base URL's path). Query parameters
/// added with `query()` are percent-encoded and appended to any query the URL already has.

#include "bulwark/core/duration.hpp"
#include "bulwark/http/headers.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::http {

/// Receives a response body piece by piece (see `Request::stream_to`). Throwing from it aborts
/// the request: the connection is closed and the exception reaches the caller.
using BodyCallback = std::function<void(std::string_view chunk)>;

struct Request {
  /// An HTTP token: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, or any other method.
  std::string method = "GET";
  std::string url{};
  Headers headers{};
  /// Query parameters, appended to the URL's own query in this order.
  std::vector<std::pair<std::string, std::string>> query_params{};
  std::string body{};
  /// Bound on the whole request, retries and redirects included; overrides the client's
  /// `timeouts.total`. Absent = the client's.
  std::optional<Duration> total_timeout{};
  /// Follow redirects for this request; absent = the client's `redirects.follow`.
  std::optional<bool> follow_redirects{};
  /// When set, the response body is passed here as it arrives instead of being kept in
  /// `Response::body`; the body-size limit does not apply to it.
  BodyCallback on_body{};
  /// The correlation ID to send; empty = the current `CorrelationScope`'s, or a new one.
  std::string correlation_id{};

  [[nodiscard]] static Request get(std::string url) { return make("GET", std::move(url)); }
  [[nodiscard]] static Request head(std::string url) { return make("HEAD", std::move(url)); }
  [[nodiscard]] static Request options(std::string url) { return make("OPTIONS", std::move(url)); }
  [[nodiscard]] static Request del(std::string url) { return make("DELETE", std::move(url)); }
  [[nodiscard]] static Request post(std::string url) { return make("POST", std::move(url)); }
  [[nodiscard]] static Request put(std::string url) { return make("PUT", std::move(url)); }
  [[nodiscard]] static Request patch(std::string url) { return make("PATCH", std::move(url)); }
  [[nodiscard]] static Request make(std::string method, std::string url) {
    Request request;
    request.method = std::move(method);
    request.url = std::move(url);
    return request;
  }

  /// Adds a header field (repeated names are kept).
  Request& header(std::string name, std::string value) & {
    headers.add(std::move(name), std::move(value));
    return *this;
  }
  Request&& header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
  }
  /// Adds a query parameter (percent-encoded when sent).
  Request& query(std::string name, std::string value) & {
    query_params.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Request&& query(std::string name, std::string value) && {
    return std::move(query(std::move(name), std::move(value)));
  }
  /// Sets the body and its `Content-Type`.
  Request& text(std::string content, std::string content_type = "text/plain; charset=utf-8") &;
  Request&& text(std::string content, std::string content_type = "text/plain; charset=utf-8") && {
    return std::move(text(std::move(content), std::move(content_type)));
  }
  /// Serializes `value` as the body, with `Content-Type: application/json`.
  Request& json(const boost::json::value& value) &;
  Request&& json(const boost::json::value& value) && { return std::move(json(value)); }
  /// Sets the `Idempotency-Key` header, which makes a POST or PATCH safe to send again.
  Request& idempotency_key(std::string key) & {
    headers.set("Idempotency-Key", std::move(key));
    return *this;
  }
  Request&& idempotency_key(std::string key) && {
    return std::move(idempotency_key(std::move(key)));
  }
  Request& timeout(Duration total) & {
    total_timeout = total;
    return *this;
  }
  Request&& timeout(Duration total) && { return std::move(timeout(total)); }
  Request& stream_to(BodyCallback callback) & {
    on_body = std::move(callback);
    return *this;
  }
  Request&& stream_to(BodyCallback callback) && {
    return std::move(stream_to(std::move(callback)));
  }

  /// Safe to send twice: GET, HEAD, OPTIONS, PUT, DELETE (and TRACE), or any method carrying an
  /// `Idempotency-Key` header.
  [[nodiscard]] bool is_replayable() const noexcept;
};

}  // namespace bulwark::http
