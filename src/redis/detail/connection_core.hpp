#pragma once
// The state and loops behind redis::Connection: a queue of commands waiting to be written, a queue
// of commands written and waiting for replies, one coroutine writing everything queued in one
// gathered write, one coroutine reading and handing replies out in order.
//
// Locking: `mutex_` guards both queues and the closed state; it is never held across a
// suspension or while a caller is completed. The transport, the parser and the wake-up timer are
// touched only by the loops, which run on `strand_`.

#include "bulwark/redis/connection.hpp"
#include "redis/detail/transport.hpp"

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <mutex>
#include <optional>

namespace bulwark::redis::detail {

class ConnectionCore : public std::enable_shared_from_this<ConnectionCore> {
 public:
  // How a request is answered.
  enum class Answer : std::uint8_t {
    replies,  // one reply per command, in order: the request waits in in_flight_
    pushes,   // push messages only (SUBSCRIBE over RESP3): complete once written
  };

  // One caller's commands: a single command or a batch written back to back.
  struct Request {
    std::vector<Command> commands;
    Answer answer = Answer::replies;
    std::vector<Value> replies;
    // Completed once with the outcome; thread-safe, so the reader may complete from its strand.
    std::optional<boost::asio::experimental::concurrent_channel<void(boost::system::error_code,
                                                                     std::error_code)>>
        done_channel;
    bool written = false;  // guarded by mutex_
    bool done = false;     // guarded by mutex_
  };

  ConnectionCore(boost::asio::any_io_executor executor, ConnectionConfig config,
                 Transport transport, Parser parser, Protocol protocol);

  /// Starts the read and write loops.
  void start();

  /// Queues `request` and waits for its replies (or the failure).
  boost::asio::awaitable<std::error_code> submit(std::shared_ptr<Request> request);

  void close(std::error_code reason) noexcept;

  [[nodiscard]] bool is_open() const noexcept;
  [[nodiscard]] std::error_code close_reason() const noexcept;
  [[nodiscard]] Protocol protocol() const noexcept { return protocol_; }
  [[nodiscard]] ConnectionStats stats() const noexcept;
  [[nodiscard]] std::size_t pending() const noexcept {
    return pending_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] const ConnectionConfig& config() const noexcept { return config_; }
  void on_push(std::function<void(Value)> handler);
  void on_close(std::function<void(std::error_code)> handler);

 private:
  [[nodiscard]] std::error_code enqueue(const std::shared_ptr<Request>& request);
  void cancel(const std::shared_ptr<Request>& request) noexcept;
  void deliver(Value reply);
  static void complete(Request& request, std::error_code outcome) noexcept;

  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> read_loop();

  ConnectionConfig config_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Transport transport_;
  Parser parser_;
  Protocol protocol_;
  boost::asio::steady_timer wake_;

  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<Request>> queued_;
  std::deque<std::shared_ptr<Request>> in_flight_;
  bool writer_idle_ = false;
  bool closed_ = false;
  std::error_code close_reason_;
  std::function<void(Value)> push_handler_;
  std::function<void(std::error_code)> close_handler_;

  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace bulwark::redis::detail
