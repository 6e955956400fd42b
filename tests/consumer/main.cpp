// Proves that an installed bulwark is usable through find_package: headers, library and its
// dependencies all resolve (yaml-cpp too, which only the config loader uses), and a ClientManager
// built from YAML runs its health checks and exports metrics.
#include <bulwark/bulwark.hpp>
#include <bulwark/manager/client_manager.hpp>
#include <bulwark/manager/config.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>

namespace {

// A loopback port nothing listens on: bound, read back and released.
unsigned unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "bulwark consumer: FAILED: %s\n", what);
  return ok;
}

// A manager over one required service that is down: checking it reports the service FAILED
// (no exception), and the metrics say so too.
bool manager_reports_a_service_that_is_down() {
  std::string yaml =
      "health: {timeout: 1s, max_consecutive_failures: 1}\n"
      "services:\n"
      "  api:\n"
      "    url: http://127.0.0.1:";
  yaml += std::to_string(unused_port());
  yaml += "\n    optional: false\n    health: {path: /healthz}\n";
  bulwark::ClientManager manager(bulwark::parse_config(
      yaml, [](std::string_view) { return std::optional<std::string>(); }, "consumer"));
  const bulwark::HealthReport report = manager.check_now_blocking();
  const bulwark::ClientHealth* api = report.find("api");
  const std::string metrics = manager.metrics().expose();
  manager.stop(std::chrono::seconds(1));
  std::printf("bulwark consumer: api is %s (%s)\n",
              api ? std::string(bulwark::to_string(api->state)).c_str() : "missing",
              api ? api->last_error.c_str() : "");
  return check(api != nullptr && api->state == bulwark::HealthState::failed, "api is failed") &&
         check(report.state == bulwark::HealthState::failed, "the report is failed") &&
         check(api->last_error.find("connect") != std::string::npos, "the error says why") &&
         check(metrics.find("bulwark_health_state{client=\"api\",state=\"failed\"} 1") !=
                   std::string::npos,
               "metrics show the state");
}

}  // namespace

int main() {
  const bulwark::Duration d = bulwark::parse_duration("1.5s");
  const std::error_code ec = bulwark::errc::circuit_open;
  const bulwark::ManagerConfig config =
      bulwark::parse_config("services: {api: {url: \"http://${API_HOST:-localhost}:8080\"}}",
                            [](std::string_view) { return std::optional<std::string>(); });
  const std::string& url = config.services.at(0).client.base_url;
  std::printf("bulwark consumer: %s, %s, %s\n", bulwark::format_duration(d).c_str(),
              bulwark::error_name(ec).c_str(), url.c_str());
  bool ok = check(d == std::chrono::milliseconds(1500), "duration") &&
            check(ec == bulwark::condition::rejected, "error condition") &&
            check(url == "http://localhost:8080", "environment default");
  try {
    ok = manager_reports_a_service_that_is_down() && ok;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bulwark consumer: FAILED: unexpected exception: %s\n", error.what());
    ok = false;
  }
  return ok ? 0 : 1;
}
