#pragma once
// A TCP proxy on loopback that puts faults between a client and a server: it listens on
// 127.0.0.1 (port chosen by the kernel), opens a connection to the target for every connection it
// accepts, and copies bytes both ways, misbehaving as told. Faults are switched on and off while
// traffic flows, from any thread; each applies from the next chunk of bytes (or the next
// connection, for faults that concern accepting) on.
//
// Directions: "replies" are the bytes the server sends to the client (downstream). Latency,
// bandwidth, slicing, garbage and reset-after-N-bytes act on replies, which is where a client's
// parser and timeouts are tested; requests are forwarded as they come (or discarded, when
// blackholed).
//
// The proxy runs its own io_context on its own thread, so it serves clients on any executor,
// blocking ones included. Randomness (latency jitter) comes from a seeded generator: a run is
// repeatable as far as the kernel's scheduling allows.
//
// Thread-safety: every member may be called from any thread except the proxy's own (no member
// is meant to be called from inside a handler, and the ones that wait for the proxy's thread
// would deadlock there).
// Lifetime: the destructor closes every connection and stops the thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace bulwark::test {

/// What `blackhole` swallows.
enum class Blackhole {
  off,
  /// New connections are accepted, and what is sent on any connection is read and discarded:
  /// the server never sees a request, the client never sees a reply (read timeouts fire).
  traffic,
  /// New connections are not accepted: the listening socket's queue is kept full, so the
  /// kernel drops the client's SYN and its connect hangs (connect timeouts fire).
  connects,
};

/// How often `inject_garbage` strikes.
enum class GarbageMode {
  /// Before the next chunk of reply bytes, on whichever connection carries it; then off.
  once,
  /// Before the first chunk of replies of every connection opened from now on, and of the
  /// open connections that have not carried a reply yet.
  every_connection,
};

struct FaultProxyStats {
  std::uint64_t accepted = 0;    ///< Connections accepted (reset-on-accept ones included).
  std::uint64_t open = 0;        ///< Client connections accepted and not yet closed.
  std::uint64_t bytes_up = 0;    ///< Client → server, forwarded.
  std::uint64_t bytes_down = 0;  ///< Server → client, forwarded (injected garbage excluded).
  std::uint64_t resets = 0;      ///< Connections the proxy ended with a TCP reset.
  std::uint64_t upstream_failures = 0;  ///< Accepted connections whose target could not be reached.
};

class FaultProxy {
 public:
  /// Starts listening and forwarding to `target_host`:`target_port` (an IP address).
  FaultProxy(std::string target_host, std::uint16_t target_port, std::uint32_t seed = 1);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// The port clients connect to; it stays the same across `refuse`, `down_for` and `clear`.
  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  /// "http://127.0.0.1:<port>" + `path`.
  [[nodiscard]] std::string url(const std::string& path = {}) const;

  // Faults. Zero durations and sizes mean "off".

  /// Holds every chunk of replies for `mean` ± a uniform `jitter` before forwarding it (one chunk
  /// after the other, so order is kept and delays add up along a connection).
  void latency(std::chrono::milliseconds mean,
               std::chrono::milliseconds jitter = std::chrono::milliseconds(0));
  /// Forwards replies at no more than `bytes_per_second`.
  void bandwidth(std::size_t bytes_per_second);
  /// true: closes the listening socket, so connecting is refused (open connections go on);
  /// false: listens again on the same port. Returns once done.
  void refuse(bool on);
  /// Accepts connections and resets them at once (SO_LINGER 0), without reaching the target.
  void reset_on_accept(bool on);
  /// Resets a connection once `bytes` of replies went through it since this call (or since it
  /// was opened, if later): the client gets exactly those bytes, then a reset. `times` bounds how
  /// many connections are reset (0 = every one), so that a retry on a new connection can succeed.
  void reset_after(std::size_t bytes, std::size_t times = 0);
  void blackhole(Blackhole mode);
  /// When one side closes its connection, the proxy waits this long before passing the close
  /// on to the other side.
  void slow_close(std::chrono::milliseconds delay);
  /// Writes replies in segments of at most `max_segment_bytes` (TCP_NODELAY, `gap` between
  /// segments), so that the client reads them in pieces.
  void slice(std::size_t max_segment_bytes,
             std::chrono::microseconds gap = std::chrono::microseconds(500));
  /// Puts `bytes` into the reply stream ahead of the server's bytes, as `mode` says.
  void inject_garbage(std::string bytes, GarbageMode mode = GarbageMode::once);
  /// Closes every open connection (with a reset) and refuses new ones for `duration`, then
  /// listens again. Returns at once; `is_down()` tells whether the outage is still on.
  void down_for(std::chrono::milliseconds duration);
  [[nodiscard]] bool is_down() const;
  /// Resets every open connection now.
  void drop_connections();
  /// Every fault off, listening again. Open connections stay. Returns once done.
  void clear();

  [[nodiscard]] FaultProxyStats stats() const;

  /// Polls `done` on the calling thread until it is true or `limit` passed; returns its last
  /// value. For conditions the proxy reaches on its own thread (`stats().open == 0`).
  static bool wait_for(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(5));

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::test
