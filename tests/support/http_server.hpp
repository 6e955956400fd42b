#pragma once
// A scriptable HTTP/1.1 server for the HTTP client's integration tests: Boost.Beast on its own
// io_context and thread, listening on 127.0.0.1 (port chosen by the kernel), optionally with TLS.
// It misbehaves on request, records everything it receives, and can be taken down and brought
// back on the same port.
//
// Paths (any path also takes `?delay_ms=N`: wait N ms before answering):
//   /status/<code>[?retry_after=S]  that status, body "status <code>" (+ Retry-After: S)
//   /echo (also .../echo, /echo/...) JSON {method, target, path, query{}, headers{} (lower-case
//                                   names, repeated fields joined by ", "), header_list[[n, v]],
//                                   body}
//   /bytes/<n>                      n bytes of `pattern(n)`, with Content-Length
//   /chunked?chunks=N&size=M        N chunks of M bytes (`pattern(N*M)`), chunked coding;
//                                  chunk_delay_ms=D pauses D ms between chunks
//   /big-header?bytes=N             200 with an `X-Big` header whose value is N bytes
//   /slow-headers?ms=N              status line, header fields and body written in pieces with
//                                   N ms pauses between them
//   /close                          200 with `Connection: close`, then closes
//   /reset-mid-body                 Content-Length 1000, 500 bytes, then a TCP reset
//   /garbage                        bytes that are not HTTP (the connection stays open)
//   /eof-before-response            reads the request and closes without answering
//   /eof-if-reused                  like /eof-before-response when the request is not the first
//                                   on its connection; otherwise 200 "fresh"
//   /loop                           302 to itself
//   /http10                         an HTTP/1.0 response without keep-alive; the server then
//                                   keeps the connection open, so reusing it would be seen
//   /short-garbage                  "X\r\n\r\n", then after 50 ms more bytes that are not HTTP;
//                                   the connection stays open
//   /switch-protocols               101 Switching Protocols (unasked); the server then keeps
//                                   reading HTTP requests on the connection, so reusing it
//                                   would be seen
//   /redirect?to=<url>&code=<3xx>   redirect (302 by default) to the decoded `to`
//   anything else                   200 "ok"
// Every other connection handling follows the request's keep-alive.
//
// Thread-safety: every member may be called from any thread while the server runs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::test {

struct HttpServerOptions {
  /// Serve TLS with this certificate chain and key (PEM files); empty = plain HTTP.
  std::string cert_file{};
  std::string key_file{};
  /// With TLS: require a client certificate signed by this CA (PEM); empty = none asked for.
  std::string client_ca_file{};
};

/// One request as the server received it.
struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  ///< In order, names as sent.
  std::string body;
  std::size_t connection = 0;  ///< 1-based index of its connection, in order of acceptance.
  std::size_t sequence = 0;    ///< 1-based position of the request on its connection.

  /// The first field named `name` (case-insensitive).
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  /// How many fields are named `name` (case-insensitive).
  [[nodiscard]] std::size_t header_count(std::string_view name) const;
  /// The target without its query.
  [[nodiscard]] std::string path() const;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  /// Closes every connection and stops the thread.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] bool tls() const noexcept;
  /// "http://127.0.0.1:<port>", or "https://localhost:<port>" with TLS (the name the test
  /// certificates carry).
  [[nodiscard]] std::string base_url() const;
  /// `base_url() + path`.
  [[nodiscard]] std::string url(std::string_view path) const;

  // Knobs; each applies from the next request (or connection) on.

  /// Closes each connection after it served `requests` responses, without announcing it
  /// (no `Connection: close`); 0 = never.
  void close_after(std::size_t requests);
  /// Closes a connection that waited this long for its next request; 0 = never.
  void idle_timeout(std::chrono::milliseconds idle);
  /// The next `count` requests whose path is `path` are answered with `status` (body
  /// "status <status>"), plus `Retry-After: <retry_after_seconds>` when given.
  void fail_next(std::string path, std::size_t count, unsigned status,
                 std::optional<int> retry_after_seconds = std::nullopt);
  /// Stops accepting (the listening socket is closed, so connecting is refused) and closes
  /// every open connection. Returns once done.
  void down();
  /// Listens again on the same port. Returns once done.
  void up();

  // Records.

  [[nodiscard]] std::size_t connections_accepted() const noexcept;
  [[nodiscard]] std::size_t connections_open() const noexcept;
  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  /// The requests whose path (target without query) is `path`.
  [[nodiscard]] std::vector<RecordedRequest> requests_to(std::string_view path) const;
  [[nodiscard]] std::size_t request_count() const;
  /// Forgets the recorded requests (counters of connections stay).
  void clear_requests();
  /// The recorded requests, forgotten at the same time: a long run harvests them as it goes, so
  /// that none is missed between reading and clearing, and memory stays flat.
  [[nodiscard]] std::vector<RecordedRequest> take_requests();

  /// Polls `done` on the calling thread (the server runs on its own) until it is true or
  /// `limit` passed; returns its last value. For conditions the server reaches on its own, e.g.
  /// `connections_open() == 0` after the client closed its connections.
  static bool wait_for(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(5));

  /// The body of `/bytes/<n>` (and the bytes of `/chunked`): 'a' to 'z' repeated.
  [[nodiscard]] static std::string pattern(std::size_t n);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::test
