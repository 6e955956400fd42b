// `bulwark serve`: the clients of a configuration, watched, behind the admin endpoint, until a
// signal stops the program; SIGHUP reloads the configuration without dropping the endpoint.
#include "bulwark/admin/admin_server.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/runtime.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "commands.hpp"
#include "config_issues.hpp"
#include "signals.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

namespace bulwark::cli {
namespace {

struct ServeOptions {
  std::string file;
  std::string admin;  // empty: the configuration's admin.listen, else the default
  std::string stop_timeout = "5s";
};

// A line for whoever runs the program (and for tests, which read the port from it), flushed at
// once because stdout is usually a pipe or a file when a service manager runs the program.
template <class... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stdout, "bulwark: {}\n", fmt::format(format, std::forward<Args>(args)...));
  std::fflush(stdout);
}

std::string counts(const ManagerConfig& config) {
  return fmt::format("{} HTTP service{}, {} Redis database{}", config.services.size(),
                     config.services.size() == 1 ? "" : "s", config.redis.size(),
                     config.redis.size() == 1 ? "" : "s");
}

// "http://127.0.0.1:9090" for a listen address and the port actually bound (port 0 picks one).
std::string endpoint_url(std::string_view listen, std::uint16_t port) {
  const auto colon = listen.rfind(':');
  return fmt::format("http://{}:{}", listen.substr(0, colon), port);
}

// The running state: the manager of the configuration loaded last, and the admin endpoint on a
// runtime of its own, so that it outlives the managers that reloads replace.
class Server {
 public:
  Server(ServeOptions options, Duration stop_timeout)
      : options_(std::move(options)), stop_timeout_(stop_timeout) {}

  // Exit status when it cannot start; nothing when it runs.
  std::optional<int> start() {
    ManagerConfig config;
    try {
      config = load_config(options_.file);
    } catch (const ConfigError& error) {
      print_config_issues(stderr, problems_headline(options_.file, error), error);
      return exit_invalid_config;
    }
    AdminOptions admin_options;
    admin_options.listen = !options_.admin.empty()        ? options_.admin
                           : !config.admin.listen.empty() ? config.admin.listen
                                                          : admin_options.listen;
    admin_options.bearer_token = config.admin.token;
    // A bad --admin is the command line's fault, not the file's: say so.
    std::vector<ConfigIssue> admin_issues;
    AdminServer::validate(admin_options, admin_issues);
    if (!admin_issues.empty()) {
      const ConfigError error(std::move(admin_issues));
      print_config_issues(stderr,
                          options_.admin.empty() ? problems_headline(options_.file, error)
                                                 : std::string("bulwark: --admin is not usable"),
                          error);
      return exit_invalid_config;
    }
    const std::string summary = counts(config);
    try {
      manager_ = std::make_unique<ClientManager>(std::move(config));
      admin_ = std::make_unique<AdminServer>(*manager_, admin_options, admin_runtime_.executor());
    } catch (const ConfigError& error) {
      print_config_issues(stderr, problems_headline(options_.file, error), error);
      return exit_invalid_config;
    }
    manager_->start();
    try {
      admin_->start();
    } catch (const Error& error) {
      fmt::print(stderr, "bulwark: {}\n", error.what());
      stop();
      return exit_unhealthy;
    }
    say("admin endpoint on {}", endpoint_url(admin_options.listen, admin_->port()));
    say("serving {} from {} (SIGHUP reloads it; SIGINT or SIGTERM stops)", summary, options_.file);
    return std::nullopt;
  }

  // Loads the file again. A configuration that is not valid changes nothing: its problems go to
  // stderr and the clients of the previous one keep serving.
  void reload() {
    spdlog::info("bulwark: SIGHUP: reloading {}", options_.file);
    std::unique_ptr<ClientManager> next;
    std::string summary;
    try {
      ManagerConfig config = load_config(options_.file);
      if (options_.admin.empty() && !config.admin.listen.empty() &&
          config.admin.listen != admin_->options().listen) {
        spdlog::warn("bulwark: admin.listen changed to {}; the endpoint stays on {} until restart",
                     config.admin.listen, admin_->options().listen);
      }
      const std::optional<Secret>& token = admin_->options().bearer_token;
      if (config.admin.token.has_value() != token.has_value() ||
          (token && config.admin.token->reveal() != token->reveal())) {
        spdlog::warn(
            "bulwark: admin.token changed; the endpoint keeps the previous one until "
            "restart");
      }
      summary = counts(config);
      next = std::make_unique<ClientManager>(std::move(config));
    } catch (const ConfigError& error) {
      const std::string headline = fmt::format(
          "bulwark: {}: reload rejected, {} problem{}; still serving the previous configuration",
          options_.file, error.issues().size(), error.issues().size() == 1 ? "" : "s");
      print_config_issues(stderr, headline, error);
      return;
    }
    next->start();
    // From here on requests read the new manager; the old one is drained and closed.
    admin_->use_manager(*next);
    std::swap(manager_, next);
    next->stop(stop_timeout_);
    next.reset();
    say("reloaded {}: {}", options_.file, summary);
  }

  void stop() {
    if (admin_) admin_->stop(stop_timeout_);
    if (manager_) manager_->stop(stop_timeout_);
  }

 private:
  ServeOptions options_;
  Duration stop_timeout_;
  // Declared before what runs on it: destroyed last.
  Runtime admin_runtime_{RuntimeOptions{.threads = 1}};
  std::unique_ptr<ClientManager> manager_;
  std::unique_ptr<AdminServer> admin_;
};

int serve(const ServeOptions& options) {
  // First of all, so that a SIGHUP or SIGTERM sent while starting is not fatal or lost.
  SignalWaiter signals({SIGINT, SIGTERM, SIGHUP});
  const Duration stop_timeout = parse_duration(options.stop_timeout);
  Server server(options, stop_timeout);
  if (const auto failed = server.start()) return *failed;
  for (;;) {
    const std::optional<int> signal =
        signals.wait_until(std::chrono::steady_clock::time_point::max());
    if (!signal) continue;
    if (*signal == SIGHUP) {
      server.reload();
      continue;
    }
    say("{}: stopping (up to {} to drain)", *signal == SIGINT ? "SIGINT" : "SIGTERM",
        format_duration(stop_timeout));
    break;
  }
  server.stop();
  say("stopped");
  return exit_ok;
}

}  // namespace

Run add_serve(CLI::App& app) {
  auto* command = app.add_subcommand(
      "serve", "Run the configured clients with health monitoring behind the admin endpoint");
  auto options = std::make_shared<ServeOptions>();
  command->add_option("-c,--config", options->file, "YAML configuration file")->required();
  command->add_option("--admin", options->admin,
                      "Admin endpoint address host:port (default: the configuration's "
                      "admin.listen, else 127.0.0.1:9090; port 0 picks a free port)");
  command
      ->add_option("--stop-timeout", options->stop_timeout,
                   "How long stopping waits for requests and calls in flight (default 5s)")
      ->check(duration_validator());
  command->footer(
      "Serves /health, /health/live, /health/ready, /metrics and /status and prints\n"
      "\"bulwark: admin endpoint on http://HOST:PORT\" once it listens.\n\n"
      "Signals: SIGHUP reloads the configuration (an invalid one is rejected, its problems\n"
      "printed, and the previous one keeps serving); SIGINT or SIGTERM stop gracefully.\n\n"
      "Exit status: 0 after a signal stopped it, 1 when the endpoint cannot listen, 2 when the\n"
      "configuration is invalid at start.\n\n"
      "Examples:\n  bulwark serve -c bulwark.yaml\n"
      "  bulwark serve -c bulwark.yaml --admin 0.0.0.0:9090   # reachable from the network");
  return [command, options] {
    if (!command->parsed()) return -1;
    return serve(*options);
  };
}

}  // namespace bulwark::cli
