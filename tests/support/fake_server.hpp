#pragma once
// `FakeServer`: a small HTTP/1.1 server that answers with route handlers, for fakes of the
// services that typed clients talk to (fake_services.hpp). Boost.Beast on its own io_context and
// thread, on 127.0.0.1 with a port chosen by the kernel. It records what it receives, including
// how many requests it was answering at once, and can fail or delay answers on request.
//
// Thread-safety: every member may be called from any thread while the server runs. Handlers run
// on the server's thread, one at a time.

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::test {

using FakeFields = std::vector<std::pair<std::string, std::string>>;

/// One request as the server received it.
struct FakeRequest {
  std::string method;
  std::string target;  ///< As sent: path and query.
  std::string path;    ///< Without the query.
  FakeFields query;    ///< Decoded query parameters, in order.
  FakeFields headers;  ///< In order, names as sent.
  std::string body;
  /// Values of the route's `{name}` segments (percent-decoded).
  std::map<std::string, std::string, std::less<>> params;

  /// The first header field named `name` (case-insensitive).
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
  /// The value of route segment `{name}`; empty when the route has none.
  [[nodiscard]] std::string param(std::string_view name) const;
};

struct FakeReply {
  unsigned status = 200;
  std::string body{};
  std::string content_type = "application/json";
  FakeFields headers{};
  /// Wait this long before answering (the request counts as in flight meanwhile).
  std::chrono::milliseconds delay{0};

  [[nodiscard]] static FakeReply json(const boost::json::value& body, unsigned status = 200);
  [[nodiscard]] static FakeReply text(std::string body, unsigned status = 200);
};

using FakeHandler = std::function<FakeReply(const FakeRequest&)>;

class FakeServer {
 public:
  FakeServer();
  /// Stops the thread; connections still open are closed.
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  /// "http://127.0.0.1:<port>".
  [[nodiscard]] std::string base_url() const;

  /// Answers `method` ("*" = any) requests whose path matches `pattern`, where a `{name}`
  /// segment matches any one segment (`/collections/{name}/points`). When several routes match,
  /// the one added last wins, so a test can replace a route of a fake service. A request no
  /// route matches gets 404; a handler that throws, 500.
  void route(std::string method, std::string pattern, FakeHandler handler);
  /// The next `count` requests whose path is `path` get `status` with
  /// `{"error": {"message": "injected failure"}}`, without reaching their handler.
  void fail_next(std::string path, std::size_t count, unsigned status);
  /// Adds `delay` before every answer (on top of a reply's own).
  void delay(std::chrono::milliseconds delay);

  [[nodiscard]] std::vector<FakeRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  /// Requests whose path (without query) is `path`.
  [[nodiscard]] std::size_t request_count(std::string_view path) const;
  void clear_requests();

  /// Requests being answered now, and the most at once since the start (or `reset_peak`).
  [[nodiscard]] std::size_t in_flight() const noexcept;
  [[nodiscard]] std::size_t peak_in_flight() const noexcept;
  void reset_peak() noexcept;
  [[nodiscard]] std::size_t connections_open() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::test
