#pragma once
/// @file
/// How to reach a Redis server: address (TCP or unix socket), TLS, credentials, database, and the
/// connection's own limits. Plain aggregates with documented defaults; `from_url` reads the usual
/// `redis://`, `rediss://` and `unix://` URLs.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/redis/resp.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::redis {

struct TlsConfig {
  /// Connect through TLS (`rediss://`).
  bool enabled = false;
  /// Verify the server's certificate chain and host name. Turn off only for a test server.
  bool verify_peer = true;
  /// PEM file of trusted CAs; empty = the system's default store.
  std::string ca_file{};
  /// Client certificate and key (PEM), for servers that require one; both or neither.
  std::string cert_file{};
  std::string key_file{};
  /// Name sent as SNI and checked against the certificate; empty = the host.
  std::string server_name{};
};

struct KeepaliveConfig {
  /// TCP keepalive probes on idle connections, so a peer that vanished is noticed.
  bool enabled = true;
  /// Idle time before the first probe.
  Duration idle = std::chrono::seconds(60);
  /// Time between probes.
  Duration interval = std::chrono::seconds(15);
  /// Unanswered probes before the connection is considered dead.
  int count = 3;
};

enum class Protocol : std::uint8_t {
  resp3,  ///< `HELLO 3`; falls back to RESP2 when the server does not know HELLO (Redis < 6).
  resp2,  ///< RESP2 only (AUTH and CLIENT SETNAME as separate commands).
};

struct ConnectionConfig {
  /// TCP host and port; ignored when `unix_path` is set.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Path of a unix socket; non-empty selects the unix socket.
  std::string unix_path{};
  TlsConfig tls{};
  /// ACL user; empty = the default user (password-only AUTH).
  std::string username{};
  /// Password; never printed (see `Secret`).
  Secret password{};
  /// Logical database, 0-15 on a default server (`SELECT`).
  int database = 0;
  /// `CLIENT SETNAME`, visible in `CLIENT LIST`; empty = none.
  std::string client_name{};
  Protocol protocol = Protocol::resp3;
  /// Bound on resolving, connecting, the TLS handshake and the Redis handshake together.
  Duration connect_timeout = std::chrono::seconds(5);
  KeepaliveConfig keepalive{};
  /// Limits on replies; a reply beyond them closes the connection with `protocol_error`.
  ParserLimits limits{};
  /// Commands queued or awaiting their reply on one connection; one more fails at once with
  /// `errc::limit_exceeded`, so a stalled server cannot make the queue grow without bound.
  std::size_t max_pending_commands = 65536;
};

/// Reads a URL into a config (other fields keep their defaults):
///   redis://[[user]:password@]host[:port][/db]     rediss://...  (TLS)
///   unix://[[user]:password@]/path/to/socket[?db=N]
/// Query parameters: `db`, `client_name`, `protocol=2|3`. Throws `ConfigError` (path `url`) whose
/// message shows the URL with its password removed.
[[nodiscard]] ConnectionConfig from_url(std::string_view url);

/// Appends one issue per bad field (paths `<path>.<field>`).
void validate(const ConnectionConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "redis");

/// "host:port", "unix:/path" or with "tls:" in front; for logs and errors (no credentials).
[[nodiscard]] std::string describe_endpoint(const ConnectionConfig& config);

}  // namespace bulwark::redis
