#pragma once
// The demo's own redis-server: found on PATH (else /usr/bin or /usr/local/bin), listening on a
// free loopback port, working in a private temporary directory, with persistence off, so that
// the demo touches nothing of the machine's. The demo stops it and starts it again on the same
// port to show a Redis outage.
//
// Cleanup: the destructor stops the server (SIGTERM, then SIGKILL), reaps it and removes the
// directory. The server runs in a process group of its own, so a Ctrl-C in the terminal reaches
// only the demo, which then cleans up in order; and on Linux the kernel kills it should the demo
// die without cleaning up. That last guard is tied to the thread that started the server, so
// start it from the main thread.
//
// Not thread-safe: one thread drives it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <sys/types.h>

namespace bulwark::cli {

class RedisProcess {
 public:
  /// Finds redis-server and makes the directory; throws `std::runtime_error` saying how to
  /// install it when it cannot be found.
  RedisProcess();
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  /// Starts the server (on a new free port the first time, on the same port afterwards) and
  /// waits until it answers PING. Throws `std::runtime_error` with the end of its log when it
  /// does not within `limit`.
  void start(std::chrono::milliseconds limit = std::chrono::seconds(10));
  /// SIGTERM, and SIGKILL after `grace`; returns once it is reaped. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3)) noexcept;

  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] const std::string& binary() const noexcept { return binary_; }

 private:
  void spawn();
  [[nodiscard]] bool answers_ping() const;
  [[nodiscard]] std::string log_tail() const;

  std::string binary_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, read back, released).
[[nodiscard]] std::uint16_t free_loopback_port();

}  // namespace bulwark::cli
