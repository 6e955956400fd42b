#include "support/promtool.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

namespace bulwark::test {

std::filesystem::path find_promtool() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / "promtool";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

PromtoolResult check_metrics(const std::filesystem::path& promtool, const std::string& text) {
  static int sequence = 0;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("bulwark_metrics_" + std::to_string(::getpid()) +
                                                "_" + std::to_string(++sequence) + ".prom");
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  PromtoolResult result;
  const std::string command = promtool.string() + " check metrics < " + file.string() + " 2>&1";
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
      result.output.append(buffer.data(), n);
    }
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::filesystem::remove(file);
  return result;
}

}  // namespace bulwark::test
