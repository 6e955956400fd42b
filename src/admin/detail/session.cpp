#include "admin/detail/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>

namespace bulwark::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A parse error the client should hear about, as opposed to a connection that just ended.
bool is_bad_request(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

Session::Session(asio::ip::tcp::socket socket, Limits limits, Handler handler,
                 std::shared_ptr<const std::atomic<bool>> stopping)
    : stream_(std::move(socket)),
      limits_(limits),
      handler_(std::move(handler)),
      stopping_(std::move(stopping)) {}

asio::awaitable<void> Session::run() {
  const std::size_t limit = limits_.max_request_bytes;
  while (!stopping_->load(std::memory_order_acquire)) {
    idle_ = true;
    if (buffer_.size() == 0) {
      stream_.expires_after(limits_.idle_timeout);
      const auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(1024), use_tuple);
      if (ec) break;  // The peer left, the idle timeout, or the server stopping.
      buffer_.commit(n);
    }
    idle_ = false;
    // From its first byte on, the whole request must arrive within the read timeout, however
    // slowly it trickles.
    stream_.expires_after(limits_.read_timeout);
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(limit);
    const auto [ec, header_bytes] =
        co_await bhttp::async_read_header(stream_, buffer_, parser, use_tuple);
    if (ec == bhttp::error::header_limit) {
      co_await reject(431, "request header fields too large");
      break;
    }
    if (ec == bhttp::error::body_limit) {
      co_await reject(413, "request too large");
      break;
    }
    if (ec) {
      if (is_bad_request(ec)) co_await reject(400, "bad request");
      break;
    }
    const std::size_t room = limit - std::min(limit, header_bytes);
    if (parser.content_length() && *parser.content_length() > room) {
      co_await reject(413, "request too large");
      break;
    }
    if (!parser.is_done()) {
      parser.body_limit(room);
      const auto [body_ec, body_bytes] =
          co_await bhttp::async_read(stream_, buffer_, parser, use_tuple);
      if (body_ec == bhttp::error::body_limit) {
        co_await reject(413, "request too large");
        break;
      }
      if (body_ec) {
        if (is_bad_request(body_ec)) co_await reject(400, "bad request");
        break;
      }
    }
    const bhttp::request<bhttp::string_body>& request = parser.get();
    AdminRequest view;
    view.method = request.method_string();
    view.target = request.target();
    if (const auto found = request.find(bhttp::field::authorization); found != request.end()) {
      view.authorization = found->value();
    }
    const AdminReply reply = handler_(view);
    const bool keep_alive = request.keep_alive() && !stopping_->load(std::memory_order_acquire);
    const bool written =
        co_await write(reply, request.method() == bhttp::verb::head, request.version(), keep_alive);
    if (!written) break;
    if (!keep_alive) {
      co_await linger();
      break;
    }
  }
  close();
}

asio::awaitable<bool> Session::write(const AdminReply& reply, bool head, unsigned version,
                                     bool keep_alive) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), version};
  response.set(bhttp::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) response.insert(name, value);
  response.keep_alive(keep_alive);
  if (head) {
    response.content_length(reply.body.size());  // What GET would send; no body follows.
  } else {
    response.body() = reply.body;
    response.prepare_payload();
  }
  stream_.expires_after(limits_.read_timeout);
  const auto [ec, n] = co_await bhttp::async_write(stream_, response, use_tuple);
  co_return !ec;
}

asio::awaitable<void> Session::reject(unsigned status, std::string_view message) {
  const AdminReply reply = error_reply(status, message);
  if (co_await write(reply, false, 11, false)) co_await linger();
}

asio::awaitable<void> Session::linger() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::min<Duration>(limits_.read_timeout, std::chrono::seconds(2)));
  std::array<char, 4096> sink{};
  std::size_t drained = 0;
  constexpr std::size_t most = 1024 * 1024;
  while (drained < most) {
    const auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
    drained += n;
  }
}

void Session::close_if_idle() noexcept {
  if (idle_) close();
}

void Session::close() noexcept {
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace bulwark::detail
