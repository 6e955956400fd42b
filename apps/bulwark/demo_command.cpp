// `bulwark demo`: a tour of what bulwark does when services misbehave, for someone who has just
// cloned it. It starts a real redis-server and an HTTP service of its own, builds a
// ClientManager over them from YAML, sends steady traffic through it, breaks the services one
// way after another, and shows live what the clients, breakers and health checks make of it.
#include "bulwark/admin/admin_server.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/observe/registry.hpp"
#include "commands.hpp"
#include "demo_config.hpp"
#include "demo_phases.hpp"
#include "demo_redis.hpp"
#include "demo_screen.hpp"
#include "demo_service.hpp"
#include "demo_summary.hpp"
#include "demo_view.hpp"
#include "demo_workload.hpp"
#include "logging.hpp"
#include "signals.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <deque>
#include <memory>
#include <optional>

namespace bulwark::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoOptions {
  std::string duration = "60s";
  std::string admin;  // empty: no admin endpoint
};

// One client's way back from the outage the demo causes: when its service returned, and when
// its health said HEALTHY again after having noticed the outage.
class RecoveryWatch {
 public:
  void outage() {
    in_outage_ = true;
    noticed_ = false;
    back_.reset();
    healthy_again_.reset();
  }
  void back(Clock::time_point at) { back_ = at; }
  void observe(std::string_view health, Clock::time_point now) {
    if (!in_outage_) return;
    if (health != "healthy") {
      noticed_ = true;
    } else if (back_ && noticed_ && !healthy_again_) {
      healthy_again_ = now - *back_;
    }
  }
  [[nodiscard]] std::optional<Duration> healthy_again() const { return healthy_again_; }

 private:
  bool in_outage_ = false;
  bool noticed_ = false;
  std::optional<Clock::time_point> back_;
  std::optional<Duration> healthy_again_;
};

std::string stamp(Duration since_start) {
  return fmt::format("[{:6.1f}s]", std::chrono::duration<double>(since_start).count());
}

std::string progress_bar(double fraction, std::size_t width) {
  const auto filled = static_cast<std::size_t>(std::clamp(fraction, 0.0, 1.0) * width);
  return fmt::format("[{}{}]", std::string(filled, '#'), std::string(width - filled, '.'));
}

class Demo {
 public:
  Demo(const DemoOptions& options, Duration total)
      : options_(options), total_(total), phases_(schedule_phases(total)) {}

  // Returns the exit status.
  int run(SignalWaiter& signals) {
    redis_.emplace();
    redis_->start();
    service_.emplace();
    manager_.emplace(demo_config(service_->port(), redis_->port()));
    manager_->start();
    print_setup();
    if (!options_.admin.empty()) {
      admin_.emplace(*manager_, AdminOptions{.listen = options_.admin});
      admin_->start();
      admin_url_ = fmt::format("http://{}:{}/status",
                               options_.admin.substr(0, options_.admin.rfind(':')), admin_->port());
      screen_.print(fmt::format("  admin endpoint {} (and /health, /metrics)\n\n", admin_url_));
    }
    workload_.emplace(*manager_);
    workload_->start();
    reader_.emplace(*manager_, *workload_);

    begin_ = Clock::now();
    next_plain_ = begin_ + std::chrono::seconds(1);
    std::optional<int> signal;
    for (std::size_t i = 0; i < phases_.size() && !signal; ++i) {
      current_ = i;
      enter(phases_[i]);
      const Clock::time_point end = begin_ + phases_[i].start + phases_[i].length;
      while (!signal && Clock::now() < end) {
        if (redis_restart_at_ && Clock::now() >= *redis_restart_at_) restart_redis();
        tick();
        Clock::time_point wake = std::min(Clock::now() + tick_period(), end);
        if (redis_restart_at_) wake = std::min(wake, *redis_restart_at_);
        signal = signals.wait_until(wake);
      }
    }
    if (signal) {
      event(fmt::format("{}: stopping early and cleaning up",
                        *signal == SIGINT ? "SIGINT" : "SIGTERM"));
    }
    finish(signal.has_value());
    return signal ? exit_for_signal(*signal) : exit_ok;
  }

  // Everything the demo started, stopped in order: the traffic, the endpoint, the clients, the
  // HTTP service, redis-server (reaped) and its directory.
  void clean_up() noexcept {
    if (workload_) workload_->stop();
    if (admin_) admin_->stop();
    if (manager_) manager_->stop(std::chrono::seconds(2));
    reader_.reset();
    workload_.reset();
    admin_.reset();
    manager_.reset();
    service_.reset();
    if (redis_) {
      const pid_t pid = redis_->pid();
      const std::string dir = redis_->dir().string();
      redis_.reset();
      screen_.print(fmt::format("cleaned up: redis-server{} stopped and reaped, {} removed\n",
                                pid > 0 ? fmt::format(" (pid {})", pid) : std::string(), dir));
    }
  }

 private:
  [[nodiscard]] Duration tick_period() const {
    return screen_.terminal() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(100);
  }
  [[nodiscard]] Duration elapsed() const { return Clock::now() - begin_; }

  void print_setup() {
    const WorkloadOptions load{};
    screen_.print(fmt::format(
        "bulwark demo: one ClientManager over two real services, {} phases in {}\n"
        "  redis-server   pid {} on 127.0.0.1:{} (a temporary directory {}, no persistence)\n"
        "  HTTP service   {} (in this process; made slow, failing or down on cue)\n"
        "  clients        {} (http: 3 attempts, breaker, 400ms read timeout), {} (redis db 0); "
        "health checked every 500ms\n"
        "  workload       {} coroutines calling {} and {} calling {}, {:.0f} calls/s each\n\n",
        phases_.size(), format_duration(total_), redis_->pid(), redis_->port(),
        redis_->dir().string(), service_->url(), demo_http_client, demo_redis_client,
        load.http_workers, demo_http_client, load.redis_workers, demo_redis_client,
        load.calls_per_second));
  }

  void event(std::string text) {
    const std::string line = fmt::format("{} {}", stamp(elapsed()), text);
    if (screen_.terminal()) {
      events_.push_back(line);
      if (events_.size() > 6) events_.pop_front();
    } else {
      screen_.print(line + "\n");
    }
  }

  void enter(const ScheduledPhase& scheduled) {
    const Phase& phase = scheduled.phase;
    const ServiceMode before = service_->mode();
    service_->set_mode(phase.http_mode);
    const auto now = Clock::now();
    if (phase.http_mode == ServiceMode::down) http_watch_.outage();
    if (before == ServiceMode::down && phase.http_mode != ServiceMode::down) {
      http_watch_.back(now);
      workload_->mark(ClientKind::http);
    }
    event(fmt::format("phase {}/{} {}: {}", current_ + 1, phases_.size(), phase.name, phase.story));
    if (phase.redis_down_fraction > 0) {
      const pid_t pid = redis_->pid();
      redis_->stop();
      redis_watch_.outage();
      redis_restart_at_ =
          now + std::chrono::duration_cast<Duration>(scheduled.length * phase.redis_down_fraction);
      event(fmt::format("redis-server (pid {}) stopped", pid));
    }
  }

  void restart_redis() {
    redis_restart_at_.reset();
    redis_->start();
    redis_watch_.back(Clock::now());
    workload_->mark(ClientKind::redis);
    event(fmt::format("redis-server started again on the same port (pid {})", redis_->pid()));
  }

  void tick() {
    const auto now = Clock::now();
    std::vector<ClientFigures> figures = reader_->read();
    for (std::size_t i = 0; i < figures.size() && i < last_.size(); ++i) {
      const ClientFigures& was = last_[i];
      const ClientFigures& is = figures[i];
      if (was.health != is.health && !was.health.empty()) {
        event(fmt::format("{}: health {} -> {}", is.name, was.health, is.health));
      }
      if (was.breaker != is.breaker && was.breaker != "none") {
        event(fmt::format("{}: breaker {} -> {}", is.name, was.breaker, is.breaker));
      }
      if (is.rebuilt > was.rebuilt) {
        event(
            fmt::format("{}: rebuilt by the manager (new pool, closed breaker): its health "
                        "check passed while it was failed",
                        is.name));
      }
    }
    if (figures.size() == 2) {
      http_watch_.observe(figures[0].health, now);
      redis_watch_.observe(figures[1].health, now);
    }
    last_ = figures;
    if (screen_.terminal()) {
      screen_.redraw(view(figures));
    } else if (now >= next_plain_) {
      next_plain_ += std::chrono::seconds(1);
      for (const ClientFigures& f : figures) {
        screen_.print(fmt::format("{}   {}\n", stamp(elapsed()), figures_line(f)));
      }
    }
  }

  // The block a terminal shows and redraws.
  std::vector<std::string> view(const std::vector<ClientFigures>& figures) const {
    const ScheduledPhase& scheduled = phases_[current_];
    std::vector<std::string> lines;
    lines.push_back(
        fmt::format("\033[1mbulwark demo\033[0m  {:.1f}s of {}   phase {}/{} \033[1m{}\033[0m",
                    std::chrono::duration<double>(elapsed()).count(), format_duration(total_),
                    current_ + 1, phases_.size(), scheduled.phase.name));
    lines.push_back(fmt::format("  {}", scheduled.phase.story));
    lines.push_back(fmt::format("  {}", progress_bar(std::chrono::duration<double>(elapsed()) /
                                                         std::chrono::duration<double>(total_),
                                                     60)));
    lines.emplace_back();
    for (std::string& line : figures_table(figures, true)) lines.push_back(std::move(line));
    lines.emplace_back();
    lines.push_back(fmt::format(
        "  {} service: {} requests received, {}; redis-server: {}", demo_http_client,
        service_->requests(), to_string(service_->mode()),
        redis_->running() ? fmt::format("pid {}, 127.0.0.1:{}", redis_->pid(), redis_->port())
                          : std::string("stopped")));
    if (!admin_url_.empty()) lines.push_back(fmt::format("  status page: {}", admin_url_));
    lines.emplace_back();
    lines.emplace_back("  events:");
    for (const std::string& e : events_) lines.push_back(fmt::format("    {}", e));
    lines.emplace_back();
    lines.emplace_back("  Ctrl-C stops the demo early and cleans up.");
    return lines;
  }

  void finish(bool interrupted) {
    workload_->stop();
    std::vector<ClientFigures> figures = reader_->read();
    if (screen_.terminal()) screen_.redraw(view(figures));
    screen_.keep();
    SummaryInput input;
    input.elapsed = elapsed();
    input.interrupted = interrupted;
    input.figures = figures;
    input.http_retries = workload_->retry_totals(ClientKind::http);
    input.redis_retries = workload_->retry_totals(ClientKind::redis);
    input.service_requests = service_->requests();
    input.http_recovery = {workload_->recovered_after(ClientKind::http),
                           http_watch_.healthy_again()};
    input.redis_recovery = {workload_->recovered_after(ClientKind::redis),
                            redis_watch_.healthy_again()};
    screen_.print(render_summary(input));
    screen_.print(fmt::format(
        "\nexported metrics: an excerpt of GET /metrics (manager.metrics().expose()), the series "
        "of {} and {}\n{}\n",
        demo_http_client, demo_redis_client,
        metrics_excerpt(manager_->metrics().expose(), {demo_http_client, demo_redis_client})));
  }

  DemoOptions options_;
  Duration total_;
  std::vector<ScheduledPhase> phases_;
  Screen screen_{stdout};
  // In the order they start; clean_up() stops them in the reverse order.
  std::optional<RedisProcess> redis_;
  std::optional<DemoService> service_;
  std::optional<ClientManager> manager_;
  std::optional<AdminServer> admin_;
  std::optional<Workload> workload_;
  std::optional<FigureReader> reader_;
  std::string admin_url_;

  Clock::time_point begin_{};
  Clock::time_point next_plain_{};
  std::size_t current_ = 0;
  std::optional<Clock::time_point> redis_restart_at_;
  std::deque<std::string> events_;
  std::vector<ClientFigures> last_;
  RecoveryWatch http_watch_;
  RecoveryWatch redis_watch_;
};

int run_demo(const DemoOptions& options) {
  // Before anything starts: Ctrl-C must always reach the cleanup below.
  SignalWaiter signals({SIGINT, SIGTERM});
  // The view says what the log would; log lines would tear it apart.
  if (!level_was_given()) spdlog::default_logger()->set_level(spdlog::level::off);
  Demo demo(options, parse_duration(options.duration));
  int status = exit_ok;
  try {
    status = demo.run(signals);
  } catch (const std::exception& error) {
    fmt::print(stderr, "bulwark demo: {}\n", error.what());
    status = exit_unhealthy;
  }
  demo.clean_up();
  return status;
}

}  // namespace

Run add_demo(CLI::App& app) {
  auto* command = app.add_subcommand(
      "demo", "A guided tour: real Redis and HTTP services fail and recover while you watch");
  auto options = std::make_shared<DemoOptions>();
  command
      ->add_option("--duration", options->duration,
                   "How long the tour takes, 10s to 1h (default 60s); the phases scale with it")
      ->check(duration_validator())
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const auto d = try_parse_duration(text);
            if (d && (*d < min_demo_duration || *d > max_demo_duration)) {
              return fmt::format("must be between {} and {}", format_duration(min_demo_duration),
                                 format_duration(max_demo_duration));
            }
            return {};
          },
          "", "duration range"));
  command->add_option("--admin", options->admin,
                      "Also serve the admin endpoint (/status, /health, /metrics) on host:port "
                      "during the demo, e.g. 127.0.0.1:9090");
  command->footer(
      "Starts its own redis-server (found on PATH) on a free loopback port and an HTTP service\n"
      "inside the program, builds a ClientManager over them from YAML, and sends steady traffic\n"
      "through it while the services go slow, fail, go down, come back and restart. A terminal\n"
      "shows a live table; a pipe gets one line per client per second. It ends with a summary\n"
      "of what retries and breakers did and an excerpt of the exported metrics.\n\n"
      "Exit status: 0 when the tour completed, 1 when it could not run (no redis-server),\n"
      "130 or 143 when SIGINT or SIGTERM stopped it early. Everything it started is stopped\n"
      "and removed in every case.\n\n"
      "Examples:\n  bulwark demo\n  bulwark demo --duration 20s --admin 127.0.0.1:9090");
  return [command, options] {
    if (!command->parsed()) return -1;
    return run_demo(*options);
  };
}

}  // namespace bulwark::cli
