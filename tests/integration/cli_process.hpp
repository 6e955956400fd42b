#pragma once
// The `bulwark` program running in the background, as a service manager or a user at a terminal
// would run it: its standard output and error in files of a private directory, signals sent to
// it, its exit status read. The destructor kills and reaps it if a test left it running.

#include "support/process.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::test {

/// Polls `done` every 10 ms until it is true or `limit` has passed; returns its last value.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class CliProcess {
 public:
  /// Runs `program` (the bulwark program by default) with `args`.
  explicit CliProcess(const std::vector<std::string>& args,
                      const std::string& program = BULWARK_CLI)
      : dir_(make_temp_dir("bulwark-cli-run")) {
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn(argv, dir_ / "stdout", dir_ / "stderr");
  }
  ~CliProcess() {
    if (pid_ > 0) stop_process(pid_, SIGKILL, std::chrono::seconds(1));
    std::filesystem::remove_all(dir_);
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] std::string out() const { return file_tail(dir_ / "stdout", 1 << 20); }
  [[nodiscard]] std::string err() const { return file_tail(dir_ / "stderr", 1 << 20); }

  void signal(int number) const { ::kill(pid_, number); }

  /// Its exit status once it exited within `limit`; nothing while it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    status_ = wait_for_exit(pid_, limit);
    if (status_) pid_ = -1;
    return status_;
  }
  [[nodiscard]] bool running() { return !wait_exit(std::chrono::milliseconds(0)); }

  /// Waits for `text` on its standard output.
  bool wait_for_output(const std::string& text,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return eventually([&] { return out().find(text) != std::string::npos || !running(); }, limit) &&
           out().find(text) != std::string::npos;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace bulwark::test
