#include "http/detail/connection.hpp"

#include "http/detail/tls.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

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

// A body is read through a buffer of this size: it bounds the memory a streamed body costs and
// how often the read timeout is re-armed.
constexpr std::size_t body_piece = 16 * 1024;

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

void tune(Connection::Tcp& stream) {
  boost::system::error_code ignored;
  // Requests are small and latency matters more than packet count.
  stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  // A program that starts other programs must not hand them its connections.
  ::fcntl(stream.socket().native_handle(), F_SETFD, FD_CLOEXEC);
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

}  // namespace

asio::awaitable<std::unique_ptr<Connection>> Connection::open(
    asio::any_io_executor executor, const Origin& origin, const ClientConfig& config,
    asio::ssl::context* tls, TlsSessions* sessions, Deadline deadline) {
  const std::string where = origin.key();
  const Expiry limit = expiry(config.timeouts.connect, deadline);
  const asio::any_io_executor& strand = executor;
  const auto endpoints = co_await resolve(strand, origin, limit.at, where);

  auto tcp = std::make_unique<Tcp>(strand);
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  tcp->expires_at(limit.at);
  co_await tcp->async_connect(endpoints, token);
  if (ec == beast::error::timeout) {
    fail(errc::timeout, fmt::format("{}: connect: {}", where,
                                    timeout_text(limit, "connect", config.timeouts.connect)));
  }
  if (ec) fail(errc::connect_failed, fmt::format("{}: connect: {}", where, ec.message()));
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
  beast::get_lowest_layer(*stream).expires_at(limit.at);
  co_await stream->async_handshake(asio::ssl::stream_base::client, token);
  if (ec == beast::error::timeout) {
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
  co_return std::unique_ptr<Connection>(new Connection(std::move(stream)));
}

Connection::~Connection() { close(); }

Connection::Tcp& Connection::lowest() noexcept {
  if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) return **tcp;
  return beast::get_lowest_layer(*std::get<std::unique_ptr<Tls>>(stream_));
}

void Connection::close() noexcept {
  boost::system::error_code ignored;
  Tcp& tcp = lowest();
  if (tcp.socket().is_open()) {
    tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp.socket().close(ignored);
  }
}

bool Connection::closed_by_peer() const noexcept {
  auto& self = const_cast<Connection&>(*this);
  if (!self.lowest().socket().is_open()) return true;
  // An idle HTTP/1.1 connection has nothing to read; anything readable is the peer's FIN or
  // RST, or bytes it should not have sent. Either way it cannot carry a request.
  ::pollfd descriptor{self.lowest().socket().native_handle(), POLLIN | POLLRDHUP, 0};
  return ::poll(&descriptor, 1, 0) != 0;
}

asio::awaitable<std::variant<ExchangeResult, ExchangeFailure>> Connection::exchange(
    const WireRequest& request, const ClientConfig& config, const BodyCallback& body_callback,
    bool following_redirects, Deadline deadline) {
  ++requests_;
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  bool started = false;

  auto failure = [&](const Expiry& limit, std::string_view stage, std::string_view which,
                     Duration timeout) -> ExchangeFailure {
    started = started || buffer_.size() > 0;
    if (ec == beast::error::timeout) {
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

  // Write the request.
  const Expiry write_limit = expiry(config.timeouts.write, deadline);
  lowest().expires_at(write_limit.at);
  if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) {
    co_await bhttp::async_write(**tcp, request, token);
  } else {
    co_await bhttp::async_write(*std::get<std::unique_ptr<Tls>>(stream_), request, token);
  }
  if (ec) co_return failure(write_limit, "sending the request", "write", config.timeouts.write);

  // Read the status line and headers, skipping interim (1xx) responses such as 103 Early Hints.
  std::optional<bhttp::response_parser<bhttp::buffer_body>> reader;
  Expiry read_limit{};
  for (;;) {
    reader.emplace();
    reader->header_limit(config.limits.max_header_bytes);
    // A streamed body may be any size: only its pieces are held in memory. (The limit is checked
    // against Content-Length as soon as the header is complete, so it is set before reading.)
    if (body_callback) {
      reader->body_limit(boost::none);
    } else {
      reader->body_limit(config.limits.max_body_bytes);
    }
    if (request.method() == bhttp::verb::head) reader->skip(true);
    read_limit = expiry(config.timeouts.read, deadline);
    lowest().expires_at(read_limit.at);
    if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) {
      co_await bhttp::async_read_header(**tcp, buffer_, *reader, token);
    } else {
      co_await bhttp::async_read_header(*std::get<std::unique_ptr<Tls>>(stream_), buffer_, *reader,
                                        token);
    }
    started = started || reader->got_some();
    if (ec) co_return failure(read_limit, "reading the response", "read", config.timeouts.read);
    const unsigned status = reader->get().result_int();
    if (status < 100 || status >= 200 || status == 101) break;
  }
  auto& parser = *reader;

  ExchangeResult result;
  const auto& header = parser.get();
  result.status = header.result_int();
  result.reason = std::string(header.reason());
  for (const auto& field : header) {
    result.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  const bool redirect = following_redirects && header.result_int() >= 300 &&
                        header.result_int() < 400 && result.headers.contains("Location");
  const BodyCallback* on_body = body_callback && !redirect ? &body_callback : nullptr;
  if (on_body == nullptr && parser.content_length() &&
      *parser.content_length() <= config.limits.max_body_bytes) {
    result.body.reserve(static_cast<std::size_t>(*parser.content_length()));
  }

  // Read the body, a piece at a time.
  std::array<char, body_piece> piece;
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    read_limit = expiry(config.timeouts.read, deadline);
    lowest().expires_at(read_limit.at);
    if (auto* tcp = std::get_if<std::unique_ptr<Tcp>>(&stream_)) {
      co_await bhttp::async_read(**tcp, buffer_, parser, token);
    } else {
      co_await bhttp::async_read(*std::get<std::unique_ptr<Tls>>(stream_), buffer_, parser, token);
    }
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec)
      co_return failure(read_limit, "reading the response body", "read", config.timeouts.read);
    const std::size_t got = piece.size() - parser.get().body().size;
    if (got == 0) continue;
    if (on_body != nullptr) {
      (*on_body)(std::string_view(piece.data(), got));
    } else if (result.body.size() + got > config.limits.max_body_bytes) {
      ec = bhttp::error::body_limit;  // A redirect's body, kept without the parser's limit.
      co_return failure(read_limit, "reading the response body", "read", config.timeouts.read);
    } else {
      result.body.append(piece.data(), got);
    }
  }
  lowest().expires_never();
  result.reusable =
      parser.keep_alive() && !parser.need_eof() && request.keep_alive() && buffer_.size() == 0;
  co_return result;
}

}  // namespace bulwark::http::detail
