// Proves that an installed bulwark is usable through find_package: headers, library and its
// dependencies all resolve.
#include <bulwark/bulwark.hpp>

#include <cstdio>

int main() {
  const bulwark::Duration d = bulwark::parse_duration("1.5s");
  const std::error_code ec = bulwark::errc::circuit_open;
  std::printf("bulwark consumer: %s, %s\n", bulwark::format_duration(d).c_str(),
              bulwark::error_name(ec).c_str());
  return d == std::chrono::milliseconds(1500) && ec == bulwark::condition::rejected ? 0 : 1;
}
