#include "signals.hpp"

namespace bulwark::cli {

SignalWaiter::SignalWaiter(std::initializer_list<int> signals) : set_(io_) {
  for (const int signal : signals) set_.add(signal);
  // Armed at once: a signal that arrives before the first wait is then kept by the set.
  arm();
}

void SignalWaiter::arm() {
  if (armed_) return;
  armed_ = true;
  set_.async_wait([this](const boost::system::error_code& ec, int signal) {
    armed_ = false;
    if (ec) return;
    caught_.push_back(signal);
    arm();
  });
}

std::optional<int> SignalWaiter::wait_until(std::chrono::steady_clock::time_point deadline) {
  // Handlers run only here, on the waiting thread: io_ has no thread of its own.
  io_.restart();
  (void)io_.poll();
  while (caught_.empty() && std::chrono::steady_clock::now() < deadline) {
    (void)io_.run_one_until(deadline);
  }
  if (caught_.empty()) return std::nullopt;
  const int signal = caught_.front();
  caught_.pop_front();
  return signal;
}

}  // namespace bulwark::cli
