#include "admin/detail/router.hpp"

#include "bulwark/observe/registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>

namespace bulwark::detail {
namespace {

constexpr std::string_view html_type = "text/html; charset=utf-8";
constexpr std::string_view json_type = "application/json";

// No scripts, no outside resources, no framing: the page is markup, inline CSS and inline SVG.
constexpr std::string_view content_security_policy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

using Route = AdminRoute;

struct RouteEntry {
  std::string_view path;
  Route route;
};

constexpr std::array<RouteEntry, 5> routes = {{{"/health", Route::health},
                                               {"/health/live", Route::live},
                                               {"/health/ready", Route::ready},
                                               {"/metrics", Route::metrics},
                                               {"/status", Route::status}}};

std::optional<Route> find_route(std::string_view path) {
  for (const RouteEntry& entry : routes) {
    if (entry.path == path) return entry.route;
  }
  return std::nullopt;
}

AdminReply with_security_headers(AdminReply reply) {
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Cache-Control", "no-store");
  reply.headers.emplace_back("Content-Security-Policy", std::string(content_security_policy));
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  return reply;
}

AdminReply json_reply(unsigned status, const boost::json::value& body) {
  AdminReply reply;
  reply.status = status;
  reply.content_type = json_type;
  reply.body = boost::json::serialize(body);
  reply.body += '\n';
  return with_security_headers(std::move(reply));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string_view> AdminReply::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (field == name) return value;
  }
  return std::nullopt;
}

unsigned health_status(const HealthReport& report) noexcept {
  const bool all_healthy =
      std::all_of(report.clients.begin(), report.clients.end(), [](const ClientHealth& client) {
        return !client.available || client.state == HealthState::healthy;
      });
  return all_healthy ? 200U : 503U;
}

bool is_ready(const HealthReport& report, bool started) noexcept {
  return started &&
         std::none_of(report.clients.begin(), report.clients.end(), [](const ClientHealth& c) {
           return c.available && !c.optional && c.state == HealthState::failed;
         });
}

bool bearer_matches(std::optional<std::string_view> authorization, const Secret& expected) {
  if (!authorization) return false;
  std::string_view value = trim(*authorization);
  constexpr std::string_view scheme = "bearer";
  if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme) ||
      (value[scheme.size()] != ' ' && value[scheme.size()] != '\t')) {
    return false;
  }
  // Secret's comparison takes the same time wherever the values differ; the copy is wiped when
  // it goes away, like every Secret.
  const Secret offered{std::string(trim(value.substr(scheme.size())))};
  return !offered.empty() && offered == expected;
}

AdminReply error_reply(unsigned status, std::string_view message) {
  return json_reply(status, boost::json::object{{"error", message}});
}

Router::Router(const AdminOptions& options, AdminSources sources, std::shared_ptr<Clock> clock)
    : sources_(std::move(sources)) {
  if (options.bearer_token && !options.bearer_token->empty()) token_ = options.bearer_token;
  if (options.max_requests_per_second > 0) {
    RateLimiterConfig limiter;
    limiter.name = "admin";
    limiter.rate = options.max_requests_per_second;
    limiter.clock = std::move(clock);
    limiter_ = std::make_unique<RateLimiter>(std::move(limiter));
  }
}

AdminReply Router::handle(const AdminRequest& request) {
  if (limiter_) {
    const RateLimiter::Admission admission = limiter_->try_acquire(1, Duration::zero());
    if (admission.error) {
      AdminReply reply = error_reply(429, "too many requests");
      const double seconds = std::chrono::duration<double>(admission.wait).count();
      const auto retry_after = static_cast<long long>(std::max(1.0, std::ceil(seconds)));
      reply.headers.emplace_back("Retry-After", std::to_string(retry_after));
      return reply;
    }
  }
  const std::string_view path = request.target.substr(0, request.target.find_first_of("?#"));
  const std::optional<Route> route = find_route(path);
  // Everything but liveness needs the token, unknown paths included: without it, nobody learns
  // which paths exist.
  if (token_ && route != Route::live && !bearer_matches(request.authorization, *token_)) {
    AdminReply reply = error_reply(401, "unauthorized");
    reply.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="bulwark admin")");
    return reply;
  }
  if (!route) {
    return json_reply(404,
                      boost::json::object{
                          {"error", "not found"},
                          {"routes", boost::json::array{"/health", "/health/live", "/health/ready",
                                                        "/metrics", "/status"}}});
  }
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    AdminReply reply = error_reply(405, "method not allowed");
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  try {
    return route_to(*route);
  } catch (const std::exception& error) {
    // Library errors never carry secrets, so the reason can be logged; the caller learns less.
    spdlog::warn("bulwark admin: {} failed: {}", path, error.what());
    return error_reply(500, "internal error");
  }
}

AdminReply Router::route_to(AdminRoute route) {
  switch (route) {
    case Route::live:
      return json_reply(200, boost::json::object{{"status", "alive"}});
    case Route::health: {
      const HealthReport report = sources_.health();
      return json_reply(health_status(report), report.to_json());
    }
    case Route::ready: {
      const HealthReport report = sources_.health();
      const bool started = sources_.started();
      boost::json::array failed;
      for (const ClientHealth& client : report.clients) {
        if (client.available && !client.optional && client.state == HealthState::failed) {
          failed.emplace_back(client.name);
        }
      }
      const bool ready = is_ready(report, started);
      return json_reply(ready ? 200 : 503,
                        boost::json::object{{"status", ready ? "ready" : "not_ready"},
                                            {"started", started},
                                            {"failed", std::move(failed)}});
    }
    case Route::metrics: {
      AdminReply reply;
      reply.content_type = observe::prometheus_content_type;
      reply.body = sources_.metrics();
      return with_security_headers(std::move(reply));
    }
    case Route::status: {
      AdminReply reply;
      reply.content_type = html_type;
      reply.body = sources_.status_page(sources_.health());
      return with_security_headers(std::move(reply));
    }
  }
  return error_reply(500, "internal error");
}

}  // namespace bulwark::detail
