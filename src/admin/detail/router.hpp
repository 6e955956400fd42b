#pragma once
// What the admin endpoint answers, without any I/O: the session parses a request, hands its
// method, target and Authorization header here, and writes back the reply. Rate limiting,
// authentication, routing and the status codes of the health routes are all decided here, so
// unit tests cover them without sockets.
//
// Thread-safety: `handle` may be called from any number of threads at once, provided the
// sources may.

#include "bulwark/admin/admin_server.hpp"
#include "bulwark/core/clock.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/manager/health.hpp"
#include "bulwark/resilience/rate_limiter.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::detail {

struct AdminRequest {
  std::string_view method;
  std::string_view target;  ///< As sent: path and optional query.
  std::optional<std::string_view> authorization;
};

struct AdminReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Fields besides Content-Type (security headers, Allow, Retry-After, ...).
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first field named `name` (exact case), if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// Where the content comes from; a `ClientManager` in the server, fakes in tests.
struct AdminSources {
  std::function<HealthReport()> health;
  std::function<bool()> started;
  std::function<std::string()> metrics;
  /// The /status page for the given report.
  std::function<std::string(const HealthReport&)> status_page;
};

/// The routes served.
enum class AdminRoute { health, live, ready, metrics, status };

/// 200 when every available client is healthy, else 503.
[[nodiscard]] unsigned health_status(const HealthReport& report) noexcept;
/// Started, and no available non-optional client is FAILED.
[[nodiscard]] bool is_ready(const HealthReport& report, bool started) noexcept;
/// True when `authorization` is `Bearer <token>` (scheme in any case) with `token` equal to
/// `expected`, compared in constant time.
[[nodiscard]] bool bearer_matches(std::optional<std::string_view> authorization,
                                  const Secret& expected);
/// A JSON error reply `{"error": message}` with the security headers.
[[nodiscard]] AdminReply error_reply(unsigned status, std::string_view message);

class Router {
 public:
  /// `clock` drives the rate limiter; null = the steady clock.
  Router(const AdminOptions& options, AdminSources sources, std::shared_ptr<Clock> clock = nullptr);

  [[nodiscard]] AdminReply handle(const AdminRequest& request);

 private:
  [[nodiscard]] AdminReply route_to(AdminRoute route);

  std::optional<Secret> token_;
  std::unique_ptr<RateLimiter> limiter_;
  AdminSources sources_;
};

}  // namespace bulwark::detail
