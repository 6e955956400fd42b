#include "support/promtool.hpp"

#include "support/process.hpp"

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
  const ShellResult run = run_shell(command);
  result.output = run.output;
  result.exit_code = run.exit_code;
  std::filesystem::remove(file);
  return result;
}

}  // namespace bulwark::test
