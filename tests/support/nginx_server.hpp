#pragma once
// A real nginx for HTTP client tests and benchmarks: started in the foreground on a free loopback
// port with its prefix, configuration, pid file, logs and temporary folders in a private
// temporary directory, stopped (and the directory removed) by the destructor.
//
// Locations: /hello (static "hello\n"), /1k, /64k, /1m (static files of those sizes),
// /status/200 ("ok"), /status/503, /echo-post (accepts a POST body, answers 200 "ok").

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <sys/types.h>

namespace bulwark::test {

struct NginxOptions {
  std::chrono::milliseconds keepalive_timeout{75000};
  int keepalive_requests = 10000;
  bool tls = false;  // also listen with TLS on tls_port(), cert for localhost/127.0.0.1 signed by
                     // ca_file()
  int worker_processes = 1;
};

class NginxServer {
 public:
  /// Starts; waits until the port accepts; throws with nginx's error log on failure.
  explicit NginxServer(NginxOptions options = {});
  /// Stops (SIGQUIT then wait, SIGKILL after 5s), removes the temp dir.
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  std::string ca_file() const;
  std::string base_url() const;      // "http://127.0.0.1:<port>"
  std::string tls_base_url() const;  // "https://localhost:<tls_port>"
  /// Graceful stop (SIGQUIT: open keep-alive connections are closed); no-op when stopped.
  void stop();
  /// Starts again on the same ports; no-op when running.
  void start();

 private:
  void write_config() const;
  [[nodiscard]] std::string log_tail() const;

  NginxOptions options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bulwark::test
