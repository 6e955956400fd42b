#include "redis/detail/transport.hpp"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

namespace bulwark::redis::detail {
namespace {

namespace asio = boost::asio;

void set_option(int fd, int level, int name, int value) {
  // Best effort: a platform without the option keeps its defaults.
  (void)::setsockopt(fd, level, name, &value, sizeof value);
}

void tune_tcp(asio::ip::tcp::socket& socket, const KeepaliveConfig& keepalive) {
  const int fd = socket.native_handle();
  // A program that starts other programs must not hand them its connections.
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  // Commands are small and latency matters more than packet count.
  set_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  if (!keepalive.enabled) return;
  set_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  set_option(
      fd, IPPROTO_TCP, TCP_KEEPIDLE,
      static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(keepalive.idle).count()));
  set_option(fd, IPPROTO_TCP, TCP_KEEPINTVL,
             static_cast<int>(
                 std::chrono::duration_cast<std::chrono::seconds>(keepalive.interval).count()));
  set_option(fd, IPPROTO_TCP, TCP_KEEPCNT, keepalive.count);
}

std::shared_ptr<asio::ssl::context> make_tls_context(const ConnectionConfig& config) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  if (config.tls.ca_file.empty()) {
    context->set_default_verify_paths();
  } else {
    context->load_verify_file(config.tls.ca_file);
  }
  if (!config.tls.cert_file.empty()) {
    context->use_certificate_chain_file(config.tls.cert_file);
    context->use_private_key_file(config.tls.key_file, asio::ssl::context::pem);
  }
  context->set_verify_mode(config.tls.verify_peer ? asio::ssl::verify_peer
                                                  : asio::ssl::verify_none);
  return context;
}

[[noreturn]] void fail(errc code, const ConnectionConfig& config, std::string_view what,
                       const boost::system::error_code& ec) {
  throw Error(make_error_code(code), {},
              fmt::format("{}: {}: {}", describe_endpoint(config), what, ec.message()));
}

}  // namespace

asio::awaitable<Transport> Transport::open(asio::any_io_executor executor,
                                           const ConnectionConfig& config) {
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);

  if (!config.unix_path.empty()) {
    Unix socket(executor);
    co_await socket.async_connect(asio::local::stream_protocol::endpoint(config.unix_path), token);
    if (ec) fail(errc::connect_failed, config, "connect", ec);
    co_return Transport(Stream(std::in_place_type<Unix>, std::move(socket)), nullptr);
  }

  asio::ip::tcp::resolver resolver(executor);
  const auto endpoints =
      co_await resolver.async_resolve(config.host, std::to_string(config.port), token);
  if (ec) fail(errc::connect_failed, config, "resolve", ec);
  Tcp socket(executor);
  co_await asio::async_connect(socket, endpoints, token);
  if (ec) fail(errc::connect_failed, config, "connect", ec);
  tune_tcp(socket, config.keepalive);
  if (!config.tls.enabled)
    co_return Transport(Stream(std::in_place_type<Tcp>, std::move(socket)), nullptr);

  std::shared_ptr<asio::ssl::context> context;
  try {
    context = make_tls_context(config);
  } catch (const boost::system::system_error& error) {
    fail(errc::tls_error, config, "TLS setup", error.code());
  }
  Tls stream(std::move(socket), *context);
  const std::string& name = config.tls.server_name.empty() ? config.host : config.tls.server_name;
  // SSL_set_tlsext_host_name, spelled out: the macro's C cast trips -Wold-style-cast.
  if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str())) != 1) {
    fail(errc::tls_error, config, "SNI",
         boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                   asio::error::get_ssl_category()));
  }
  if (config.tls.verify_peer) stream.set_verify_callback(asio::ssl::host_name_verification(name));
  co_await stream.async_handshake(asio::ssl::stream_base::client, token);
  if (ec) fail(errc::tls_error, config, "TLS handshake", ec);
  co_return Transport(Stream(std::in_place_type<Tls>, std::move(stream)), std::move(context));
}

void Transport::close() noexcept {
  boost::system::error_code ignored;
  std::visit(
      [&](auto& stream) {
        if constexpr (std::is_same_v<std::decay_t<decltype(stream)>, Tls>) {
          stream.lowest_layer().close(ignored);
        } else {
          stream.close(ignored);
        }
      },
      stream_);
}

}  // namespace bulwark::redis::detail
