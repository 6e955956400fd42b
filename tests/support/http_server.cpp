#include "support/http_server.hpp"

#include "support/run_on.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace bulwark::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Query decoding: %XX, and '+' as a space (a literal plus arrives as %2B).
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  [[nodiscard]] std::optional<std::string> param(std::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  [[nodiscard]] std::size_t number(std::string_view name, std::size_t fallback) const {
    const auto value = param(name);
    return value ? std::stoull(*value) : fallback;
  }
};

Target parse_target(std::string_view target) {
  Target out;
  const auto question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    out.query.emplace_back(percent_decode(pair.substr(0, eq)),
                           eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string reason(unsigned status) {
  const std::string_view text = http::obsolete_reason(http::int_to_status(status));
  return text == "<unknown-status>" ? "Status" : std::string(text);
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// A complete response with Content-Length; HEAD gets the head only.
std::string response(unsigned status, std::string_view body, const Fields& fields = {},
                     bool head_only = false, std::string_view version = "HTTP/1.1") {
  std::string out = std::string(version) + " " + std::to_string(status) + " " + reason(status) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : fields) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

// One header field. GCC 12 miscompiles braced initializer lists inside coroutines ("array used
// as initializer"), so the coroutines below build them through plain functions like this one.
Fields field(std::string name, std::string value) {
  Fields fields;
  fields.emplace_back(std::move(name), std::move(value));
  return fields;
}

// The JSON body of /echo.
std::string echo(const RecordedRequest& request, const Target& target) {
  boost::json::object headers;
  boost::json::array list;
  for (const auto& [name, value] : request.headers) {
    const std::string key = lower(name);
    if (auto* existing = headers.if_contains(key)) {
      *existing = std::string(existing->as_string()) + ", " + value;
    } else {
      headers[key] = value;
    }
    list.push_back(boost::json::array{boost::json::string(name), boost::json::string(value)});
  }
  boost::json::object query;
  for (const auto& [name, value] : target.query) query[name] = value;
  const boost::json::object echo{{"method", request.method}, {"target", request.target},
                                 {"path", target.path},      {"query", query},
                                 {"headers", headers},       {"header_list", list},
                                 {"body", request.body}};
  return boost::json::serialize(echo);
}

struct FailRule {
  std::string path;
  std::size_t remaining;
  unsigned status;
  std::optional<int> retry_after;
};

// What a handler left the connection in.
enum class After { keep_alive, close, closed };

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  // Read by test threads while up() rebinds on the server thread.
  std::atomic<std::uint16_t> port{0};

  mutable std::mutex mutex;  // guards the knobs and records below
  std::vector<RecordedRequest> records;
  std::vector<FailRule> rules;
  std::size_t close_after = 0;
  std::chrono::milliseconds idle{0};

  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> open{0};

  std::optional<net::ssl::context> tls;
  // Only touched on the server thread: how to close each open connection.
  std::map<std::size_t, std::function<void()>> closers;
  std::shared_ptr<tcp::acceptor> acceptor;

  // Declared after everything its handlers touch: destroying it destroys the suspended
  // coroutine frames, whose guards update `open` and `closers`.
  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread thread;

  void listen() {
    auto next = std::make_shared<tcp::acceptor>(io);
    const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), port.load());
    next->open(endpoint.protocol());
    next->set_option(net::socket_base::reuse_address(true));
    next->bind(endpoint);
    next->listen();
    port = next->local_endpoint().port();
    acceptor = next;
    net::co_spawn(io, accept_loop(next), net::detached);
  }

  void close_all() {
    if (acceptor) {
      beast::error_code ignored;
      acceptor->close(ignored);
      acceptor.reset();
    }
    // Copy: a closer may end a session synchronously on some paths.
    auto pending = closers;
    for (auto& [index, close] : pending) close();
  }

  net::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> listener) {
    for (;;) {
      auto [ec, socket] = co_await listener->async_accept(tuple_awaitable);
      if (ec) {
        if (!listener->is_open() || ec == net::error::operation_aborted) co_return;
        continue;
      }
      const std::size_t index = ++accepted;
      net::co_spawn(io, session(std::move(socket), index), net::detached);
    }
  }

  net::awaitable<void> session(tcp::socket socket, std::size_t index) {
    ++open;
    struct Guard {
      Impl& self;
      std::size_t index;
      ~Guard() {
        self.closers.erase(index);
        --self.open;
      }
    } guard{*this, index};
    try {
      if (tls) {
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
        closers[index] = [&stream] { beast::get_lowest_layer(stream).close(); };
        beast::get_lowest_layer(stream).expires_after(5s);
        auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, tuple_awaitable);
        if (ec) co_return;
        co_await serve(stream, index);
      } else {
        beast::tcp_stream stream(std::move(socket));
        closers[index] = [&stream] { stream.close(); };
        co_await serve(stream, index);
      }
    } catch (const std::exception&) {
      // A test server: a failed session just ends its connection.
    }
  }

  template <class Stream>
  net::awaitable<void> serve(Stream& stream, std::size_t index) {
    auto& lowest = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    for (std::size_t sequence = 1;; ++sequence) {
      std::chrono::milliseconds idle_limit;
      std::size_t close_limit;
      {
        std::lock_guard lock(mutex);
        idle_limit = idle;
        close_limit = close_after;
      }
      // The whole read of the next request is bounded, which amounts to an idle limit: a request
      // takes microseconds to arrive once the client sends it.
      if (idle_limit.count() > 0) {
        lowest.expires_after(idle_limit);
      } else {
        lowest.expires_never();
      }
      http::request_parser<http::string_body> parser;
      parser.header_limit(1024 * 1024);
      parser.body_limit(256ULL * 1024 * 1024);
      auto [ec, bytes] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
      if (ec) co_return;  // end of stream, idle timeout (the socket is closed), or bad request
      lowest.expires_never();
      http::request<http::string_body> request = parser.release();

      RecordedRequest record;
      record.method = std::string(request.method_string());
      record.target = std::string(request.target());
      for (const auto& field : request) {
        record.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      record.body = request.body();
      record.connection = index;
      record.sequence = sequence;
      {
        std::lock_guard lock(mutex);
        records.push_back(record);
      }

      const After after = co_await answer(stream, record, request.keep_alive());
      if (after == After::closed) co_return;
      if (after == After::close || (close_limit > 0 && sequence >= close_limit)) {
        co_await close_gracefully(stream);
        co_return;
      }
    }
  }

  // Sends our FIN (and close_notify with TLS) and closes.
  template <class Stream>
  net::awaitable<void> close_gracefully(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      // close_notify, then a short wait for the peer's; most clients never send it.
      lowest.expires_after(100ms);
      co_await stream.async_shutdown(tuple_awaitable);
    }
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest.close();
  }

  template <class Stream>
  static net::awaitable<bool> write(Stream& stream, std::string_view data) {
    auto [ec, n] = co_await net::async_write(stream, net::buffer(data), tuple_awaitable);
    co_return !ec;
  }

  static net::awaitable<void> sleep(std::chrono::milliseconds duration) {
    net::steady_timer timer(co_await net::this_coro::executor, duration);
    co_await timer.async_wait(tuple_awaitable);
  }

  std::optional<FailRule> take_failure(const std::string& path) {
    std::lock_guard lock(mutex);
    for (FailRule& rule : rules) {
      if (rule.path == path && rule.remaining > 0) {
        --rule.remaining;
        return rule;
      }
    }
    return std::nullopt;
  }

  template <class Stream>
  net::awaitable<After> answer(Stream& stream, const RecordedRequest& request, bool keep_alive) {
    const Target target = parse_target(request.target);
    const std::string& path = target.path;
    const bool head = request.method == "HEAD";
    const After normal = keep_alive ? After::keep_alive : After::close;
    auto reply = [&](const std::string& data) -> net::awaitable<After> {
      co_return (co_await write(stream, data)) ? normal : After::close;
    };

    if (const auto delay = target.param("delay_ms")) {
      co_await sleep(std::chrono::milliseconds(std::stoll(*delay)));
    }
    if (const auto failure = take_failure(path)) {
      Fields fields;
      if (failure->retry_after)
        fields.emplace_back("Retry-After", std::to_string(*failure->retry_after));
      co_return co_await reply(
          response(failure->status, "status " + std::to_string(failure->status), fields, head));
    }

    if (path.starts_with("/status/")) {
      const unsigned status = static_cast<unsigned>(std::stoul(path.substr(8)));
      Fields fields;
      if (const auto seconds = target.param("retry_after"))
        fields.emplace_back("Retry-After", *seconds);
      co_return co_await reply(response(status, "status " + std::to_string(status), fields, head));
    }
    // Also under a prefix (/api/v1/echo) or with more path (/echo/x), for base-URL tests.
    if (path == "/echo" || path.starts_with("/echo/") || path.ends_with("/echo")) {
      co_return co_await reply(
          response(200, echo(request, target), field("Content-Type", "application/json"), head));
    }
    if (path.starts_with("/bytes/")) {
      co_return co_await reply(response(200, pattern(std::stoull(path.substr(7))),
                                        field("Content-Type", "application/octet-stream"), head));
    }
    if (path == "/chunked") {
      const std::size_t chunks = target.number("chunks", 3);
      const std::size_t size = target.number("size", 10);
      if (!co_await write(stream,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                          "Content-Type: application/octet-stream\r\n\r\n")) {
        co_return After::close;
      }
      const std::string all = pattern(chunks * size);
      const auto pause = std::chrono::milliseconds(target.number("chunk_delay_ms", 0));
      for (std::size_t i = 0; i < chunks; ++i) {
        if (i > 0 && pause.count() > 0) co_await sleep(pause);
        const std::string hex = fmt::format("{:x}\r\n", size);
        if (!co_await write(stream, hex + all.substr(i * size, size) + "\r\n"))
          co_return After::close;
      }
      co_return (co_await write(stream, "0\r\n\r\n")) ? normal : After::close;
    }
    if (path == "/big-header") {
      co_return co_await reply(response(
          200, "ok", field("X-Big", std::string(target.number("bytes", 1024), 'x')), head));
    }
    if (path == "/slow-headers") {
      const auto pause = std::chrono::milliseconds(target.number("ms", 100));
      // std::array, not a C array: GCC 12 cannot keep C arrays in coroutine frames.
      const std::array<std::string_view, 5> pieces = {"HTTP/1.1 200 OK\r\n",
                                                      "Content-Type: text/plain\r\n",
                                                      "Content-Length: 2\r\n", "\r\n", "ok"};
      bool first = true;
      for (const std::string_view piece : pieces) {
        if (!first) co_await sleep(pause);
        first = false;
        if (!co_await write(stream, piece)) co_return After::close;
      }
      co_return normal;
    }
    if (path == "/close") {
      co_await write(stream, response(200, "closing", field("Connection", "close"), head));
      co_return After::close;
    }
    if (path == "/reset-mid-body") {
      co_await write(stream, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + pattern(500));
      // Let the half body reach the client first, so that the reset hits mid-body.
      co_await sleep(50ms);
      auto& socket = beast::get_lowest_layer(stream).socket();
      beast::error_code ignored;
      socket.set_option(net::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      co_return After::closed;
    }
    if (path == "/garbage") {
      co_return (co_await write(stream, "SSH-2.0-OpenSSH_9.2 definitely not HTTP\r\n\r\n"))
          ? After::keep_alive
          : After::close;
    }
    if (path == "/eof-before-response") co_return After::close;
    if (path == "/eof-if-reused") {
      // The stale-connection race made deterministic: a reused connection dies just after the
      // request was written, a new one answers.
      if (request.sequence > 1) co_return After::close;
      co_return co_await reply(response(200, "fresh", {}, head));
    }
    if (path == "/loop") {
      co_return co_await reply(response(302, "loop", field("Location", "/loop"), head));
    }
    if (path == "/http10") {
      co_await write(stream, response(200, "http/1.0", {}, head, "HTTP/1.0"));
      co_return After::keep_alive;
    }
    if (path == "/short-garbage") {
      // Fewer bytes than "HTTP/1.1" holding an empty line, then more after a pause, and the
      // connection stays open: only parsing them tells the client that this is not HTTP.
      if (!co_await write(stream, "X\r\n\r\n")) co_return After::close;
      co_await sleep(50ms);
      co_return (co_await write(stream, "not a response either")) ? After::keep_alive
                                                                  : After::close;
    }
    if (path == "/switch-protocols") {
      // The server then goes on reading HTTP/1.1 requests on the connection, so reusing it
      // would be seen.
      const bool written =
          co_await write(stream,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: bulwark-test\r\n"
                         "Connection: Upgrade\r\n\r\n");
      co_return written ? After::keep_alive : After::close;
    }
    if (path == "/redirect") {
      const unsigned code = static_cast<unsigned>(target.number("code", 302));
      co_return co_await reply(
          response(code, "redirect", field("Location", target.param("to").value_or("/")), head));
    }
    co_return co_await reply(response(200, "ok", field("Content-Type", "text/plain"), head));
  }
};

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequal(key, name)) return value;
  }
  return std::nullopt;
}

std::size_t RecordedRequest::header_count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(),
                    [&](const auto& field) { return iequal(field.first, name); }));
}

std::string RecordedRequest::path() const { return target.substr(0, target.find('?')); }

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (!impl_->options.cert_file.empty()) {
    auto& context = impl_->tls.emplace(net::ssl::context::tls_server);
    context.use_certificate_chain_file(impl_->options.cert_file);
    context.use_private_key_file(impl_->options.key_file, net::ssl::context::pem);
    if (!impl_->options.client_ca_file.empty()) {
      context.load_verify_file(impl_->options.client_ca_file);
      context.set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
    }
  }
  impl_->listen();
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

HttpServer::~HttpServer() {
  run_on(impl_->io, [this] { impl_->close_all(); });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t HttpServer::port() const noexcept { return impl_->port.load(); }
bool HttpServer::tls() const noexcept { return impl_->tls.has_value(); }

std::string HttpServer::base_url() const {
  return (tls() ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port());
}

std::string HttpServer::url(std::string_view path) const { return base_url() + std::string(path); }

void HttpServer::close_after(std::size_t requests) {
  std::lock_guard lock(impl_->mutex);
  impl_->close_after = requests;
}

void HttpServer::idle_timeout(std::chrono::milliseconds idle) {
  std::lock_guard lock(impl_->mutex);
  impl_->idle = idle;
}

void HttpServer::fail_next(std::string path, std::size_t count, unsigned status,
                           std::optional<int> retry_after_seconds) {
  std::lock_guard lock(impl_->mutex);
  impl_->rules.push_back({std::move(path), count, status, retry_after_seconds});
}

void HttpServer::down() {
  run_on(impl_->io, [this] { impl_->close_all(); });
}

void HttpServer::up() {
  run_on(impl_->io, [this] {
    if (!impl_->acceptor) impl_->listen();
  });
}

std::size_t HttpServer::connections_accepted() const noexcept { return impl_->accepted.load(); }
std::size_t HttpServer::connections_open() const noexcept { return impl_->open.load(); }

std::vector<RecordedRequest> HttpServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records;
}

std::vector<RecordedRequest> HttpServer::requests_to(std::string_view path) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<RecordedRequest> out;
  for (const RecordedRequest& record : impl_->records) {
    if (record.path() == path) out.push_back(record);
  }
  return out;
}

std::size_t HttpServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records.size();
}

void HttpServer::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->records.clear();
}

std::vector<RecordedRequest> HttpServer::take_requests() {
  std::lock_guard lock(impl_->mutex);
  std::vector<RecordedRequest> taken;
  taken.swap(impl_->records);
  return taken;
}

bool HttpServer::wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return done();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::string HttpServer::pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

}  // namespace bulwark::test
