#include "demo_redis.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace bulwark::cli {
namespace {

std::string find_redis_server() {
  std::vector<std::filesystem::path> candidates;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) candidates.push_back(std::filesystem::path(dir) / "redis-server");
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  candidates.emplace_back("/usr/bin/redis-server");
  candidates.emplace_back("/usr/local/bin/redis-server");
  for (const auto& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error(
      "redis-server was not found on PATH, in /usr/bin or in /usr/local/bin; the demo starts "
      "one of its own. Install it (Debian/Ubuntu: sudo apt-get install redis-server) or run "
      "`make deps`.");
}

std::filesystem::path make_private_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "bulwark-demo-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(
        fmt::format("cannot make a temporary directory: {}", std::strerror(errno)));
  }
  return pattern;
}

int loopback_socket(std::uint16_t port, sockaddr_in& address) {
  address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

}  // namespace

std::uint16_t free_loopback_port() {
  sockaddr_in address{};
  const int fd = loopback_socket(0, address);
  if (fd < 0) throw std::runtime_error("socket() failed");
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free loopback port");
  return ntohs(address.sin_port);
}

RedisProcess::RedisProcess() : binary_(find_redis_server()), dir_(make_private_dir()) {}

RedisProcess::~RedisProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RedisProcess::spawn() {
  const std::string port = std::to_string(port_);
  const std::string log = (dir_ / "redis.log").string();
  // Everything the child needs is built before fork(): after it, in a threaded program, only
  // async-signal-safe calls are allowed until exec.
  std::vector<std::string> argv_strings = {
      binary_,       "--port",    port, "--bind",           "127.0.0.1", "--dir",
      dir_.string(), "--save",    "",   "--appendonly",     "no",        "--daemonize",
      "no",          "--logfile", log,  "--protected-mode", "yes"};
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(errno)));
  if (pid == 0) {
#ifdef __linux__
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the demo died before the guard was set
#endif
    ::setpgid(0, 0);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
    }
    // The demo's sockets (clients, the HTTP service, the admin endpoint) stay the demo's.
    if (::close_range(STDERR_FILENO + 1, ~0U, 0) != 0) {
      for (int fd = STDERR_FILENO + 1; fd < 1024; ++fd) ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
}

void RedisProcess::start(std::chrono::milliseconds limit) {
  if (running()) return;
  const bool first = port_ == 0;
  // The first start picks a free port; another process may take it in between, so a server
  // that exits at once is tried again on another one.
  for (int attempt = 0;; ++attempt) {
    if (first) port_ = free_loopback_port();
    spawn();
    const auto give_up = std::chrono::steady_clock::now() + limit;
    bool exited = false;
    while (std::chrono::steady_clock::now() < give_up) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
        pid_ = -1;
        break;
      }
      if (answers_ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited) stop();
    if (!first || attempt == 2 || !exited) {
      throw std::runtime_error(
          fmt::format("redis-server did not start on 127.0.0.1:{}: {}", port_, log_tail()));
    }
  }
}

void RedisProcess::stop(std::chrono::milliseconds grace) noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + grace;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() >= give_up) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

bool RedisProcess::answers_ping() const {
  sockaddr_in address{};
  const int fd = loopback_socket(port_, address);
  if (fd < 0) return false;
  // Bounded: a server that accepts but does not answer yet must not hold up the wait.
  timeval timeout{.tv_sec = 0, .tv_usec = 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    constexpr std::string_view ping = "PING\r\n";
    if (::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ping.size())) {
      std::array<char, 16> reply{};
      const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
      ok = n >= 5 && std::string_view(reply.data(), 5) == "+PONG";
    }
  }
  ::close(fd);
  return ok;
}

std::string RedisProcess::log_tail() const {
  std::ifstream in(dir_ / "redis.log");
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  constexpr std::size_t keep = 1500;
  if (all.size() > keep) all = all.substr(all.size() - keep);
  return all.empty() ? std::string("(no log)") : all;
}

}  // namespace bulwark::cli
