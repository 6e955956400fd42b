#include "support/fake_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <mutex>
#include <thread>

namespace bulwark::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// %XX, and '+' as a space in queries.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

struct Route {
  std::string method;
  std::string pattern;
  FakeHandler handler;

  // Fills `params` when `path` matches.
  bool match(const FakeRequest& request,
             std::map<std::string, std::string, std::less<>>& params) const {
    if (method != "*" && method != request.method) return false;
    const auto want = segments(pattern);
    const auto have = segments(request.path);
    if (want.size() != have.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
        params[std::string(want[i].substr(1, want[i].size() - 2))] = percent_decode(have[i], false);
      } else if (want[i] != have[i]) {
        return false;
      }
    }
    return true;
  }
};

struct FailRule {
  std::string path;
  std::size_t remaining;
  unsigned status;
};

}  // namespace

std::optional<std::string> FakeRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequal(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> FakeRequest::query_param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string FakeRequest::param(std::string_view name) const {
  const auto found = params.find(name);
  return found == params.end() ? std::string() : found->second;
}

FakeReply FakeReply::json(const boost::json::value& body, unsigned status) {
  FakeReply reply;
  reply.status = status;
  reply.body = boost::json::serialize(body);
  return reply;
}

FakeReply FakeReply::text(std::string body, unsigned status) {
  FakeReply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.content_type = "text/plain; charset=utf-8";
  return reply;
}

struct FakeServer::Impl {
  std::uint16_t port = 0;

  mutable std::mutex mutex;  // guards the routes, rules, knobs and records
  std::vector<Route> routes;
  std::vector<FailRule> rules;
  std::chrono::milliseconds delay{0};
  std::vector<FakeRequest> records;

  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> peak{0};
  std::atomic<std::size_t> open{0};

  // Declared after everything its coroutines touch: destroying it destroys their frames.
  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{io};
  std::thread thread;

  void start() {
    const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    work.emplace(io.get_executor());
    net::co_spawn(io, accept_loop(), net::detached);
    thread = std::thread([this] { io.run(); });
  }

  void stop() {
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(tuple_awaitable);
      if (ec) {
        if (!acceptor.is_open() || ec == net::error::operation_aborted) co_return;
        continue;
      }
      net::co_spawn(io, session(beast::tcp_stream(std::move(socket))), net::detached);
    }
  }

  net::awaitable<void> session(beast::tcp_stream stream) {
    ++open;
    struct Guard {
      std::atomic<std::size_t>& open;
      ~Guard() { --open; }
    } guard{open};
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [read_error, bytes] =
          co_await http::async_read(stream, buffer, request, tuple_awaitable);
      (void)bytes;
      if (read_error) co_return;

      note_in_flight();
      FakeRequest record = to_record(request);
      FakeReply reply = answer(record);
      if (reply.delay.count() > 0) {
        net::steady_timer timer(stream.get_executor(), reply.delay);
        co_await timer.async_wait(tuple_awaitable);
      }
      http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                                 request.version()};
      response.set(http::field::content_type, reply.content_type);
      for (const auto& [name, value] : reply.headers) response.set(name, value);
      response.body() = std::move(reply.body);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [write_error, written] = co_await http::async_write(stream, response, tuple_awaitable);
      (void)written;
      --in_flight;
      if (write_error || !response.keep_alive()) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
      }
    }
  }

  void note_in_flight() {
    const std::size_t now = ++in_flight;
    std::size_t seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }

  static FakeRequest to_record(const http::request<http::string_body>& request) {
    FakeRequest record;
    record.method = std::string(request.method_string());
    record.target = std::string(request.target());
    const std::string_view target = record.target;
    const auto question = target.find('?');
    record.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) {
      std::string_view query = target.substr(question + 1);
      while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        record.query.emplace_back(
            percent_decode(pair.substr(0, eq), true),
            eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
      }
    }
    for (const auto& field : request) {
      record.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    record.body = request.body();
    return record;
  }

  // Finds the reply under the lock, then runs the handler outside it, so that a handler may call
  // the server's members.
  FakeReply answer(FakeRequest& record) {
    FakeHandler handler;
    std::chrono::milliseconds extra{0};
    {
      std::lock_guard lock(mutex);
      records.push_back(record);
      extra = delay;
      for (FailRule& rule : rules) {
        if (rule.path == record.path && rule.remaining > 0) {
          --rule.remaining;
          FakeReply failure = FakeReply::json(
              boost::json::object{{"error", {{"message", "injected failure"}}}}, rule.status);
          failure.delay = extra;
          return failure;
        }
      }
      for (auto route = routes.rbegin(); route != routes.rend(); ++route) {
        std::map<std::string, std::string, std::less<>> params;
        if (route->match(record, params)) {
          record.params = std::move(params);
          records.back().params = record.params;
          handler = route->handler;
          break;
        }
      }
    }
    FakeReply reply;
    if (!handler) {
      reply = FakeReply::json(
          boost::json::object{{"error", "no route for " + record.method + " " + record.path}}, 404);
    } else {
      try {
        reply = handler(record);
      } catch (const std::exception& error) {
        reply = FakeReply::json(boost::json::object{{"error", error.what()}}, 500);
      }
    }
    reply.delay += extra;
    return reply;
  }
};

FakeServer::FakeServer() : impl_(std::make_unique<Impl>()) { impl_->start(); }

FakeServer::~FakeServer() { impl_->stop(); }

std::uint16_t FakeServer::port() const noexcept { return impl_->port; }

std::string FakeServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeServer::route(std::string method, std::string pattern, FakeHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->routes.push_back({std::move(method), std::move(pattern), std::move(handler)});
}

void FakeServer::fail_next(std::string path, std::size_t count, unsigned status) {
  std::lock_guard lock(impl_->mutex);
  impl_->rules.push_back({std::move(path), count, status});
}

void FakeServer::delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->delay = delay;
}

std::vector<FakeRequest> FakeServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records;
}

std::size_t FakeServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records.size();
}

std::size_t FakeServer::request_count(std::string_view path) const {
  std::lock_guard lock(impl_->mutex);
  return static_cast<std::size_t>(
      std::count_if(impl_->records.begin(), impl_->records.end(),
                    [&](const FakeRequest& request) { return request.path == path; }));
}

void FakeServer::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->records.clear();
}

std::size_t FakeServer::in_flight() const noexcept { return impl_->in_flight.load(); }
std::size_t FakeServer::peak_in_flight() const noexcept { return impl_->peak.load(); }
void FakeServer::reset_peak() noexcept { impl_->peak.store(impl_->in_flight.load()); }
std::size_t FakeServer::connections_open() const noexcept { return impl_->open.load(); }

}  // namespace bulwark::test
