// libFuzzer target for http::Client's handling of responses: the real client (pool, connection,
// response reader, pipeline) sends a GET or HEAD to a loopback server in the same process, which
// answers with the input's bytes.
//
// Input layout: byte 0 is the control byte:
//   bits 0-1  how the server ends: 0 closes the connection after the bytes, 1 keeps it open (the
//             request then ends by its total timeout unless the response is complete), 2 resets
//             it (RST) after the bytes, 3 closes it like 0 but after a pause
//   bit 2     HEAD instead of GET
//   bit 3     the body is streamed to a callback instead of kept in Response::body
//   bits 4-6  how many of the following bytes are a slice plan: the sizes of the pieces the
//             server writes, cycled (0 = one write)
// The rest is what the server answers the input's first request with. Later requests get a
// canned "200 ok".
//
// One io_context, one client and one server serve the whole run; each input starts on a new
// connection (the server closes every connection after an input, and the client drops them).
//
// Invariants checked:
// - the call ends with a response or a bulwark::Error of an expected kind (protocol_error,
//   connection_lost, timeout, limit_exceeded);
// - the outcome is the one Beast's own response parser gives for the same bytes fed at once:
//   the same status and body for a complete response, the corresponding error otherwise (only
//   the kind of ending decides whether a response cut short is a timeout or connection_lost; a
//   reset may cut any response short; and Beast, given a header in pieces, waits for its end
//   before judging its fields, so a bad field in a header that never ends, or ends past the
//   header limit, is a response cut short or limit_exceeded there);
// - after a failed call no connection is idle or checked out, and the next call opens a new
//   connection and succeeds;
// - a response that ended exactly at the last byte sent and keeps the connection alive leaves
//   it idle, and the next call reuses it; a 101 never leaves its connection in the pool.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bulwark/http/client.hpp"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
using bulwark::errc;
using bulwark::Result;
using bulwark::http::Client;
using bulwark::http::ClientConfig;
using bulwark::http::PoolStats;
using bulwark::http::Request;
using bulwark::http::Response;

constexpr std::size_t max_header_bytes = 2048;
constexpr std::size_t max_body_bytes = 1024;
constexpr std::string_view canned = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

enum class Ending : std::uint8_t { close, keep_open, reset, close_later };

// What the current input led to, printed with a violated invariant.
std::string context;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n%s\n", what, context.c_str());
    std::abort();
  }
}

std::string describe(const bulwark::Result<bulwark::http::Response>& result) {
  if (result)
    return "status " + std::to_string(result->status) + ", body of " +
           std::to_string(result->body.size()) + " bytes";
  return result.error().message();
}

struct Script {
  std::string bytes;
  std::vector<std::size_t> slices;
  Ending ending = Ending::close;
  bool served = true;  // No input yet: every request gets the canned answer.
};

class Server {
 public:
  explicit Server(asio::io_context& io) : io_(io), acceptor_(io) {
    const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(local.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(local);
    acceptor_.listen();
    asio::co_spawn(io_, accept_loop(), asio::detached);
  }

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::size_t accepted() const noexcept { return accepted_; }

  void start(Script script) { script_ = std::move(script); }

  // Closes every connection the server holds.
  void close_all() {
    for (const auto& socket : sockets_) {
      boost::system::error_code ignored;
      socket->close(ignored);
    }
    sockets_.clear();
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      co_await acceptor_.async_accept(*socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) continue;
      ++accepted_;
      // Each slice goes out at once, not held back until the previous one is acknowledged.
      socket->set_option(tcp::no_delay(true), ec);
      sockets_.push_back(socket);
      asio::co_spawn(io_, serve(socket), asio::detached);
    }
  }

  // Reads requests (heads only: the client sends GET and HEAD) and answers each.
  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> socket) {
    std::string received;
    boost::system::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    for (;;) {
      std::size_t end = received.find("\r\n\r\n");
      while (end == std::string::npos) {
        char buffer[1024];
        const std::size_t got = co_await socket->async_read_some(asio::buffer(buffer), token);
        if (ec) co_return;
        received.append(buffer, got);
        end = received.find("\r\n\r\n");
      }
      received.erase(0, end + 4);
      if (script_.served) {
        co_await asio::async_write(*socket, asio::buffer(canned), token);
        if (ec) co_return;
        continue;
      }
      script_.served = true;
      const Script script = script_;
      std::size_t position = 0;
      for (std::size_t step = 0; position < script.bytes.size(); ++step) {
        const std::size_t piece = script.slices.empty()
                                      ? script.bytes.size()
                                      : script.slices[step % script.slices.size()];
        const std::string_view slice = std::string_view(script.bytes).substr(position, piece);
        position += slice.size();
        co_await asio::async_write(*socket, asio::buffer(slice.data(), slice.size()), token);
        if (ec) co_return;
        if (position < script.bytes.size()) {
          // Lets the client read what arrived before the next piece.
          co_await asio::post(io_, asio::use_awaitable);
          co_await asio::post(io_, asio::use_awaitable);
        }
      }
      switch (script.ending) {
        case Ending::keep_open:
          continue;
        case Ending::reset:
          socket->set_option(asio::socket_base::linger(true, 0), ec);
          break;
        case Ending::close_later: {
          asio::steady_timer pause(io_, 2ms);
          co_await pause.async_wait(token);
          break;
        }
        case Ending::close:
          break;
      }
      socket->close(ec);
      co_return;
    }
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  Script script_;
  std::size_t accepted_ = 0;
};

// What Beast's own parser makes of the whole answer at once.
struct Reference {
  enum class Kind : std::uint8_t { complete, failed, cut_short } kind = Kind::cut_short;
  unsigned status = 0;
  std::string body;
  boost::system::error_code error;
  bool needs_eof = false;          // The body ended because the connection did.
  bool keep_alive = false;         // The response lets the connection carry another request.
  bool consumed_all = false;       // It ended exactly at the last byte.
  bool header_incomplete = false;  // It failed before the end of a header that never came.
  bool header_over_limit = false;  // It failed in a header longer than the limit.
};

Reference reference(std::string_view bytes, bool head, bool streamed, bool eof_follows) {
  Reference out;
  for (;;) {
    const std::string_view message = bytes;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
    if (streamed) {
      parser.body_limit(boost::none);
    } else {
      parser.body_limit(max_body_bytes);
    }
    if (head) parser.skip(true);
    boost::system::error_code ec;
    while (!parser.is_done()) {
      if (!bytes.empty()) {
        ec = {};
        const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
        bytes.remove_prefix(used);
        if (ec && ec != bhttp::error::need_more) {
          out.kind = Reference::Kind::failed;
          out.error = ec;
          // Beast parses the fields it has before the header is complete only when it gets
          // them at once; in pieces, it waits for the end of the header first.
          if (!parser.is_header_done()) {
            const std::size_t end = message.find("\r\n\r\n");
            out.header_incomplete = end == std::string_view::npos;
            out.header_over_limit =
                (out.header_incomplete ? message.size() : end + 4) > max_header_bytes;
          }
          return out;
        }
        if (used > 0 && !bytes.empty()) continue;
        if (!ec && used > 0) continue;  // The message may be done.
      }
      // Every byte is used: the parser needs what never comes, or the end of the connection.
      if (!eof_follows || !parser.got_some()) return out;  // cut_short
      ec = {};
      parser.put_eof(ec);
      if (ec) {
        out.kind = Reference::Kind::failed;
        out.error = ec;
        return out;
      }
      out.needs_eof = true;
    }
    const unsigned status = parser.get().result_int();
    if (status >= 100 && status < 200 && status != 101) continue;
    out.kind = Reference::Kind::complete;
    out.status = status;
    out.body = parser.get().body();
    out.keep_alive = !out.needs_eof && parser.keep_alive();
    out.consumed_all = bytes.empty();
    return out;
  }
}

// The client's error for what the reference parser reported.
errc expected_error(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit)
    return errc::limit_exceeded;
  if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream)
    return errc::connection_lost;
  return errc::protocol_error;
}

bool is_expected_kind(const std::error_code& code) {
  return code == errc::protocol_error || code == errc::connection_lost || code == errc::timeout ||
         code == errc::limit_exceeded;
}

struct Outcome {
  Result<Response> first = std::error_code();
  std::string first_detail;
  std::string streamed;
  PoolStats before;
  PoolStats after_first;
  Result<Response> second = std::error_code();
  PoolStats after_second;
  std::size_t accepted_before_second = 0;
  std::size_t accepted_after_second = 0;
};

struct Harness {
  asio::io_context io;
  Server server{io};
  std::unique_ptr<Client> client;
  std::string url;

  Harness() {
    url = "http://127.0.0.1:" + std::to_string(server.port()) + "/fuzz";
    ClientConfig config;
    config.name = "fuzz";
    config.retry.reset();  // A retry would hide the first answer behind the canned one.
    config.circuit_breaker.reset();
    config.correlation_header.clear();
    config.limits.max_header_bytes = max_header_bytes;
    config.limits.max_body_bytes = max_body_bytes;
    config.timeouts.connect = 1s;
    config.timeouts.read = 1s;
    config.timeouts.write = 1s;
    config.pool.max_connections = 4;
    config.pool.max_keepalive_connections = 4;
    config.pool.keepalive_expiry = 60s;
    client = std::make_unique<Client>(io.get_executor(), config);
  }

  asio::awaitable<void> exchange(bool head, bool streamed, bulwark::Duration timeout,
                                 Outcome& out) {
    out.before = client->stats().pool;
    Request first = head ? Request::head(url) : Request::get(url);
    first.total_timeout = timeout;
    if (streamed) first.on_body = [&out](std::string_view piece) { out.streamed.append(piece); };
    try {
      out.first = co_await client->send(std::move(first));
    } catch (const bulwark::Error& error) {
      out.first = error.code();
      out.first_detail = error.what();
    }
    out.after_first = client->stats().pool;
    out.accepted_before_second = server.accepted();
    Request second = Request::get(url);
    second.total_timeout = 2s;
    out.second = co_await client->execute(std::move(second));
    out.after_second = client->stats().pool;
    out.accepted_after_second = server.accepted();
  }

  Outcome run(Script script, bool head, bool streamed, bulwark::Duration timeout) {
    server.start(std::move(script));
    Outcome out;
    bool done = false;
    std::exception_ptr thrown;
    asio::co_spawn(io, exchange(head, streamed, timeout, out), [&](std::exception_ptr error) {
      thrown = error;
      done = true;
    });
    while (!done) io.run_one();
    if (thrown) std::rethrow_exception(thrown);
    // The next input starts afresh: every connection closed on both sides.
    server.close_all();
    io.poll();
    (void)client->prune_idle();
    return out;
  }
};

Harness& harness() {
  static Harness* instance = new Harness();  // Lives for the whole run.
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const auto ending = static_cast<Ending>(control & 3);
  const bool head = (control & 4) != 0;
  const bool streamed = (control & 8) != 0;
  const std::size_t plan_size = std::min<std::size_t>((control >> 4) & 7, size - 1);
  Script script;
  script.ending = ending;
  script.served = false;
  for (std::size_t i = 0; i < plan_size; ++i)
    script.slices.push_back(std::max<std::size_t>(1, data[1 + i]));
  script.bytes.assign(reinterpret_cast<const char*>(data + 1 + plan_size), size - 1 - plan_size);

  const bool eof_follows = ending != Ending::keep_open;
  const Reference expected = reference(script.bytes, head, streamed, eof_follows);
  Harness& h = harness();
  // Only a response cut short waits for its timeout; one that is complete must end before it.
  const bulwark::Duration timeout = ending == Ending::keep_open ? 10ms : 2s;
  Outcome out = h.run(script, head, streamed, timeout);
  const bool may_wait = expected.kind == Reference::Kind::cut_short || expected.header_incomplete;
  if (ending == Ending::keep_open && !may_wait && !out.first &&
      out.first.error() == errc::timeout) {
    // Everything the client needed had been sent: perhaps only a busy machine (or many tiny
    // slices). Once more, with all the time in the world.
    out = h.run(script, head, streamed, 2s);
  }

  const Result<Response>& first = out.first;
  context = "first call: " + describe(first) + " " + out.first_detail +
            "; second call: " + describe(out.second) + "; reference: kind " +
            std::to_string(static_cast<int>(expected.kind)) + ", status " +
            std::to_string(expected.status) + ", body of " + std::to_string(expected.body.size()) +
            " bytes, error '" + expected.error.message() + "'";
  if (!first) {
    check(is_expected_kind(first.error()), "a failure is of an expected kind");
  }

  switch (expected.kind) {
    case Reference::Kind::complete:
      if (ending == Ending::reset && !first) {
        check(first.error() == errc::connection_lost, "a reset ends in connection_lost");
        break;
      }
      check(first.has_value(), "a complete response is returned");
      check(first->status == expected.status, "the status is the one sent");
      check((streamed ? out.streamed : first->body) == expected.body, "the body is the one sent");
      check(!streamed || first->body.empty(), "a streamed body is not kept");
      break;
    case Reference::Kind::failed:
      check(!first, "a malformed response is an error");
      check(first.error() == expected_error(expected.error) ||
                (ending == Ending::reset && first.error() == errc::connection_lost) ||
                (expected.header_incomplete &&
                 first.error() == (eof_follows ? errc::connection_lost : errc::timeout)) ||
                (expected.header_over_limit && first.error() == errc::limit_exceeded),
            "the error is the parser's");
      break;
    case Reference::Kind::cut_short:
      check(!first, "a response cut short is an error");
      check(first.error() == (ending == Ending::keep_open ? errc::timeout : errc::connection_lost),
            "a response cut short is a timeout or connection_lost");
      break;
  }

  check(out.after_first.active == 0, "no connection stays checked out");
  check(out.after_first.created == out.before.created + 1, "the input has a connection of its own");
  if (!first) {
    check(out.after_first.idle == 0, "a failed call's connection is not kept");
  } else if (first->status == 101) {
    check(out.after_first.idle == 0, "a connection that switched protocols is not kept");
  }

  const bool clean_end = !first || expected.consumed_all;
  if (clean_end) {
    check(out.second.has_value(), "the next call succeeds");
    check(out.second->status == 200 && out.second->body == "ok", "the next call gets its answer");
  } else if (!out.second) {
    check(is_expected_kind(out.second.error()), "a failure is of an expected kind");
  }
  if (!first) {
    check(out.after_second.created == out.after_first.created + 1,
          "the call after a failure opens a new connection");
    check(out.accepted_after_second == out.accepted_before_second + 1,
          "the server sees a new connection after a failure");
  } else if (ending == Ending::keep_open && expected.consumed_all && expected.keep_alive &&
             expected.status != 101) {
    check(out.after_first.idle == 1, "a complete keep-alive response leaves its connection idle");
    check(out.after_second.reused == out.after_first.reused + 1, "the next call reuses it");
    check(out.after_second.created == out.after_first.created, "and opens none");
  }
  check(out.after_second.active == 0, "no connection stays checked out");
  return 0;
}
