#pragma once
// TLS for one origin: the OpenSSL context built from `TlsConfig` (verification on by default,
// system or custom CAs, optional client certificate) and the session kept for resumption.

#include "bulwark/http/config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string_view>

using SSL = struct ssl_st;
using SSL_SESSION = struct ssl_session_st;

namespace bulwark::http::detail {

class TlsSessions {
 public:
  TlsSessions() = default;
  ~TlsSessions();
  TlsSessions(const TlsSessions&) = delete;
  TlsSessions& operator=(const TlsSessions&) = delete;

  // A client context for `config`; when `sessions` is given, the sessions the server hands out
  // are kept there for `resume`. Throws `Error(tls_error)` naming the file that failed to load.
  static std::shared_ptr<boost::asio::ssl::context> make_context(const TlsConfig& config,
                                                                 TlsSessions* sessions,
                                                                 std::string_view origin);

  // Offers the last session (if any) on a connection about to shake hands.
  void resume(SSL* ssl);

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  std::mutex mutex_;
  SSL_SESSION* session_ = nullptr;
};

}  // namespace bulwark::http::detail
