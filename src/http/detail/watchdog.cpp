#include "http/detail/watchdog.hpp"

#include <sys/socket.h>

namespace bulwark::http::detail {

Watchdog::Watchdog(const boost::asio::any_io_executor& executor, int fd)
    : timer_(executor), fd_(fd) {}

void Watchdog::arm(Deadline deadline) {
  std::lock_guard lock(mutex_);
  deadline_ = deadline;
  // Not `fired_ = false`: once the deadline passed the socket is shut down for good, and an
  // operation that completed just before the shutdown must not make the failures after it
  // look like the peer's doing.
  // A wait already pending until an earlier time wakes up then and waits again for the rest.
  if (deadline < waiting_until_) wait_locked(deadline);
}

bool Watchdog::disarm() {
  std::lock_guard lock(mutex_);
  deadline_ = Deadline::max();
  return fired_;
}

void Watchdog::stop() noexcept {
  std::lock_guard lock(mutex_);
  fd_ = -1;
  deadline_ = Deadline::max();
  ++wait_;
  waiting_until_ = Deadline::max();
  timer_.cancel();
}

void Watchdog::wait_locked(Deadline until) {
  waiting_until_ = until;
  timer_.expires_at(until);  // Cancels the wait pending, if any: its handler sees a stale id.
  timer_.async_wait([self = shared_from_this(), wait = ++wait_](const boost::system::error_code&) {
    self->on_timer(wait);
  });
}

void Watchdog::on_timer(std::uint64_t wait) {
  std::lock_guard lock(mutex_);
  if (wait != wait_) return;
  waiting_until_ = Deadline::max();
  if (deadline_ == Deadline::max()) return;  // Idle: the next arm() starts a wait.
  if (std::chrono::steady_clock::now() >= deadline_) {
    fired_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    return;
  }
  wait_locked(deadline_);  // The deadline moved later since this wait began.
}

}  // namespace bulwark::http::detail
