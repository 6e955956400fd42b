#include "demo_service.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <future>
#include <map>
#include <optional>
#include <thread>

namespace bulwark::cli {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// What one request gets, decided from the mode and the request's number.
struct Answer {
  unsigned status = 200;
  std::chrono::milliseconds delay{0};
};

Answer answer_for(ServiceMode mode, std::uint64_t number) {
  switch (mode) {
    case ServiceMode::slow:
      return {200, std::chrono::milliseconds(number % 4 == 0 ? 700 : 120)};
    case ServiceMode::failing:
      return {number % 3 == 0 ? 200U : 503U, std::chrono::milliseconds(0)};
    case ServiceMode::healthy:
    case ServiceMode::down:
      break;
  }
  return {};
}

}  // namespace

std::string_view to_string(ServiceMode mode) noexcept {
  switch (mode) {
    case ServiceMode::healthy:
      return "healthy";
    case ServiceMode::slow:
      return "slow";
    case ServiceMode::failing:
      return "failing";
    case ServiceMode::down:
      return "down";
  }
  return "?";
}

// Its coroutines hold a plain pointer to it: they run only on its thread, which is joined before
// it is destroyed, and a frame still pending then is destroyed with `io` without touching it. (A
// shared_ptr in those frames would keep it, and so `io` and the frames, alive forever.)
struct DemoService::Impl {
  std::atomic<ServiceMode> mode{ServiceMode::healthy};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint16_t> port{0};

  // Only touched on the service's thread.
  std::optional<tcp::acceptor> acceptor;
  std::map<std::uint64_t, std::shared_ptr<tcp::socket>> connections;
  std::uint64_t next_connection = 0;

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;

  template <class Fn>
  void on_thread(Fn fn) {
    std::promise<void> done;
    asio::post(io, [&] {
      try {
        fn();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    done.get_future().get();
  }

  // On the service's thread: listens on `port` (0 the first time).
  void listen() {
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port.load());
    acceptor.emplace(io);
    acceptor->open(endpoint.protocol());
    // Listening again on the same port right after closing it.
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    acceptor->bind(endpoint);
    acceptor->listen();
    port.store(acceptor->local_endpoint().port());
    asio::co_spawn(io, accept_loop(this), asio::detached);
  }

  // On the service's thread: refuses new connections and drops the open ones.
  void close_everything() {
    boost::system::error_code ignored;
    if (acceptor) acceptor->close(ignored);
    acceptor.reset();
    for (auto& [id, socket] : connections) socket->close(ignored);
    connections.clear();
  }

  static asio::awaitable<void> accept_loop(Impl* self) {
    // The acceptor this loop serves; a later listen() makes another, with a loop of its own.
    tcp::acceptor* acceptor = &*self->acceptor;
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(self->io);
      const auto [ec] = co_await acceptor->async_accept(*socket, use_tuple);
      if (ec) co_return;  // closed by close_everything()
      const std::uint64_t id = ++self->next_connection;
      self->connections.emplace(id, socket);
      asio::co_spawn(self->io, serve(self, socket, id), asio::detached);
    }
  }

  static asio::awaitable<void> serve(Impl* self, std::shared_ptr<tcp::socket> socket,
                                     std::uint64_t id) {
    boost::beast::flat_buffer buffer;
    asio::steady_timer pause(self->io);
    for (;;) {
      beast_http::request<beast_http::string_body> request;
      const auto [read_error, read_bytes] =
          co_await beast_http::async_read(*socket, buffer, request, use_tuple);
      (void)read_bytes;
      if (read_error) break;
      const std::uint64_t number = self->requests.fetch_add(1) + 1;
      const Answer answer = answer_for(self->mode.load(), number);
      if (answer.delay.count() > 0) {
        pause.expires_after(answer.delay);
        (void)co_await pause.async_wait(use_tuple);
      }
      beast_http::response<beast_http::string_body> response;
      response.version(request.version());
      response.result(answer.status);
      response.keep_alive(request.keep_alive());
      response.set(beast_http::field::server, "bulwark-demo");
      if (answer.status != 200) {
        response.set(beast_http::field::content_type, "text/plain");
        response.body() = "service unavailable (the demo made it fail)\n";
      } else if (request.target() == "/healthz") {
        response.set(beast_http::field::content_type, "text/plain");
        response.body() = "ok\n";
      } else {
        response.set(beast_http::field::content_type, "application/json");
        response.body() =
            fmt::format(R"({{"item":"{}","in_stock":true}})", std::string_view(request.target()));
      }
      response.prepare_payload();
      const auto [write_error, written] =
          co_await beast_http::async_write(*socket, response, use_tuple);
      (void)written;
      if (write_error || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket->close(ignored);
    self->connections.erase(id);
  }
};

DemoService::DemoService() : impl_(std::make_shared<Impl>()) {
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  try {
    impl_->on_thread([this] { impl_->listen(); });
  } catch (...) {
    impl_->work.reset();
    impl_->io.stop();
    impl_->thread.join();
    throw;
  }
}

DemoService::~DemoService() {
  impl_->on_thread([this] { impl_->close_everything(); });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t DemoService::port() const noexcept { return impl_->port.load(); }

std::string DemoService::url() const { return fmt::format("http://127.0.0.1:{}", port()); }

void DemoService::set_mode(ServiceMode mode) {
  const ServiceMode before = impl_->mode.exchange(mode);
  if (before == mode) return;
  if (mode == ServiceMode::down) {
    impl_->on_thread([this] { impl_->close_everything(); });
  } else if (before == ServiceMode::down) {
    impl_->on_thread([this] { impl_->listen(); });
  }
}

ServiceMode DemoService::mode() const noexcept { return impl_->mode.load(); }

std::uint64_t DemoService::requests() const noexcept { return impl_->requests.load(); }

}  // namespace bulwark::cli
