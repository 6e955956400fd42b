// Proves that an installed bulwark is usable through find_package: headers, library and its
// dependencies all resolve (yaml-cpp too, which only the config loader uses).
#include <bulwark/bulwark.hpp>
#include <bulwark/manager/config.hpp>

#include <cstdio>

int main() {
  const bulwark::Duration d = bulwark::parse_duration("1.5s");
  const std::error_code ec = bulwark::errc::circuit_open;
  const bulwark::ManagerConfig config =
      bulwark::parse_config("services: {api: {url: \"http://${API_HOST:-localhost}:8080\"}}",
                            [](std::string_view) { return std::optional<std::string>(); });
  const std::string& url = config.services.at(0).client.base_url;
  std::printf("bulwark consumer: %s, %s, %s\n", bulwark::format_duration(d).c_str(),
              bulwark::error_name(ec).c_str(), url.c_str());
  return d == std::chrono::milliseconds(1500) && ec == bulwark::condition::rejected &&
                 url == "http://localhost:8080"
             ? 0
             : 1;
}
