#pragma once
// The byte stream under a Redis connection: TCP, unix socket or TLS over TCP, behind one small
// interface so the connection's read and write loops do not care which.

#include "bulwark/redis/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <variant>
#include <vector>

namespace bulwark::redis::detail {

class Transport {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using Unix = boost::asio::local::stream_protocol::socket;
  using Tls = boost::asio::ssl::stream<Tcp>;

  /// Resolves, connects, applies socket options and completes the TLS handshake. Throws
  /// `bulwark::Error` with `connect_failed` or `tls_error` and a detail naming the endpoint.
  static boost::asio::awaitable<Transport> open(boost::asio::any_io_executor executor,
                                                const ConnectionConfig& config);

  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;

  /// Writes all of `buffer`; failures are reported in `error`, never thrown.
  boost::asio::awaitable<std::size_t> write(boost::asio::const_buffer buffer,
                                            boost::system::error_code& error) {
    auto token = boost::asio::redirect_error(boost::asio::use_awaitable, error);
    return std::visit([&](auto& stream) { return boost::asio::async_write(stream, buffer, token); },
                      stream_);
  }

  /// Reads what is available (at least one byte); failures are reported in `error`.
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer,
                                                boost::system::error_code& error) {
    auto token = boost::asio::redirect_error(boost::asio::use_awaitable, error);
    return std::visit([&](auto& stream) { return stream.async_read_some(buffer, token); }, stream_);
  }

  /// Closes the socket; pending reads and writes complete with `operation_aborted`. Must run on
  /// the executor that owns the socket.
  void close() noexcept;

 private:
  using Stream = std::variant<Tcp, Unix, Tls>;
  Transport(Stream stream, std::shared_ptr<boost::asio::ssl::context> tls)
      : tls_context_(std::move(tls)), stream_(std::move(stream)) {}

  // The TLS stream refers to its context, so the context lives as long as the transport.
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  Stream stream_;
};

}  // namespace bulwark::redis::detail
