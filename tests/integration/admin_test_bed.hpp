#pragma once
// What the admin endpoint's tests share: a ClientManager over a test HTTP service ("svc") and a
// real redis-server ("cache"), plus any services a test adds, with an AdminServer on a port the
// kernel picks and a blocking HTTP client that calls it.

#include "bulwark/admin/admin_server.hpp"
#include "bulwark/core/runtime.hpp"
#include "bulwark/http/sync_client.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "support/http_server.hpp"
#include "support/redis_server.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::test {

/// An HTTP service named `name` on `server`, checked at `health_path`, without retries (so that
/// call counts are exact) and with a breaker that stays open unless the client is rebuilt.
inline HttpServiceConfig admin_test_service(std::string name, const HttpServer& server,
                                            std::string health_path = "/health") {
  using namespace std::chrono_literals;
  HttpServiceConfig config;
  config.name = name;
  config.client.name = std::move(name);
  config.client.base_url = server.base_url();
  config.client.timeouts.connect = 1s;
  config.client.timeouts.read = 5s;
  config.client.retry.reset();
  config.client.circuit_breaker->consecutive_failures = 3;
  config.client.circuit_breaker->recovery_timeout = 1h;
  config.client.circuit_breaker->max_recovery_timeout = 1h;
  config.health_path = std::move(health_path);
  return config;
}

class AdminTestBed {
 public:
  /// `options.listen` is replaced by 127.0.0.1:0. The manager is started unless `start_manager`
  /// is false; it checks every client once at once, and then only every hour, so that tests run
  /// their check rounds themselves and know how many ran.
  explicit AdminTestBed(AdminOptions options = {}, std::vector<HttpServiceConfig> extra = {},
                        bool start_manager = true)
      : manager_(config(std::move(extra))), admin_(manager_, with_free_port(std::move(options))) {
    if (start_manager) {
      manager_.start();
      HttpServer::wait_for([this] {
        const HealthReport report = manager_.health();
        return std::all_of(report.clients.begin(), report.clients.end(),
                           [](const ClientHealth& client) { return client.last_check > 0; });
      });
    }
    admin_.start();
    http::ClientConfig client;
    client.name = "admin-test";
    client.base_url = "http://127.0.0.1:" + std::to_string(admin_.port());
    client.retry.reset();            // 429 and 503 are what the tests look for
    client.circuit_breaker.reset();  // and must not open anything
    client_ = std::make_unique<http::SyncClient>(runtime_, std::move(client));
  }

  ~AdminTestBed() { admin_.stop(); }

  AdminTestBed(const AdminTestBed&) = delete;
  AdminTestBed& operator=(const AdminTestBed&) = delete;

  /// `GET target` (or another method), with `Authorization: Bearer <token>` when given.
  http::Response call(std::string target, std::optional<std::string> token = std::nullopt,
                      std::string method = "GET") {
    http::Request request = http::Request::make(std::move(method), std::move(target));
    if (token) request.header("Authorization", "Bearer " + *token);
    return client_->send(std::move(request));
  }

  http::Response send(http::Request request) { return client_->send(std::move(request)); }

  HttpServer& service() { return service_; }
  RedisServer& redis() { return redis_; }
  ClientManager& manager() { return manager_; }
  AdminServer& admin() { return admin_; }
  std::uint16_t port() const { return admin_.port(); }

 private:
  ManagerConfig config(std::vector<HttpServiceConfig> extra) {
    using namespace std::chrono_literals;
    ManagerConfig config;
    config.health = {.interval = 1h, .timeout = 5s, .max_consecutive_failures = 2};
    config.services.push_back(admin_test_service("svc", service_));
    for (HttpServiceConfig& service : extra) config.services.push_back(std::move(service));
    RedisDatabaseConfig cache;
    cache.name = "cache";
    cache.client.name = "redis.cache";
    cache.client.connection.port = redis_.port();
    cache.client.connection.connect_timeout = 1s;
    cache.client.command_timeout = 1s;
    cache.client.wait_for_loading = 0s;
    config.redis.push_back(std::move(cache));
    return config;
  }

  static AdminOptions with_free_port(AdminOptions options) {
    options.listen = "127.0.0.1:0";
    return options;
  }

  HttpServer service_;
  RedisServer redis_;
  ClientManager manager_;
  AdminServer admin_;
  Runtime runtime_{RuntimeOptions{.threads = 1}};
  std::unique_ptr<http::SyncClient> client_;
};

}  // namespace bulwark::test
