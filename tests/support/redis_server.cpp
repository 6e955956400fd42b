#include "support/redis_server.hpp"

#include "support/certificates.hpp"
#include "support/process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace bulwark::test {
namespace {

using namespace std::chrono_literals;

// True once a raw PING on the port gets +PONG (or -NOAUTH: the server is up, just protected);
// with `loading_ok`, a LOADING reply counts too.
bool answers_ping(std::uint16_t port, bool loading_ok) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const char ping[] = "PING\r\n";
    std::array<char, 64> reply{};
    if (::write(fd, ping, sizeof ping - 1) == static_cast<ssize_t>(sizeof ping - 1)) {
      const ssize_t n = ::read(fd, reply.data(), reply.size());
      const std::string_view text(reply.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
      ok = text.starts_with("+PONG") || text.starts_with("-NOAUTH") ||
           (loading_ok && text.starts_with("-LOADING"));
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

RedisServer::RedisServer(RedisServerOptions options)
    : options_(std::move(options)), dir_(make_temp_dir("bulwark-redis")), port_(free_port()) {
  if (options_.tls) {
    tls_port_ = free_port();
    make_certificates(dir_);
  }
  start();
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::start(Wait wait) {
  if (running()) return;
  std::vector<std::string> argv = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_.string(),
                                   "--save",
                                   "",
                                   "--daemonize",
                                   "no",
                                   "--enable-debug-command",
                                   "yes",
                                   "--protected-mode",
                                   "no",
                                   "--logfile",
                                   ""};
  if (options_.unix_socket) {
    argv.insert(argv.end(), {"--unixsocket", unix_path(), "--unixsocketperm", "700"});
  }
  if (options_.persistence) {
    argv.insert(argv.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    argv.insert(argv.end(), {"--appendonly", "no"});
  }
  if (!options_.password.empty()) argv.insert(argv.end(), {"--requirepass", options_.password});
  if (options_.tls) {
    argv.insert(argv.end(),
                {"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                 (dir_ / "server.crt").string(), "--tls-key-file", (dir_ / "server.key").string(),
                 "--tls-ca-cert-file", ca_file(), "--tls-auth-clients", "no"});
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_ = spawn(argv, dir_ / "redis.log");
  wait_until(wait);
}

void RedisServer::wait_until(Wait wait) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start:\n" + log_tail());
    }
    if (answers_ping(port_, wait == Wait::accepting)) return;
    std::this_thread::sleep_for(5ms);
  }
  kill9();
  throw std::runtime_error("redis-server did not answer PING within 10s:\n" + log_tail());
}

void RedisServer::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::restart(Wait wait) {
  kill9();
  start(wait);
}

std::string RedisServer::cli(const std::vector<std::string>& args) const {
  std::string command = "redis-cli -p " + std::to_string(port_);
  if (!options_.password.empty()) command += " --no-auth-warning -a '" + options_.password + "'";
  for (const std::string& arg : args) command += " '" + arg + "'";
  command += " 2>&1";
  return trim_line_ends(run_shell(command).output);
}

std::string RedisServer::log_tail() const { return file_tail(dir_ / "redis.log"); }

}  // namespace bulwark::test
