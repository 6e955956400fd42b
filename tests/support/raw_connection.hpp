#pragma once
// A plain blocking TCP connection to a loopback port, for tests that must send what no HTTP
// client would (an oversized header, half a request, nothing at all) and see exactly what the
// server answers and when it closes.
//
// Thread-safety: none; one thread uses a connection.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::test {

class RawConnection {
 public:
  /// Connects to 127.0.0.1:`port`; throws `std::runtime_error` when that fails.
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Sends every byte of `bytes`; false when the connection broke (reset, closed).
  bool send(std::string_view bytes);
  /// Reads until the peer closes the connection (or resets it) or `limit` passed; returns what
  /// arrived. `closed()` tells which.
  std::string read_until_closed(std::chrono::milliseconds limit);
  /// Reads one response: up to the end of its header and `Content-Length` bytes of body (none
  /// when `head`), or until the peer closes or `limit` passed. Bytes after it are kept for the
  /// next call.
  std::string read_response(std::chrono::milliseconds limit, bool head = false);
  /// True once a read saw the peer close or reset the connection.
  [[nodiscard]] bool closed() const noexcept { return closed_; }

  /// The status code of a response's first line ("HTTP/1.1 431 ..." → 431); 0 when none.
  [[nodiscard]] static unsigned status_of(std::string_view response);
  /// A header field's value (name matched without regard to case); empty when absent.
  [[nodiscard]] static std::string header_of(std::string_view response, std::string_view name);

 private:
  // Appends what arrives within `limit` to `pending_`; false on timeout, close or error.
  bool read_some(std::chrono::steady_clock::time_point give_up);

  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

}  // namespace bulwark::test
