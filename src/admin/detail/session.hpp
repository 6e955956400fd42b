#pragma once
// One connection to the admin endpoint: reads requests within the size and time bounds, asks the
// router for each reply, writes it, and closes when the peer, a bound or the server says so.
//
// Threading: `run()` and the close functions must run on the session's executor (a strand of its
// own); the server posts them there. Lifetime: whoever runs `run()` keeps the session alive
// (a shared_ptr) until it returns.

#include "admin/detail/router.hpp"
#include "bulwark/core/duration.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace bulwark::detail {

class Session {
 public:
  using Handler = std::function<AdminReply(const AdminRequest&)>;

  struct Limits {
    std::size_t max_request_bytes = 0;  ///< Header and body together.
    Duration read_timeout{};            ///< For a request once it started, and for a response.
    Duration idle_timeout{};            ///< Waiting for a request.
  };

  /// `stopping` tells the session to finish the request in hand and close.
  Session(boost::asio::ip::tcp::socket socket, Limits limits, Handler handler,
          std::shared_ptr<const std::atomic<bool>> stopping);

  /// Serves requests until the connection ends.
  boost::asio::awaitable<void> run();

  /// Closes the connection if it is waiting for a request; one with a request in hand closes
  /// once it answered (the server's stop sets `stopping` first).
  void close_if_idle() noexcept;
  /// Closes the connection now.
  void close() noexcept;

  [[nodiscard]] boost::asio::any_io_executor executor() noexcept { return stream_.get_executor(); }

 private:
  // True when the whole reply was written.
  boost::asio::awaitable<bool> write(const AdminReply& reply, bool head, unsigned version,
                                     bool keep_alive);
  // Answers `status` and closes (after a request that broke a bound or could not be parsed).
  boost::asio::awaitable<void> reject(unsigned status, std::string_view message);
  // Closes our side for writing and reads what the peer still sends, for a short while: closing
  // with unread data makes the kernel reset the connection, and the peer may then lose the
  // reply it has not read yet.
  boost::asio::awaitable<void> linger();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  Limits limits_;
  Handler handler_;
  std::shared_ptr<const std::atomic<bool>> stopping_;
  bool idle_ = true;
};

}  // namespace bulwark::detail
