#include "redis/detail/connection_core.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>

#include <algorithm>

namespace bulwark::redis::detail {

namespace asio = boost::asio;

ConnectionCore::ConnectionCore(asio::any_io_executor executor, ConnectionConfig config,
                               Transport transport, Parser parser, Protocol protocol)
    : config_(std::move(config)),
      strand_(asio::make_strand(std::move(executor))),
      transport_(std::move(transport)),
      parser_(std::move(parser)),
      protocol_(protocol),
      wake_(strand_),
      watchdog_(strand_) {}

void ConnectionCore::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      strand_, [self]() { return self->write_loop(); }, asio::detached);
  asio::co_spawn(
      strand_, [self]() { return self->read_loop(); }, asio::detached);
  asio::co_spawn(
      strand_, [self]() { return self->watchdog_loop(); }, asio::detached);
}

// Installed in the caller's cancellation slot while its request is pending. A stale one (the
// request settled, the coroutine went on) finds the request done, or gone, and does nothing.
class ConnectionCore::CancelRequest {
 public:
  CancelRequest(std::weak_ptr<ConnectionCore> core, std::weak_ptr<Request> request) noexcept
      : core_(std::move(core)), request_(std::move(request)) {}

  void operator()(asio::cancellation_type type) const {
    constexpr asio::cancellation_type accepted = asio::cancellation_type::terminal |
                                                 asio::cancellation_type::partial |
                                                 asio::cancellation_type::total;
    if ((type & accepted) == asio::cancellation_type::none) return;
    std::shared_ptr<ConnectionCore> core = core_.lock();
    std::shared_ptr<Request> request = request_.lock();
    if (core && request) core->cancel(request);
  }

 private:
  std::weak_ptr<ConnectionCore> core_;
  std::weak_ptr<Request> request_;
};

void ConnectionCore::start(std::shared_ptr<Request> request,
                           asio::any_completion_handler<void(std::error_code)> handler) {
  asio::cancellation_slot slot = handler.get_cancellation_slot();
  bool wake_writer = false;
  bool rearm_watchdog = false;
  {
    std::lock_guard lock(mutex_);
    // swap, not assignment: Boost 1.81's move assignment wraps the handler in itself forever.
    request->handler.swap(handler);
    if (closed_) {
      complete(*request, make_error_code(errc::connection_lost));
      return;
    }
    if (pending_.load(std::memory_order_relaxed) + request->commands.size() >
        config_.max_pending_commands) {
      complete(*request, make_error_code(errc::limit_exceeded));
      return;
    }
    if (slot.is_connected()) slot.template emplace<CancelRequest>(weak_from_this(), request);
    pending_.fetch_add(request->commands.size(), std::memory_order_relaxed);
    if (request->deadline < watchdog_until_) {
      watchdog_until_ = request->deadline;
      rearm_watchdog = true;
    }
    queued_.push_back(std::move(request));
    wake_writer = std::exchange(writer_idle_, false);
  }
  // The writer and the watchdog wait on timers on the strand; only the strand may touch them.
  if (wake_writer || rearm_watchdog) {
    asio::post(strand_, [self = shared_from_this(), wake_writer, rearm_watchdog] {
      if (wake_writer) self->wake_.cancel();
      if (rearm_watchdog) self->watchdog_.cancel();
    });
  }
}

void ConnectionCore::complete(Request& request, std::error_code outcome) noexcept {
  // Never inline: the caller's coroutine must not run inside the reader or under mutex_.
  request.done = true;
  asio::post(request.executor, [handler = std::move(request.handler), outcome]() mutable {
    std::move(handler)(outcome);
  });
}

void ConnectionCore::cancel(const std::shared_ptr<Request>& request) noexcept {
  bool poison = false;
  {
    std::lock_guard lock(mutex_);
    if (request->done) return;
    if (request->written) {
      // A request answered by pushes awaits no reply, so none can go astray; the writer still
      // accounts for it once its bytes are out.
      poison = request->answer == Answer::replies;
    } else {
      std::erase(queued_, request);
      pending_.fetch_sub(request->commands.size(), std::memory_order_relaxed);
    }
    complete(*request, make_error_code(errc::cancelled));
  }
  // A written command's reply will still arrive; with its caller gone it would be handed to the
  // next caller in line. Closing the connection is the only safe way out.
  if (poison) close(make_error_code(errc::connection_lost));
}

void ConnectionCore::close(std::error_code reason) noexcept {
  std::deque<std::shared_ptr<Request>> failed;
  std::function<void(std::error_code)> close_handler;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    close_reason_ = reason;
    close_handler = std::move(close_handler_);
    failed.swap(queued_);
    for (auto& request : in_flight_) failed.push_back(std::move(request));
    in_flight_.clear();
    for (auto& request : failed) {
      if (!request->done) complete(*request, reason);
    }
    pending_.store(0, std::memory_order_relaxed);
  }
  asio::post(strand_, [self = shared_from_this(), handler = std::move(close_handler), reason] {
    self->transport_.close();
    self->wake_.cancel();
    self->watchdog_.cancel();
    if (handler) handler(reason);
  });
}

bool ConnectionCore::is_open() const noexcept {
  std::lock_guard lock(mutex_);
  return !closed_;
}

std::error_code ConnectionCore::close_reason() const noexcept {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

ConnectionStats ConnectionCore::stats() const noexcept {
  return {commands_.load(std::memory_order_relaxed), writes_.load(std::memory_order_relaxed),
          pending_.load(std::memory_order_relaxed)};
}

void ConnectionCore::on_push(std::function<void(Value)> handler) {
  std::lock_guard lock(mutex_);
  push_handler_ = std::move(handler);
}

void ConnectionCore::on_close(std::function<void(std::error_code)> handler) {
  std::error_code reason;
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      close_handler_ = std::move(handler);
      return;
    }
    reason = close_reason_;
  }
  if (handler) asio::post(strand_, [handler = std::move(handler), reason] { handler(reason); });
}

asio::awaitable<void> ConnectionCore::write_loop() {
  auto self = shared_from_this();  // keeps the core alive while the loop runs
  std::vector<std::shared_ptr<Request>> batch;
  std::vector<std::shared_ptr<Request>> push_answered;  // complete once written
  std::string out;
  for (;;) {
    bool closed = false;
    {
      std::lock_guard lock(mutex_);
      closed = closed_;
      if (!closed && queued_.empty()) writer_idle_ = true;
      while (!closed && !queued_.empty()) {
        std::shared_ptr<Request> request = std::move(queued_.front());
        queued_.pop_front();
        // Marked before the bytes leave: from here on a cancelled caller must poison.
        request->written = true;
        for (const Command& command : request->commands) command.append_to(out);
        if (request->answer == Answer::replies) {
          in_flight_.push_back(request);
        } else {
          push_answered.push_back(request);
        }
        batch.push_back(std::move(request));
      }
    }
    if (closed) co_return;
    if (batch.empty()) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ignored;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      continue;
    }
    boost::system::error_code error;
    co_await transport_.write(asio::buffer(out), error);
    writes_.fetch_add(1, std::memory_order_relaxed);
    out.clear();
    batch.clear();
    if (!push_answered.empty()) {
      std::lock_guard lock(mutex_);
      for (const std::shared_ptr<Request>& request : push_answered) {
        // close() has already zeroed the count and failed what it could reach; these it could not.
        if (!closed_) {
          pending_.fetch_sub(request->commands.size(), std::memory_order_relaxed);
          if (!error) commands_.fetch_add(request->commands.size(), std::memory_order_relaxed);
        }
        if (request->done) continue;
        request->done = true;
        complete(*request, error ? make_error_code(errc::connection_lost) : std::error_code{});
      }
      push_answered.clear();
    }
    if (error) {
      close(make_error_code(errc::connection_lost));
      co_return;
    }
  }
}

asio::awaitable<void> ConnectionCore::read_loop() {
  auto self = shared_from_this();
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    boost::system::error_code error;
    const std::size_t n = co_await transport_.read_some(asio::buffer(buffer), error);
    if (error) {
      close(make_error_code(errc::connection_lost));
      co_return;
    }
    (void)parser_.feed(std::string_view(buffer.data(), n));
    while (std::optional<Value> reply = parser_.next()) {
      deliver(std::move(*reply));
    }
    if (parser_.failed()) {
      close(parser_.error());
      co_return;
    }
    if (!is_open()) co_return;
  }
}

void ConnectionCore::deliver(Value reply) {
  if (reply.type() == Type::push) {
    std::function<void(Value)> handler;
    {
      std::lock_guard lock(mutex_);
      handler = push_handler_;
    }
    if (handler) handler(std::move(reply));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (!in_flight_.empty()) {
      Request& request = *in_flight_.front();
      request.replies.push_back(std::move(reply));
      if (request.replies.size() < request.commands.size()) return;
      std::shared_ptr<Request> finished = std::move(in_flight_.front());
      in_flight_.pop_front();
      pending_.fetch_sub(finished->commands.size(), std::memory_order_relaxed);
      commands_.fetch_add(finished->commands.size(), std::memory_order_relaxed);
      // A request cancelled after being written is settled already; the connection is closing.
      if (!finished->done) complete(*finished, {});
      return;
    }
  }
  // A reply nobody asked for: the stream is out of step and cannot be trusted.
  close(make_error_code(errc::protocol_error));
}

asio::awaitable<void> ConnectionCore::watchdog_loop() {
  auto self = shared_from_this();
  for (;;) {
    std::chrono::steady_clock::time_point until;
    {
      std::lock_guard lock(mutex_);
      if (closed_) co_return;
      until = watchdog_until_;
    }
    watchdog_.expires_at(until);
    boost::system::error_code ignored;  // cancelled: re-armed for an earlier deadline, or closed
    co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    expire_overdue();
  }
}

void ConnectionCore::expire_overdue() {
  const auto now = std::chrono::steady_clock::now();
  bool overdue = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    auto next = std::chrono::steady_clock::time_point::max();
    for (auto* queue : {&in_flight_, &queued_}) {
      for (const std::shared_ptr<Request>& request : *queue) {
        if (request->done) continue;
        if (request->deadline <= now) {
          complete(*request, make_error_code(errc::timeout));
          overdue = true;
        } else {
          next = std::min(next, request->deadline);
        }
      }
    }
    watchdog_until_ = next;
  }
  // A reply is late: it may still come, and must not reach the caller after this one. Requests
  // still waiting fail with connection_lost (read-only ones are retried on a new connection).
  if (overdue) close(make_error_code(errc::connection_lost));
}

}  // namespace bulwark::redis::detail
