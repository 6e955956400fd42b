#pragma once
// A real redis-server for integration tests: started on a free loopback port and a unix socket in
// a private temporary directory, stopped (and the directory removed) by the destructor. Tests can
// kill it with SIGKILL and restart it on the same port and directory, so persisted data survives.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace bulwark::test {

struct RedisServerOptions {
  /// Also listen on a unix socket (`unix_path()`).
  bool unix_socket = true;
  /// Append-only file with fsync on every write, so acknowledged writes survive a SIGKILL.
  bool persistence = false;
  /// `requirepass` (the default user's password); empty = no AUTH.
  std::string password{};
  /// Also listen with TLS on `tls_port()`, with a certificate for localhost/127.0.0.1 signed by
  /// a throwaway CA (`ca_file()`; support/certificates.hpp).
  bool tls = false;
  /// More `--name value` arguments for redis-server.
  std::vector<std::string> extra_args{};
};

/// A free TCP port on 127.0.0.1 (bound, read back, released).
[[nodiscard]] std::uint16_t free_port();

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint16_t tls_port() const noexcept { return tls_port_; }
  [[nodiscard]] std::string ca_file() const { return (dir_ / "ca.crt").string(); }
  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  [[nodiscard]] std::string unix_path() const { return (dir_ / "redis.sock").string(); }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

  /// How far `start` waits: until PING answers PONG, or only until the port accepts connections
  /// (the server may still be loading its dataset and answer LOADING).
  enum class Wait { ready, accepting };

  /// Starts the server (again) and waits as told. Throws on failure, with the server's log in
  /// the message.
  void start(Wait wait = Wait::ready);
  /// SIGTERM and wait.
  void stop();
  /// SIGKILL and wait: in-flight commands see the connection drop.
  void kill9();
  /// `kill9()` then `start()` on the same port and directory.
  void restart(Wait wait = Wait::ready);

  /// Runs `redis-cli` against the server with `args`; returns its standard output, trimmed.
  std::string cli(const std::vector<std::string>& args) const;

 private:
  void wait_until(Wait wait);
  [[nodiscard]] std::string log_tail() const;

  RedisServerOptions options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bulwark::test
