#include "http/detail/tls.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>

namespace bulwark::http::detail {
namespace {

namespace asio = boost::asio;

// Where a context finds its TlsSessions; an index of our own, since Asio uses the context's
// app data for its callbacks.
int sessions_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

TlsSessions::~TlsSessions() {
  if (session_ != nullptr) SSL_SESSION_free(session_);
}

std::shared_ptr<asio::ssl::context> TlsSessions::make_context(const TlsConfig& config,
                                                              TlsSessions* sessions,
                                                              std::string_view origin) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  std::string_view step = "TLS setup";
  try {
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
    if (config.ca_file.empty()) {
      step = "loading the system CA store";
      context->set_default_verify_paths();
    } else {
      step = "loading tls.ca_file";
      context->load_verify_file(config.ca_file);
    }
    if (!config.cert_file.empty()) {
      step = "loading tls.cert_file";
      context->use_certificate_chain_file(config.cert_file);
      step = "loading tls.key_file";
      context->use_private_key_file(config.key_file, asio::ssl::context::pem);
    }
  } catch (const boost::system::system_error& error) {
    throw Error(make_error_code(errc::tls_error), {},
                fmt::format("{}: {}: {}", origin, step, error.code().message()));
  }
  context->set_verify_mode(config.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  if (sessions != nullptr) {
    SSL_CTX* native = context->native_handle();
    SSL_CTX_set_ex_data(native, sessions_index(), sessions);
    // Client-side caching through the callback only: OpenSSL's internal store is for servers.
    SSL_CTX_set_session_cache_mode(native,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, &TlsSessions::on_new_session);
  }
  return context;
}

int TlsSessions::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self =
      static_cast<TlsSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sessions_index()));
  if (self == nullptr) return 0;
  std::lock_guard lock(self->mutex_);
  if (self->session_ != nullptr) SSL_SESSION_free(self->session_);
  self->session_ = session;  // Returning 1 keeps OpenSSL's reference for us.
  return 1;
}

void TlsSessions::resume(SSL* ssl) {
  std::lock_guard lock(mutex_);
  if (session_ != nullptr) SSL_set_session(ssl, session_);
}

}  // namespace bulwark::http::detail
