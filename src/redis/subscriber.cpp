#include "bulwark/redis/subscriber.hpp"

#include "bulwark/redis/connection.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

namespace bulwark::redis {

namespace asio = boost::asio;

std::string_view to_string(SubscriberState state) noexcept {
  switch (state) {
    case SubscriberState::connecting:
      return "connecting";
    case SubscriberState::connected:
      return "connected";
    case SubscriberState::reconnecting:
      return "reconnecting";
    case SubscriberState::closed:
      return "closed";
  }
  return "unknown";
}

namespace detail {
namespace {

enum class Kind : std::uint8_t { subscribe, psubscribe, unsubscribe, punsubscribe };

// The command, and the first element of the push that confirms it.
std::string_view command_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::subscribe:
      return "SUBSCRIBE";
    case Kind::psubscribe:
      return "PSUBSCRIBE";
    case Kind::unsubscribe:
      return "UNSUBSCRIBE";
    case Kind::punsubscribe:
      return "PUNSUBSCRIBE";
  }
  return "";
}

std::optional<Kind> confirmation_kind(std::string_view word) noexcept {
  if (word == "subscribe") return Kind::subscribe;
  if (word == "psubscribe") return Kind::psubscribe;
  if (word == "unsubscribe") return Kind::unsubscribe;
  if (word == "punsubscribe") return Kind::punsubscribe;
  return std::nullopt;
}

bool adds(Kind kind) noexcept { return kind == Kind::subscribe || kind == Kind::psubscribe; }
bool on_patterns(Kind kind) noexcept {
  return kind == Kind::psubscribe || kind == Kind::punsubscribe;
}

// A confirmation the server owes: which kind, for which channel or pattern.
using Key = std::pair<Kind, std::string>;

Command make_subscription_command(Kind kind, const std::vector<std::string>& names) {
  Command command(command_name(kind));
  command.arg(names);
  return command;
}

}  // namespace

// The subscriber's state and its one coroutine, `run`, which owns the connection: it connects,
// subscribes to the whole set, writes the (un)subscriptions callers queue, and on loss starts
// over with backoff.
//
// Locking: `mutex_` guards the subscription set, the queue of commands, the waiters and the
// state; it is never held across a suspension or while a handler or waiter is completed. The
// wake-up timer and the connect cancellation signal are touched only on `strand_`, where `run`,
// the connection's loops and therefore the push handler run too.
class SubscriberCore : public std::enable_shared_from_this<SubscriberCore> {
 public:
  SubscriberCore(asio::any_io_executor executor, ConnectionConfig config, SubscriberOptions options)
      : strand_(asio::make_strand(std::move(executor))),
        config_(std::move(config)),
        backoff_(options.reconnect, nullptr),
        clock_(options.clock ? std::move(options.clock) : steady_clock()),
        wake_(strand_) {}

  void start() {
    asio::co_spawn(
        strand_, [self = shared_from_this()] { return self->run(); }, asio::detached);
  }

  // Holds `self` so that a caller still waiting when the subscriber is destroyed is safe.
  static asio::awaitable<Result<void>> change(std::shared_ptr<SubscriberCore> self, Kind kind,
                                              std::vector<std::string> names) {
    return self->change_impl(self, kind, std::move(names));
  }

 private:
  asio::awaitable<Result<void>> change_impl(std::shared_ptr<SubscriberCore> /*self*/, Kind kind,
                                            std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    auto waiter = std::make_shared<Waiter>();
    waiter->done.emplace(co_await asio::this_coro::executor, 1);
    std::error_code refused;
    bool queued = false;
    bool wait = false;
    {
      std::lock_guard lock(mutex_);
      std::set<std::string>& set = on_patterns(kind) ? patterns_ : channels_;
      if (closed_) {
        refused = make_error_code(errc::shutting_down);
      } else {
        if (!adds(kind) && names.empty()) names.assign(set.begin(), set.end());
        for (const std::string& name : names) {
          if (adds(kind)) {
            set.insert(name);
          } else {
            set.erase(name);
          }
        }
        if (!names.empty() && connection_) {
          ops_.push_back(make_subscription_command(kind, names));
          queued = true;
        }
        // Subscriptions made while disconnected are confirmed by the resubscription; removals
        // need nothing: the server forgot every subscription with the connection.
        if (queued || adds(kind)) {
          for (std::string& name : names) waiter->outstanding.emplace(kind, std::move(name));
        }
        wait = !waiter->outstanding.empty();
        if (wait) waiters_.push_back(waiter);
      }
    }
    if (refused) co_return refused;
    if (queued) wake();
    if (!wait) co_return ok();
    boost::system::error_code channel_error;
    const std::error_code outcome = co_await waiter->done->async_receive(
        asio::redirect_error(asio::use_awaitable, channel_error));
    if (channel_error) {
      std::lock_guard lock(mutex_);
      std::erase(waiters_, waiter);
      co_return make_error_code(errc::cancelled);
    }
    if (outcome) co_return outcome;
    co_return ok();
  }

 public:
  void close() noexcept {
    std::vector<std::shared_ptr<Waiter>> waiters;
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      state_ = SubscriberState::closed;
      waiters.swap(waiters_);
      connection = std::move(connection_);
      ops_.clear();
    }
    for (auto& waiter : waiters) complete(*waiter, make_error_code(errc::shutting_down));
    if (connection) connection->close();
    asio::post(strand_, [self = shared_from_this()] {
      self->cancel_connect_.emit(asio::cancellation_type::all);
      self->wake_.cancel();
    });
  }

  void on_message(std::function<void(const Message&)> handler) {
    auto shared = std::make_shared<const std::function<void(const Message&)>>(std::move(handler));
    std::lock_guard lock(mutex_);
    message_handler_ = std::move(shared);
  }

  void on_state_change(std::function<void(SubscriberState)> handler) {
    auto shared = std::make_shared<const std::function<void(SubscriberState)>>(std::move(handler));
    std::lock_guard lock(mutex_);
    state_handler_ = std::move(shared);
  }

  SubscriberState state() const noexcept {
    std::lock_guard lock(mutex_);
    return state_;
  }

  SubscriberStats stats() const noexcept {
    SubscriberStats stats;
    {
      std::lock_guard lock(mutex_);
      stats.state = state_;
      stats.channels = channels_.size();
      stats.patterns = patterns_.size();
      stats.last_error = last_error_;
    }
    stats.reconnects = reconnects_.load(std::memory_order_relaxed);
    stats.connect_failures = connect_failures_.load(std::memory_order_relaxed);
    stats.messages = messages_.load(std::memory_order_relaxed);
    stats.handler_errors = handler_errors_.load(std::memory_order_relaxed);
    return stats;
  }

 private:
  // One caller of subscribe/unsubscribe, waiting for the confirmations it is still owed.
  struct Waiter {
    std::set<Key> outstanding{};
    // Completed once; thread-safe, since the caller may wait on another executor.
    std::optional<
        asio::experimental::concurrent_channel<void(boost::system::error_code, std::error_code)>>
        done{};
  };

  static void complete(Waiter& waiter, std::error_code outcome) noexcept {
    (void)waiter.done->try_send(boost::system::error_code{}, outcome);
  }

  // Removes the waiters left with nothing outstanding from `waiters_` and returns them.
  std::vector<std::shared_ptr<Waiter>> take_satisfied_locked() {
    std::vector<std::shared_ptr<Waiter>> satisfied;
    std::erase_if(waiters_, [&](const std::shared_ptr<Waiter>& waiter) {
      if (!waiter->outstanding.empty()) return false;
      satisfied.push_back(waiter);
      return true;
    });
    return satisfied;
  }

  void wake() {
    asio::post(strand_, [self = shared_from_this()] { self->wake_.cancel(); });
  }

  bool closing() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // Sets the state and tells the callback, unless closed. On the strand.
  void set_state(SubscriberState state) {
    std::shared_ptr<const std::function<void(SubscriberState)>> handler;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || state_ == state) return;
      state_ = state;
      handler = state_handler_;
    }
    notify(handler, state);
  }

  void notify(const std::shared_ptr<const std::function<void(SubscriberState)>>& handler,
              SubscriberState state) {
    if (!handler || !*handler) return;
    try {
      (*handler)(state);
    } catch (...) {
      handler_errors_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();  // keeps the core alive while the loop runs
    int attempt = 0;                 // attempts since the last confirmed connection
    Duration previous = backoff_.config().initial;
    bool connected_before = false;
    while (!closing()) {
      if (attempt > 0) {
        const Duration delay = backoff_.delay(attempt, previous);
        previous = delay;
        co_await pause(delay);
        if (closing()) break;
      }
      ++attempt;
      std::error_code failure;
      std::shared_ptr<Connection> connection = co_await connect(failure);
      if (!connection) {
        if (closing()) break;
        connect_failures_.fetch_add(1, std::memory_order_relaxed);
        {
          std::lock_guard lock(mutex_);
          last_error_ = failure;
        }
        set_state(SubscriberState::reconnecting);
        continue;
      }
      std::optional<std::vector<Command>> resubscription = adopt(connection);
      if (!resubscription) {
        connection->close();
        break;
      }
      if (connected_before) reconnects_.fetch_add(1, std::memory_order_relaxed);
      connected_before = true;
      co_await serve(*connection, std::move(*resubscription));
      connection->close();
      if (lose(*connection)) {
        attempt = 0;
        previous = backoff_.config().initial;
      }
    }
    std::lock_guard lock(mutex_);
    connection_.reset();
  }

  // One connection attempt, which close() cancels. Null on failure, with the reason.
  asio::awaitable<std::shared_ptr<Connection>> connect(std::error_code& failure) {
    std::shared_ptr<Connection> connection;
    try {
      connection = co_await asio::co_spawn(
          strand_, Connection::connect(strand_, config_),
          asio::bind_cancellation_slot(cancel_connect_.slot(), asio::use_awaitable));
    } catch (const std::system_error& error) {
      failure = error.code();
    } catch (...) {
      failure = make_error_code(errc::connect_failed);
    }
    // The handler co_spawn left in the slot belongs to a finished operation.
    cancel_connect_.slot().clear();
    if (connection && connection->protocol() != Protocol::resp3) {
      // Redis < 6: no HELLO, no push messages.
      connection->close();
      connection.reset();
      failure = make_error_code(errc::protocol_error);
    }
    co_return connection;
  }

  // Waits `delay` (cut short by close()); a manual clock is advanced instead.
  asio::awaitable<void> pause(Duration delay) {
    if (clock_->is_manual()) {
      clock_->sleep_for(delay);
      co_await asio::post(strand_, asio::use_awaitable);
      co_return;
    }
    const auto deadline = asio::steady_timer::clock_type::now() +
                          std::chrono::duration_cast<asio::steady_timer::duration>(delay);
    while (!closing() && asio::steady_timer::clock_type::now() < deadline) {
      wake_.expires_at(deadline);
      boost::system::error_code ignored;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }

  // Makes `connection` the current one and returns the commands that subscribe to the whole
  // set; nullopt when closed meanwhile.
  std::optional<std::vector<Command>> adopt(const std::shared_ptr<Connection>& connection) {
    std::weak_ptr<SubscriberCore> weak = weak_from_this();
    connection->on_push([weak](Value push) {
      if (auto self = weak.lock()) self->on_push(push);
    });
    connection->on_close([weak](std::error_code) {
      if (auto self = weak.lock()) self->wake();
    });
    std::vector<Command> commands;
    std::vector<std::shared_ptr<Waiter>> satisfied;
    bool confirmed = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return std::nullopt;
      connection_ = connection;
      // Everything queued is already in the set, which is subscribed to as a whole.
      ops_.clear();
      resubscription_.clear();
      for (const std::string& channel : channels_)
        resubscription_.emplace(Kind::subscribe, channel);
      for (const std::string& pattern : patterns_) {
        resubscription_.emplace(Kind::psubscribe, pattern);
      }
      if (!channels_.empty()) {
        commands.push_back(make_subscription_command(
            Kind::subscribe, std::vector<std::string>(channels_.begin(), channels_.end())));
      }
      if (!patterns_.empty()) {
        commands.push_back(make_subscription_command(
            Kind::psubscribe, std::vector<std::string>(patterns_.begin(), patterns_.end())));
      }
      // Confirmations this connection will never send: subscriptions removed from the set since.
      for (const auto& waiter : waiters_) {
        std::erase_if(waiter->outstanding,
                      [&](const Key& key) { return !resubscription_.contains(key); });
      }
      satisfied = take_satisfied_locked();
      confirmed = resubscription_.empty();
    }
    for (auto& waiter : satisfied) complete(*waiter, {});
    if (confirmed) set_state(SubscriberState::connected);
    return commands;
  }

  // Writes the resubscription, then what callers queue, until the connection closes.
  asio::awaitable<void> serve(Connection& connection, std::vector<Command> resubscription) {
    for (Command& command : resubscription) {
      if (!co_await connection.send(std::move(command))) co_return;
    }
    for (;;) {
      if (!connection.is_open()) co_return;
      std::deque<Command> ops;
      {
        std::lock_guard lock(mutex_);
        if (closed_) co_return;
        ops.swap(ops_);
      }
      if (ops.empty()) {
        // Woken by a queued command, the connection closing, or close().
        wake_.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ignored;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        continue;
      }
      for (Command& command : ops) {
        if (!co_await connection.send(std::move(command))) co_return;
      }
    }
  }

  // Forgets the lost `connection`; returns whether it had been confirmed.
  bool lose(const Connection& connection) {
    std::vector<std::shared_ptr<Waiter>> satisfied;
    bool confirmed = false;
    {
      std::lock_guard lock(mutex_);
      confirmed = state_ == SubscriberState::connected;
      connection_.reset();
      ops_.clear();
      resubscription_.clear();
      if (!closed_) last_error_ = connection.close_reason();
      // The server dropped every subscription with the connection: removals are done.
      for (const auto& waiter : waiters_) {
        std::erase_if(waiter->outstanding, [](const Key& key) { return !adds(key.first); });
      }
      satisfied = take_satisfied_locked();
    }
    for (auto& waiter : satisfied) complete(*waiter, {});
    set_state(SubscriberState::reconnecting);
    return confirmed;
  }

  // A push from the current connection, on the strand.
  void on_push(const Value& push) {
    if (push.type() != Type::push || push.size() < 2) return;
    const std::span<const Value> items = push.elements();
    if (!items[0].is_string()) return;
    const std::string_view word = items[0].as_string();
    auto text = [&](std::size_t i) {
      return items[i].is_string() ? std::string(items[i].as_string()) : std::string();
    };
    if (word == "message" && items.size() == 3) {
      deliver(Message{.channel = text(1), .pattern = {}, .payload = text(2)});
    } else if (word == "pmessage" && items.size() == 4) {
      deliver(Message{.channel = text(2), .pattern = text(1), .payload = text(3)});
    } else if (std::optional<Kind> kind = confirmation_kind(word)) {
      // `unsubscribe` with a null name answers an UNSUBSCRIBE when nothing was subscribed.
      confirm(Key{*kind, text(1)});
    }
  }

  void deliver(const Message& message) {
    messages_.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const std::function<void(const Message&)>> handler;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      handler = message_handler_;
    }
    if (!handler || !*handler) return;
    try {
      (*handler)(message);
    } catch (...) {
      handler_errors_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void confirm(const Key& key) {
    std::vector<std::shared_ptr<Waiter>> satisfied;
    bool now_confirmed = false;
    {
      std::lock_guard lock(mutex_);
      for (const auto& waiter : waiters_) waiter->outstanding.erase(key);
      satisfied = take_satisfied_locked();
      now_confirmed = resubscription_.erase(key) > 0 && resubscription_.empty();
    }
    for (auto& waiter : satisfied) complete(*waiter, {});
    if (now_confirmed) set_state(SubscriberState::connected);
  }

  asio::strand<asio::any_io_executor> strand_;
  const ConnectionConfig config_;
  const Backoff backoff_;
  const std::shared_ptr<Clock> clock_;
  asio::steady_timer wake_;                   // strand only
  asio::cancellation_signal cancel_connect_;  // strand only

  mutable std::mutex mutex_;
  bool closed_ = false;
  SubscriberState state_ = SubscriberState::connecting;
  std::error_code last_error_{};
  std::set<std::string> channels_{};
  std::set<std::string> patterns_{};
  std::shared_ptr<Connection> connection_{};  // set while run() serves a connection
  std::deque<Command> ops_{};                 // (un)subscriptions to write on connection_
  std::set<Key> resubscription_{};            // confirmations before the state is `connected`
  std::vector<std::shared_ptr<Waiter>> waiters_{};
  std::shared_ptr<const std::function<void(const Message&)>> message_handler_{};
  std::shared_ptr<const std::function<void(SubscriberState)>> state_handler_{};

  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> handler_errors_{0};
};

}  // namespace detail

namespace {

SubscriberOptions validated(const ConnectionConfig& config, SubscriberOptions options) {
  std::vector<ConfigIssue> issues;
  validate(config, issues);
  if (config.protocol != Protocol::resp3) {
    issues.push_back({"redis.protocol",
                      "the subscriber needs RESP3: subscription confirmations and messages "
                      "arrive as push messages, which RESP2 does not have"});
  }
  Backoff::validate(options.reconnect, issues, "subscriber.reconnect");
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return options;
}

}  // namespace

Subscriber::Subscriber(asio::any_io_executor executor, ConnectionConfig config,
                       SubscriberOptions options)
    : core_(std::make_shared<detail::SubscriberCore>(std::move(executor), config,
                                                     validated(config, std::move(options)))) {
  core_->start();
}

Subscriber::~Subscriber() { core_->close(); }

void Subscriber::on_message(std::function<void(const Message&)> handler) {
  core_->on_message(std::move(handler));
}

void Subscriber::on_state_change(std::function<void(SubscriberState)> handler) {
  core_->on_state_change(std::move(handler));
}

asio::awaitable<Result<void>> Subscriber::subscribe(std::vector<std::string> channels) {
  return detail::SubscriberCore::change(core_, detail::Kind::subscribe, std::move(channels));
}

asio::awaitable<Result<void>> Subscriber::psubscribe(std::vector<std::string> patterns) {
  return detail::SubscriberCore::change(core_, detail::Kind::psubscribe, std::move(patterns));
}

asio::awaitable<Result<void>> Subscriber::unsubscribe(std::vector<std::string> channels) {
  return detail::SubscriberCore::change(core_, detail::Kind::unsubscribe, std::move(channels));
}

asio::awaitable<Result<void>> Subscriber::punsubscribe(std::vector<std::string> patterns) {
  return detail::SubscriberCore::change(core_, detail::Kind::punsubscribe, std::move(patterns));
}

void Subscriber::close() noexcept { core_->close(); }
SubscriberState Subscriber::state() const noexcept { return core_->state(); }
SubscriberStats Subscriber::stats() const noexcept { return core_->stats(); }

}  // namespace bulwark::redis
