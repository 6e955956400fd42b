#include "http/detail/connection.hpp"

#include "http/detail/tls.hpp"
#include "http/detail/watchdog.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>

#include <array>
#include <optional>

namespace bulwark::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

// Bytes asked of the socket by one read: what a streamed body's pieces are at most, and how
// often the read timeout is restarted.
constexpr std::size_t read_size = 16 * 1024;
// Bytes the response parser needs before it can judge a status line: "HTTP/1.1".
constexpr std::size_t min_first_bytes = 8;

[[noreturn]] void fail(errc code, std::string detail) {
  throw Error(make_error_code(code), {}, detail);
}

// The earlier of "now + limit" and the request's deadline, and which of the two it was.
struct Expiry {
  Deadline at;
  bool total;
};

Expiry expiry(Duration limit, Deadline deadline) {
  const Deadline own = limit > Duration::zero()
                           ? Clock::now() + std::chrono::duration_cast<Clock::duration>(limit)
                           : Deadline::max();
  return own <= deadline ? Expiry{own, false} : Expiry{deadline, true};
}

std::string timeout_text(const Expiry& expiry, std::string_view which, Duration limit) {
  return expiry.total ? std::string("the request's total timeout ran out")
                      : fmt::format("{} timeout ({}) ran out", which, format_duration(limit));
}

bool is_connection_drop(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected || ec == asio::ssl::error::stream_truncated;
}

void tune(Connection::Tcp& socket) {
  boost::system::error_code ignored;
  // Requests are small and latency matters more than packet count.
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  // A program that starts other programs must not hand them its connections.
  ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

asio::awaitable<asio::ip::tcp::resolver::results_type> resolve(const asio::any_io_executor& strand,
                                                               const Origin& origin,
                                                               Deadline deadline,
                                                               const std::string& where) {
  const std::string port = std::to_string(origin.port);
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(origin.host, ec);
  if (!ec) {
    co_return asio::ip::tcp::resolver::results_type::create(
        asio::ip::tcp::endpoint(address, origin.port), origin.host, port);
  }
  asio::ip::tcp::resolver resolver(strand);
  asio::steady_timer timer(strand, deadline);
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  auto winner = co_await (resolver.async_resolve(origin.host, port, token) ||
                          timer.async_wait(asio::use_awaitable));
  if (winner.index() == 1)
    fail(errc::timeout, fmt::format("{}: resolving the host timed out", where));
  if (ec) fail(errc::connect_failed, fmt::format("{}: resolve: {}", where, ec.message()));
  co_return std::get<0>(std::move(winner));
}

// Runs on a strand (see Connection::open).
asio::awaitable<std::unique_ptr<asio::ip::tcp::socket>> connect(asio::any_io_executor strand,
                                                                const Origin& origin,
                                                                const ClientConfig& config,
                                                                Expiry limit) {
  const std::string where = origin.key();
  const auto endpoints = co_await resolve(strand, origin, limit.at, where);
  beast::tcp_stream tcp(strand);
  boost::system::error_code ec;
  tcp.expires_at(limit.at);
  co_await tcp.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) {
    fail(errc::timeout, fmt::format("{}: connect: {}", where,
                                    timeout_text(limit, "connect", config.timeouts.connect)));
  }
  if (ec) fail(errc::connect_failed, fmt::format("{}: connect: {}", where, ec.message()));
  tcp.expires_never();
  co_return std::make_unique<asio::ip::tcp::socket>(tcp.release_socket());
}

}  // namespace

asio::awaitable<std::unique_ptr<Connection>> Connection::open(
    asio::any_io_executor executor, const Origin& origin, const ClientConfig& config,
    asio::ssl::context* tls, TlsSessions* sessions, Deadline deadline) {
  const std::string where = origin.key();
  const Expiry limit = expiry(config.timeouts.connect, deadline);
  // Resolving and connecting race a timer: on a strand of their own, so that the two handlers
  // never run at once. Only new connections pay for it; the socket is then handed to
  // `executor`, and the requests it carries need no strand (see Watchdog).
  const asio::any_io_executor strand = asio::make_strand(executor);
  auto connected =
      co_await asio::co_spawn(strand, connect(strand, origin, config, limit), asio::use_awaitable);
  auto tcp = std::make_unique<Tcp>(executor);
  const auto protocol = connected->local_endpoint().protocol();
  tcp->assign(protocol, connected->release());
  tune(*tcp);
  if (!origin.tls) co_return std::unique_ptr<Connection>(new Connection(std::move(tcp)));

  auto stream = std::make_unique<Tls>(std::move(*tcp), *tls);
  const std::string& name = config.tls.server_name.empty() ? origin.host : config.tls.server_name;
  SSL* ssl = stream->native_handle();
  // SNI carries names only (RFC 6066 §3). SSL_set_tlsext_host_name spelled out: the macro's C
  // cast trips -Wold-style-cast.
  if (!is_ip_literal(name) && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                       const_cast<char*>(name.c_str())) != 1) {
    fail(errc::tls_error, fmt::format("{}: could not set SNI", where));
  }
  if (config.tls.verify_peer) stream->set_verify_callback(asio::ssl::host_name_verification(name));
  if (sessions != nullptr) sessions->resume(ssl);
  auto connection = std::unique_ptr<Connection>(new Connection(std::move(stream)));
  boost::system::error_code ec;
  connection->watchdog_->arm(limit.at);
  co_await std::get<std::unique_ptr<Tls>>(connection->stream_)
      ->async_handshake(asio::ssl::stream_base::client,
                        asio::redirect_error(asio::use_awaitable, ec));
  if (connection->watchdog_->disarm()) {
    fail(errc::timeout, fmt::format("{}: TLS handshake: {}", where,
                                    timeout_text(limit, "connect", config.timeouts.connect)));
  }
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    const std::string reason = verify != X509_V_OK
                                   ? fmt::format("certificate verification failed: {}",
                                                 X509_verify_cert_error_string(verify))
                                   : ec.message();
    fail(errc::tls_error, fmt::format("{}: TLS handshake: {}", where, reason));
  }
  co_return connection;
}

Connection::Connection(Stream stream) : stream_(std::move(stream)) {
  Tcp& tcp = lowest();
  watchdog_ = std::make_shared<Watchdog>(tcp.get_executor(), tcp.native_handle());
}

Connection::~Connection() { close(); }

Connection::Tcp& Connection::lowest() noexcept {
  if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) return **tcp;
  return std::get<std::unique_ptr<Tls>>(stream_)->next_layer();
}

void Connection::close() noexcept {
  watchdog_->stop();  // Before the descriptor can be closed and its number reused.
  boost::system::error_code ignored;
  Tcp& tcp = lowest();
  if (tcp.is_open()) {
    tcp.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp.close(ignored);
  }
}

bool Connection::closed_by_peer() const noexcept {
  auto& self = const_cast<Connection&>(*this);
  if (!self.lowest().is_open()) return true;
  // An idle HTTP/1.1 connection has nothing to read; anything readable is the peer's FIN or
  // RST, or bytes it should not have sent. Either way it cannot carry a request.
  ::pollfd descriptor{self.lowest().native_handle(), POLLIN | POLLRDHUP, 0};
  return ::poll(&descriptor, 1, 0) != 0;
}

asio::awaitable<std::variant<ExchangeResult, ExchangeFailure>> Connection::exchange(
    const WireRequest& request, const ClientConfig& config, const BodyCallback& body_callback,
    bool following_redirects, Deadline deadline) {
  ++requests_;
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  bool started = false;
  Watchdog& watchdog = *watchdog_;

  auto failure = [&](const Expiry& limit, std::string_view stage, std::string_view which,
                     Duration timeout) -> ExchangeFailure {
    started = started || buffer_.size() > 0;
    if (watchdog.disarm()) {
      return {make_error_code(errc::timeout),
              fmt::format("{}: {}", stage, timeout_text(limit, which, timeout)), started};
    }
    if (ec == bhttp::error::header_limit) {
      return {make_error_code(errc::limit_exceeded),
              fmt::format("response header is larger than limits.max_header_bytes ({} bytes)",
                          config.limits.max_header_bytes),
              true};
    }
    if (ec == bhttp::error::body_limit) {
      return {make_error_code(errc::limit_exceeded),
              fmt::format("response body is larger than limits.max_body_bytes ({} bytes)",
                          config.limits.max_body_bytes),
              true};
    }
    if (ec == asio::error::operation_aborted) {
      return {make_error_code(errc::cancelled), fmt::format("{}: cancelled", stage), started};
    }
    if (is_connection_drop(ec)) {
      return {make_error_code(errc::connection_lost),
              fmt::format("{}: {}", stage,
                          started ? "the connection closed in the middle of the response"
                                  : "the connection closed before a response arrived"),
              started};
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
      return {make_error_code(errc::protocol_error),
              fmt::format("{}: malformed response: {}", stage, ec.message()), started};
    }
    return {make_error_code(errc::connection_lost), fmt::format("{}: {}", stage, ec.message()),
            started};
  };

  // Write the request: head and body in one gather write.
  const Expiry write_limit = expiry(config.timeouts.write, deadline);
  watchdog.arm(write_limit.at);
  const std::array<asio::const_buffer, 2> wire{asio::buffer(request.head),
                                               asio::buffer(request.body)};
  if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) {
    co_await asio::async_write(**tcp, wire, token);
  } else {
    co_await asio::async_write(*std::get<std::unique_ptr<Tls>>(stream_), wire, token);
  }
  if (ec) co_return failure(write_limit, "sending the request", "write", config.timeouts.write);

  // Read the response, skipping interim (1xx) responses such as 103 Early Hints.
  ExchangeResult result;
  const BodyCallback* on_body = body_callback ? &body_callback : nullptr;
  std::optional<ResponseReader> reader;
  Expiry read_limit = expiry(config.timeouts.read, deadline);
  watchdog.arm(read_limit.at);
  const char* stage = "reading the response";
  for (;;) {
    reader.emplace(result, on_body, following_redirects, config.limits.max_body_bytes,
                   config.limits.max_header_bytes, request.head_method);
    while (!reader->is_done()) {
      // Beast's parser (Boost 1.81), handed fewer bytes than an HTTP version ("HTTP/1.1") before
      // anything else, takes them as searched for the end of the header though it never looked:
      // an empty line among them would be missed, and a malformed response would wait for the
      // read timeout instead of failing. So it gets its first bytes only once there are enough.
      if (buffer_.size() >= min_first_bytes || (reader->got_some() && buffer_.size() > 0)) {
        const std::size_t used = reader->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (auto thrown = reader->callback_error()) std::rethrow_exception(thrown);
        if (ec == bhttp::error::need_more) {
          ec = {};
        } else if (ec) {
          co_return failure(read_limit, stage, "read", config.timeouts.read);
        } else if (used > 0) {
          continue;
        }
      }
      if (reader->is_header_done()) stage = "reading the response body";
      std::size_t got = 0;
      const auto space = buffer_.prepare(read_size);
      if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) {
        got = co_await (*tcp)->async_read_some(space, token);
      } else {
        got = co_await std::get<std::unique_ptr<Tls>>(stream_)->async_read_some(space, token);
      }
      buffer_.commit(got);
      started = started || got > 0;
      if (ec == asio::error::eof && reader->got_some()) {
        // The end of a body delimited by the connection closing, or a truncated one.
        reader->put_eof(ec);
        if (!ec) break;
      }
      if (ec) co_return failure(read_limit, stage, "read", config.timeouts.read);
      read_limit = expiry(config.timeouts.read, deadline);
      watchdog.arm(read_limit.at);
    }
    if (result.status < 100 || result.status >= 200 || result.status == 101) break;
  }
  // A body ended by the connection closing may have been cut short by the deadline.
  if (watchdog.disarm()) co_return failure(read_limit, stage, "read", config.timeouts.read);
  // After a 101 the connection speaks whatever protocol the server switched to, not HTTP/1.1.
  result.reusable = reader->keep_alive() && !reader->need_eof() && request.keep_alive &&
                    buffer_.size() == 0 && result.status != 101;
  co_return result;
}

}  // namespace bulwark::http::detail
