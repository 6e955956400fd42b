#pragma once
// The HTTP service the demo's client calls: a small Boost.Beast server on a loopback port, on a
// thread of its own, whose behaviour the demo changes from phase to phase.
//
//   healthy  answers every request at once (`/healthz` "ok"; anything else a small JSON item)
//   slow     answers after 120 ms, and one request in four after 700 ms (longer than the
//            demo client's read timeout, so those attempts time out)
//   failing  answers two requests in three with 503 Service Unavailable
//   down     stops listening and closes every connection: connecting is refused
//
// Thread-safety: every member may be called from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bulwark::cli {

enum class ServiceMode { healthy, slow, failing, down };

[[nodiscard]] std::string_view to_string(ServiceMode mode) noexcept;

class DemoService {
 public:
  /// Listens on 127.0.0.1 on a port the kernel picks. Throws `std::system_error` if it cannot.
  DemoService();
  /// Closes every connection and stops the thread.
  ~DemoService();
  DemoService(const DemoService&) = delete;
  DemoService& operator=(const DemoService&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  /// "http://127.0.0.1:<port>".
  [[nodiscard]] std::string url() const;

  /// Applies from the next request on; `down` and leaving it take effect before this returns
  /// (the listener is closed, or listening again on the same port).
  void set_mode(ServiceMode mode);
  [[nodiscard]] ServiceMode mode() const noexcept;

  /// Requests the service received, whatever it answered: what reached the network.
  [[nodiscard]] std::uint64_t requests() const noexcept;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bulwark::cli
