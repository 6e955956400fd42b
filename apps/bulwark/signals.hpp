#pragma once
// Signals a long-running subcommand reacts to (SIGINT and SIGTERM stop it, SIGHUP reloads
// `serve`), caught by an asio::signal_set rather than raw handlers, and handed to the thread that
// waits for them. That thread is the one driving the program (the main thread), so whatever a
// signal triggers — a reload, a shutdown that blocks until connections close — runs there, and
// never inside a signal handler or on a thread of a runtime it may have to stop.
//
// Not thread-safe: one thread constructs it and calls `wait_until`. Construct it before starting
// anything that takes time, so that a signal arriving early is caught instead of killing the
// process (SIGHUP's default action).

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <deque>
#include <initializer_list>
#include <optional>

namespace bulwark::cli {

class SignalWaiter {
 public:
  /// Catches `signals` from now on, until destroyed (their default actions are restored then).
  explicit SignalWaiter(std::initializer_list<int> signals);
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  /// The next signal caught (in order of arrival; one already caught returns at once), or
  /// nothing when none arrived before `deadline`.
  std::optional<int> wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  void arm();

  boost::asio::io_context io_;
  boost::asio::signal_set set_;
  std::deque<int> caught_;
  bool armed_ = false;
};

/// The conventional exit status of a program stopped by `signal`: 128 + its number.
[[nodiscard]] constexpr int exit_for_signal(int signal) noexcept { return 128 + signal; }

}  // namespace bulwark::cli
