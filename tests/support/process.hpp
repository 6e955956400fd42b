#pragma once
// Small POSIX helpers the server fixtures share: private temporary directories, child processes
// with their output in a log file, and waiting for a port to accept connections.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace bulwark::test {

/// A new directory `<tmp>/<prefix>-XXXXXX`, readable by its owner only.
[[nodiscard]] std::filesystem::path make_temp_dir(std::string_view prefix);

/// Starts `argv` (argv[0] looked up in PATH unless it has a slash) with standard output and error
/// appended to `log`. Throws if it cannot be started.
[[nodiscard]] pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Like `spawn(argv, log)`, with standard output and standard error in files of their own.
[[nodiscard]] pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out,
                          const std::filesystem::path& err);

/// Waits up to `limit` for `pid` to exit and reaps it: its exit status (128 + the signal number
/// when a signal ended it), or nothing when it still runs at `limit`.
[[nodiscard]] std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit);

/// True while a process `pid` exists (a zombie included) whose command name is `name`.
[[nodiscard]] bool process_named(pid_t pid, std::string_view name);

/// True when a TCP connection to 127.0.0.1:`port` succeeds.
[[nodiscard]] bool port_accepts(std::uint16_t port);

/// What a shell command printed on standard output (with `2>&1` in it, its errors too) and its
/// exit status (-1 when it could not be run or a signal ended it).
struct ShellResult {
  std::string output;
  int exit_code = -1;
};
/// Runs `command` with /bin/sh and waits for it.
[[nodiscard]] ShellResult run_shell(const std::string& command);
/// `text` without the line breaks at its end.
[[nodiscard]] std::string trim_line_ends(std::string text);

/// Sends `signal` to `pid` and reaps it; after `grace` without exit, SIGKILL and reap.
void stop_process(pid_t pid, int signal, std::chrono::milliseconds grace);

/// The last `max_bytes` of a text file ("" if it cannot be read).
[[nodiscard]] std::string file_tail(const std::filesystem::path& path,
                                    std::size_t max_bytes = 4000);

}  // namespace bulwark::test
