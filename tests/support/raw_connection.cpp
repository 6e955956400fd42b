#include "support/raw_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace bulwark::test {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("connect: ") + std::strerror(error));
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawConnection::read_some(std::chrono::steady_clock::time_point give_up) {
  if (closed_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      give_up - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd ready{fd_, POLLIN, 0};
  const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
  if (polled < 0 && errno == EINTR) return true;
  if (polled <= 0) return false;
  char chunk[4096];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    closed_ = true;  // Orderly close (0) or reset (ECONNRESET).
    return false;
  }
  pending_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::string RawConnection::read_until_closed(std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (read_some(give_up)) {
  }
  return std::exchange(pending_, {});
}

std::string RawConnection::read_response(std::chrono::milliseconds limit, bool head) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const std::size_t end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      if (!head) {
        const std::string value =
            header_of(std::string_view(pending_).substr(0, end + 4), "Content-Length");
        std::from_chars(value.data(), value.data() + value.size(), length);
      }
      const std::size_t total = end + 4 + length;
      if (pending_.size() >= total) {
        std::string response = pending_.substr(0, total);
        pending_.erase(0, total);
        return response;
      }
    }
    if (!read_some(give_up)) return std::exchange(pending_, {});
  }
}

unsigned RawConnection::status_of(std::string_view response) {
  const std::size_t space = response.find(' ');
  if (response.substr(0, 5) != "HTTP/" || space == std::string_view::npos) return 0;
  unsigned status = 0;
  std::from_chars(response.data() + space + 1, response.data() + response.size(), status);
  return status;
}

std::string RawConnection::header_of(std::string_view response, std::string_view name) {
  std::size_t at = response.find("\r\n");
  while (at != std::string_view::npos && at + 2 < response.size()) {
    const std::size_t start = at + 2;
    const std::size_t end = response.find("\r\n", start);
    const std::string_view line = response.substr(start, end - start);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequal(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return std::string(value);
    }
    at = end;
  }
  return {};
}

}  // namespace bulwark::test
