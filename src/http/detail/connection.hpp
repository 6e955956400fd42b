#pragma once
// One HTTP/1.1 connection to one origin, used by one request at a time. It knows how to open
// itself (TCP, TLS), to write a request and to read a response within the given deadlines and
// limits, and whether it can carry another request afterwards.

#include "bulwark/http/config.hpp"
#include "bulwark/http/request.hpp"
#include "http/detail/response_reader.hpp"
#include "http/detail/url.hpp"
#include "http/detail/wire.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <variant>

namespace bulwark::http::detail {

using Deadline = std::chrono::steady_clock::time_point;

// What `Connection::exchange` learnt: the response, and whether the connection may carry
// another request (the body was read to its end, neither side asked to close, nothing
// unexpected is buffered).
struct ExchangeResult : ResponseHead {
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
class Watchdog;

class Connection {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using Tls = boost::asio::ssl::stream<Tcp>;

  // Resolves, connects and completes the TLS handshake (when `tls` is set) by `deadline`.
  // Throws `Error` (connect_failed, tls_error, timeout) whose detail names the origin. The
  // connection's operations complete on `executor` (or the awaiting coroutine's); it needs no
  // strand (see Watchdog).
  static boost::asio::awaitable<std::unique_ptr<Connection>> open(
      boost::asio::any_io_executor executor, const Origin& origin, const ClientConfig& config,
      boost::asio::ssl::context* tls, TlsSessions* sessions, Deadline deadline);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Writes `request` and reads the response, passing its body to `on_body` when set (except the
  // body of a redirect that will be followed). On failure the connection must be discarded.
  // Rethrows what `on_body` throws.
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

 private:
  using Stream = std::variant<std::unique_ptr<Tcp>, std::unique_ptr<Tls>>;
  explicit Connection(Stream stream);
  Tcp& lowest() noexcept;

  Stream stream_;
  std::shared_ptr<Watchdog> watchdog_;
  boost::beast::flat_buffer buffer_;
  std::chrono::steady_clock::time_point idle_since_{};
  std::uint64_t requests_ = 0;
};

}  // namespace bulwark::http::detail
