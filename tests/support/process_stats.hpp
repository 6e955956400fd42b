#pragma once
// What the process holds right now, read from /proc: open file descriptors and resident memory.
// The fault scenarios and the soak run compare them before and after.

#include <cstddef>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace bulwark::test {

/// Entries of /proc/self/fd: every socket, pipe and file the process holds.
inline std::size_t open_fd_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

/// Resident set size of the process, in KiB (/proc/self/statm).
inline std::size_t resident_kib() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total_pages = 0;
  std::size_t resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

}  // namespace bulwark::test
