#include "bulwark/admin/admin_server.hpp"

#include "admin/detail/history.hpp"
#include "admin/detail/listen_address.hpp"
#include "admin/detail/router.hpp"
#include "admin/detail/session.hpp"
#include "admin/detail/status_page.hpp"
#include "admin/detail/task_counter.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/observe/registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace bulwark {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::size_t history_capacity(const AdminOptions& options) {
  if (options.sample_interval <= Duration::zero()) return 2;
  return std::max<std::size_t>(
      2, static_cast<std::size_t>(options.history / options.sample_interval) + 1);
}

AdminOptions validated(AdminOptions options) {
  std::vector<ConfigIssue> issues;
  AdminServer::validate(options, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return options;
}

}  // namespace

struct AdminServer::Impl : std::enable_shared_from_this<AdminServer::Impl> {
  Impl(ClientManager& manager_ref, AdminOptions admin_options, asio::any_io_executor exec)
      : manager(&manager_ref),
        options(validated(std::move(admin_options))),
        executor(std::move(exec)),
        acceptor(asio::make_strand(executor)),
        sampler(asio::make_strand(executor)),
        history(history_capacity(options)),
        router(options, sources()) {}

  // Runs `read` on the current manager, which `use_manager` cannot replace meanwhile.
  template <class Read>
  auto with_manager(Read read) {
    std::shared_lock lock(manager_mutex);
    return read(*manager);
  }

  detail::AdminSources sources() {
    detail::AdminSources sources;
    sources.health = [this] { return with_manager([](ClientManager& m) { return m.health(); }); };
    sources.started = [this] { return with_manager([](ClientManager& m) { return m.started(); }); };
    sources.metrics = [this] {
      return with_manager([](ClientManager& m) { return m.metrics().expose(); });
    };
    sources.status_page = [this](const HealthReport& report) { return status_page(report); };
    return sources;
  }

  std::string status_page(const HealthReport& report) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::lock_guard lock(history_mutex);
    return detail::render_status_page({.report = report,
                                       .history = history,
                                       .refresh = options.status_refresh,
                                       .sample_interval = options.sample_interval,
                                       .now_unix = now});
  }

  void take_sample() {
    // The manager stays the same until the sample is in the history, so that a sample of the
    // previous manager never lands in the history `use_manager` has just cleared.
    std::shared_lock manager_lock(manager_mutex);
    detail::Sample sample = detail::make_sample(std::chrono::steady_clock::now(), manager->health(),
                                                manager->call_stats());
    std::lock_guard lock(history_mutex);
    history.add(std::move(sample));
  }

  void use_manager(ClientManager& next) {
    std::unique_lock manager_lock(manager_mutex);
    if (manager == &next) return;
    manager = &next;
    // Rates between samples of two managers would compare unrelated counters.
    std::lock_guard lock(history_mutex);
    history = detail::History(history.capacity());
  }

  void start() {
    if (stopping->load(std::memory_order_acquire)) {
      throw Error(make_error_code(errc::shutting_down), {}, "the admin server was stopped");
    }
    if (started.exchange(true, std::memory_order_acq_rel)) return;
    const tcp::endpoint endpoint = detail::parse_listen_address(options.listen);
    try {
      acceptor.open(endpoint.protocol());
      // A program that starts others must not hand them its listening socket.
      ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      acceptor.bind(endpoint);
      acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& error) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      started.store(false, std::memory_order_release);
      throw Error(error.code(), {},
                  fmt::format("admin endpoint: cannot listen on {}", options.listen));
    }
    port.store(acceptor.local_endpoint().port(), std::memory_order_release);
    spdlog::info("bulwark admin: listening on {}:{}{}", endpoint.address().to_string(), port.load(),
                 options.bearer_token ? " (bearer token required)" : "");
    auto self = shared_from_this();
    asio::co_spawn(acceptor.get_executor(), accept_loop(self, tasks->enter()), asio::detached);
    asio::co_spawn(sampler.get_executor(), sample_loop(self, tasks->enter()), asio::detached);
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self,
                                           detail::TaskCounter::Token token) {
    (void)token;
    while (!self->stopping->load(std::memory_order_acquire)) {
      tcp::socket socket(asio::make_strand(self->executor));
      const auto [ec] = co_await self->acceptor.async_accept(socket, use_tuple);
      if (self->stopping->load(std::memory_order_acquire) || ec == asio::error::operation_aborted) {
        break;
      }
      if (ec) {
        // Out of descriptors, or the like: pause instead of spinning on the error.
        spdlog::warn("bulwark admin: accept failed: {}", ec.message());
        asio::steady_timer pause(self->acceptor.get_executor(), std::chrono::milliseconds(100));
        (void)co_await pause.async_wait(use_tuple);
        continue;
      }
      self->serve(std::move(socket));
    }
  }

  void serve(tcp::socket socket) {
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<detail::Session> session;
    {
      std::lock_guard lock(sessions_mutex);
      std::erase_if(sessions, [](const std::weak_ptr<detail::Session>& s) { return s.expired(); });
      if (sessions.size() >= options.max_connections) {
        // Over the bound: closed at once, before reading anything.
        socket.close(ignored);
        return;
      }
      const detail::Session::Limits limits{.max_request_bytes = options.max_request_bytes,
                                           .read_timeout = options.read_timeout,
                                           .idle_timeout = options.idle_timeout};
      session = std::make_shared<detail::Session>(
          std::move(socket), limits,
          [self = shared_from_this()](const detail::AdminRequest& request) {
            return self->router.handle(request);
          },
          stopping);
      sessions.push_back(session);
    }
    asio::co_spawn(session->executor(), run_session(session, tasks->enter()), asio::detached);
  }

  static asio::awaitable<void> run_session(std::shared_ptr<detail::Session> session,
                                           detail::TaskCounter::Token token) {
    (void)token;
    co_await session->run();
  }

  static asio::awaitable<void> sample_loop(std::shared_ptr<Impl> self,
                                           detail::TaskCounter::Token token) {
    (void)token;
    while (!self->stopping->load(std::memory_order_acquire)) {
      try {
        self->take_sample();
      } catch (const std::exception& error) {
        spdlog::warn("bulwark admin: sampling failed: {}", error.what());
      }
      self->sampler.expires_after(self->options.sample_interval);
      (void)co_await self->sampler.async_wait(use_tuple);
    }
  }

  // Posts `close` (or `close_if_idle`) to every open session's strand.
  void close_sessions(bool only_idle) {
    std::lock_guard lock(sessions_mutex);
    for (const auto& weak : sessions) {
      if (auto session = weak.lock()) {
        asio::post(session->executor(), [session, only_idle] {
          if (only_idle) {
            session->close_if_idle();
          } else {
            session->close();
          }
        });
      }
    }
  }

  void stop(Duration deadline) {
    if (stopping->exchange(true, std::memory_order_acq_rel)) {
      (void)tasks->wait_idle(deadline);
      return;
    }
    auto self = shared_from_this();
    asio::post(acceptor.get_executor(), [self] {
      boost::system::error_code ignored;
      self->acceptor.close(ignored);
    });
    asio::post(sampler.get_executor(), [self] { self->sampler.cancel(); });
    close_sessions(true);
    if (!tasks->wait_idle(deadline)) {
      spdlog::warn("bulwark admin: connections still open after {}; closing them",
                   format_duration(deadline));
      close_sessions(false);
      (void)tasks->wait_idle(std::chrono::seconds(1));
    }
    if (started.load(std::memory_order_acquire)) spdlog::info("bulwark admin: stopped");
  }

  // Read by every request under a shared lock; replaced by use_manager under the exclusive one.
  std::shared_mutex manager_mutex;
  ClientManager* manager;
  const AdminOptions options;
  asio::any_io_executor executor;
  tcp::acceptor acceptor;      // On a strand of its own.
  asio::steady_timer sampler;  // On a strand of its own.
  std::mutex history_mutex;
  detail::History history;
  detail::Router router;
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);
  std::atomic<bool> started{false};
  std::atomic<std::uint16_t> port{0};
  std::shared_ptr<detail::TaskCounter> tasks = std::make_shared<detail::TaskCounter>();
  std::mutex sessions_mutex;
  std::vector<std::weak_ptr<detail::Session>> sessions;
};

AdminServer::AdminServer(ClientManager& manager, AdminOptions options)
    : AdminServer(manager, std::move(options), manager.executor()) {}

AdminServer::AdminServer(ClientManager& manager, AdminOptions options,
                         asio::any_io_executor executor)
    : impl_(std::make_shared<Impl>(manager, std::move(options), std::move(executor))) {}

AdminServer::~AdminServer() { impl_->stop(std::chrono::seconds(5)); }

void AdminServer::start() { impl_->start(); }

void AdminServer::stop(Duration deadline) { impl_->stop(deadline); }

void AdminServer::use_manager(ClientManager& manager) { impl_->use_manager(manager); }

std::uint16_t AdminServer::port() const noexcept {
  return impl_->port.load(std::memory_order_acquire);
}

const AdminOptions& AdminServer::options() const noexcept { return impl_->options; }

void AdminServer::validate(const AdminOptions& options, std::vector<ConfigIssue>& issues,
                           std::string_view path) {
  const auto issue = [&](std::string_view field, std::string message) {
    issues.push_back({fmt::format("{}.{}", path, field), std::move(message)});
  };
  try {
    (void)detail::parse_listen_address(options.listen);
  } catch (const Error& error) {
    issue("listen", error.detail());
  }
  if (options.max_request_bytes < 1024) {
    issue("max_request_bytes", fmt::format("must be >= 1024, got {}", options.max_request_bytes));
  }
  if (!(options.max_requests_per_second >= 0) || options.max_requests_per_second > 1e9) {
    issue("max_requests_per_second", fmt::format("must be between 0 (no limit) and 1e9, got {}",
                                                 options.max_requests_per_second));
  }
  if (options.max_connections < 1) issue("max_connections", "must be >= 1, got 0");
  const auto positive = [&](std::string_view field, Duration value, Duration least) {
    if (value < least) {
      issue(field,
            fmt::format("must be >= {}, got {}", format_duration(least),
                        value < Duration::zero() ? "a negative duration" : format_duration(value)));
    }
  };
  positive("read_timeout", options.read_timeout, std::chrono::milliseconds(1));
  positive("idle_timeout", options.idle_timeout, std::chrono::milliseconds(1));
  positive("status_refresh", options.status_refresh, std::chrono::seconds(1));
  positive("sample_interval", options.sample_interval, std::chrono::milliseconds(1));
  positive("history", options.history, options.sample_interval);
}

}  // namespace bulwark
