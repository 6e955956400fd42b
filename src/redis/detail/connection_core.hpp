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

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
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
    // The waiting caller; taken exactly once, by whoever settles the request (the reader, close()
    // or the caller's cancellation), and posted to the caller's executor. Guarded by mutex_.
    boost::asio::any_completion_handler<void(std::error_code)> handler;
    // The handler's own executor, where it is posted.
    boost::asio::any_io_executor executor;
    // When the caller stops waiting for the replies; max() = never. Checked by the watchdog.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool written = false;  // guarded by mutex_
    bool done = false;     // guarded by mutex_
  };

  ConnectionCore(boost::asio::any_io_executor executor, ConnectionConfig config,
                 Transport transport, Parser parser, Protocol protocol);

  /// Starts the read and write loops.
  void start();

  /// Queues `request` and completes with the outcome once its replies are in `request->replies`:
  /// empty, `connection_lost`, `protocol_error`, `limit_exceeded`, or `cancelled` when the
  /// caller's cancellation slot fired first (a written request then poisons the connection).
  /// Completes on the caller's executor, never inline.
  ///
  /// An async operation rather than a coroutine, and no channel per request: the caller's handler
  /// is stored in the request (one small allocation, for its type erasure) and posted when the
  /// request settles.
  template <class CompletionToken>
  auto async_submit(std::shared_ptr<Request> request, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(std::error_code)>(
        [this](auto handler, std::shared_ptr<Request> submitted) {
          submitted->executor =
              boost::asio::get_associated_executor(handler, strand_.get_inner_executor());
          start(std::move(submitted),
                boost::asio::any_completion_handler<void(std::error_code)>(std::move(handler)));
        },
        token, std::move(request));
  }

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
  class CancelRequest;
  void start(std::shared_ptr<Request> request,
             boost::asio::any_completion_handler<void(std::error_code)> handler);
  void cancel(const std::shared_ptr<Request>& request) noexcept;
  void deliver(Value reply);
  static void complete(Request& request, std::error_code outcome) noexcept;

  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> watchdog_loop();
  // Fails overdue requests with `timeout` and poisons the connection if there were any; otherwise
  // re-arms for the earliest deadline still pending. Runs on the strand.
  void expire_overdue();

  ConnectionConfig config_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  Transport transport_;
  Parser parser_;
  Protocol protocol_;
  boost::asio::steady_timer wake_;
  // One timer per connection for every request's deadline, instead of a timer race per command:
  // it sleeps until the earliest pending deadline, and with uniform timeouts is re-armed once
  // per timeout period, not once per command.
  boost::asio::steady_timer watchdog_;

  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<Request>> queued_;
  std::deque<std::shared_ptr<Request>> in_flight_;
  bool writer_idle_ = false;
  std::chrono::steady_clock::time_point watchdog_until_ =
      std::chrono::steady_clock::time_point::max();
  bool closed_ = false;
  std::error_code close_reason_;
  std::function<void(Value)> push_handler_;
  std::function<void(std::error_code)> close_handler_;

  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace bulwark::redis::detail
