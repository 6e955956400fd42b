#pragma once
// The deadline of whatever a connection is doing (writing a request, reading a response), kept
// without a strand.
//
// A per-operation timer raced against the socket needs the two handlers serialized, which on a
// multi-threaded executor means a strand and an extra scheduler hop for every completion. The
// watchdog instead shuts the socket down (shutdown(2) on its descriptor, which the kernel makes
// safe from any thread) when the deadline passes: the pending operation then fails, and the
// connection asks `disarm()` whether that failure was the deadline. One timer per connection,
// re-armed only when a deadline comes earlier than the one it waits for, so a request in the
// common case costs a few uncontended lock operations and no timer operation.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace bulwark::http::detail {

class Watchdog : public std::enable_shared_from_this<Watchdog> {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Watches the socket with descriptor `fd`, whose owner calls `stop()` before closing it.
  Watchdog(const boost::asio::any_io_executor& executor, int fd);

  // From now until `disarm()`, the socket is shut down if `deadline` passes. Called again, it
  // replaces the deadline (a read timeout restarted for the next read).
  void arm(Deadline deadline);
  // Stops watching. True when a deadline has passed and the socket was shut down, then or at any
  // time before: a shut-down socket stays so, whatever deadline was armed since.
  bool disarm();
  // The socket is about to be closed: its descriptor is never touched again.
  void stop() noexcept;

 private:
  void wait_locked(Deadline until);
  void on_timer(std::uint64_t wait);

  std::mutex mutex_;
  boost::asio::steady_timer timer_;
  int fd_;
  Deadline deadline_ = Deadline::max();       // Of the current operation; max = idle.
  Deadline waiting_until_ = Deadline::max();  // The pending wait's expiry; max = none.
  std::uint64_t wait_ = 0;                    // Identifies the pending wait.
  bool fired_ = false;
};

}  // namespace bulwark::http::detail
