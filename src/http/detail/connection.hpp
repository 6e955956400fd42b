#pragma once
// One HTTP/1.1 connection to one origin, used by one request at a time. It knows how to open
// itself (TCP, TLS), to write a request and to read a response within the given deadlines and
// limits, and whether it can carry another request afterwards.

#include "bulwark/http/config.hpp"
#include "bulwark/http/request.hpp"
#include "http/detail/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <variant>

namespace bulwark::http::detail {

using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;
using Deadline = std::chrono::steady_clock::time_point;

// What `Connection::exchange` learnt besides the response.
struct ExchangeResult {
  unsigned status = 0;
  std::string reason;
  Headers headers;
  std::string body;
  // The connection may carry another request (the body was read to its end, neither side
  // asked to close, nothing unexpected is buffered).
  bool reusable = false;
};

// A failure of `exchange`, with whether any byte of the response had arrived: a reused
// connection that failed before that is stale, and the request may be sent again elsewhere.
struct ExchangeFailure {
  std::error_code code;
  std::string detail;
  bool response_started = false;
};

class TlsSessions;

class Connection {
 public:
  using Tcp = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  // Resolves, connects and completes the TLS handshake (when `tls` is set) by `deadline`.
  // Throws `Error` (connect_failed, tls_error, timeout) whose detail names the origin.
  //
  // `executor` is a strand of the connection's own, and this coroutine and `exchange` must run
  // on it (co_spawn them there): Beast's timeout timer runs on the stream's executor, and when
  // the socket's completions ran elsewhere, on a multi-threaded executor, a timeout could be
  // seen as a plain cancellation (and the two handlers would race).
  static boost::asio::awaitable<std::unique_ptr<Connection>> open(
      boost::asio::any_io_executor executor, const Origin& origin, const ClientConfig& config,
      boost::asio::ssl::context* tls, TlsSessions* sessions, Deadline deadline);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Writes `request` and reads the response, passing its body to `on_body` when set (except the
  // body of a redirect that will be followed). On failure the connection must be discarded.
  boost::asio::awaitable<std::variant<ExchangeResult, ExchangeFailure>> exchange(
      const WireRequest& request, const ClientConfig& config, const BodyCallback& on_body,
      bool following_redirects, Deadline deadline);

  // True when the peer closed the connection (or sent something unasked) while it was idle.
  [[nodiscard]] bool closed_by_peer() const noexcept;
  void close() noexcept;

  [[nodiscard]] std::chrono::steady_clock::time_point idle_since() const noexcept {
    return idle_since_;
  }
  void mark_idle() noexcept { idle_since_ = std::chrono::steady_clock::now(); }
  [[nodiscard]] std::uint64_t requests_served() const noexcept { return requests_; }
  // The connection's strand.
  [[nodiscard]] boost::asio::any_io_executor executor() noexcept { return lowest().get_executor(); }

 private:
  using Stream = std::variant<std::unique_ptr<Tcp>, std::unique_ptr<Tls>>;
  explicit Connection(Stream stream) noexcept : stream_(std::move(stream)) {}
  Tcp& lowest() noexcept;

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::steady_clock::time_point idle_since_{};
  std::uint64_t requests_ = 0;
};

}  // namespace bulwark::http::detail
