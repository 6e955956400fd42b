#include "bulwark/shared/coordinator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace bulwark::shared {

namespace asio = boost::asio;

namespace {

constexpr Duration coordination_timeout = std::chrono::seconds(1);

redis::ClientConfig coordination_config(redis::ClientConfig config) {
  config.name += ".coordination";
  config.retry.reset();
  config.circuit_breaker.reset();
  config.rate_limiter.reset();
  config.bulkhead.reset();
  config.on_call = {};
  config.pool.max_connections = std::min<std::size_t>(config.pool.max_connections, 2);
  config.pool.acquire_timeout = std::min(config.pool.acquire_timeout, coordination_timeout);
  config.command_timeout = config.command_timeout > Duration::zero()
                               ? std::min(config.command_timeout, coordination_timeout)
                               : coordination_timeout;
  config.wait_for_loading = Duration::zero();
  config.connection.connect_timeout =
      std::min(config.connection.connect_timeout, coordination_timeout);
  return config;
}

redis::ConnectionConfig subscriber_config(redis::ConnectionConfig config) {
  config.protocol = redis::Protocol::resp3;  // the subscriber needs push messages
  return config;
}

redis::SubscriberOptions subscriber_options() {
  redis::SubscriberOptions options;
  // Coordination wants to be back soon after Redis is: a short, capped reconnection delay.
  options.reconnect.initial = std::chrono::milliseconds(50);
  options.reconnect.max = std::chrono::seconds(1);
  return options;
}

}  // namespace

struct Coordinator::State {
  State(asio::any_io_executor exec, redis::ClientConfig database)
      : executor(exec),
        client(exec, coordination_config(database)),
        subscriber(exec, subscriber_config(database.connection), subscriber_options()) {}

  struct Listener {
    MessageHandler on_message;
    ConnectedHandler on_connected;
  };

  asio::any_io_executor executor;
  redis::Client client;
  redis::Subscriber subscriber;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Listener>, std::less<>> listeners;
  std::atomic<bool> closed{false};

  std::shared_ptr<Listener> find(std::string_view channel) {
    std::lock_guard lock(mutex);
    const auto found = listeners.find(channel);
    return found == listeners.end() ? nullptr : found->second;
  }

  std::vector<std::shared_ptr<Listener>> all() {
    std::lock_guard lock(mutex);
    std::vector<std::shared_ptr<Listener>> out;
    for (const auto& [channel, listener] : listeners) out.push_back(listener);
    return out;
  }
};

Coordinator::Coordinator(asio::any_io_executor executor, redis::ClientConfig database)
    : state_(std::make_shared<State>(executor, std::move(database))) {
  std::weak_ptr<State> weak = state_;
  state_->subscriber.on_message([weak](const redis::Message& message) {
    const auto state = weak.lock();
    if (!state || state->closed.load(std::memory_order_acquire)) return;
    if (const auto listener = state->find(message.channel)) listener->on_message(message.payload);
  });
  state_->subscriber.on_state_change([weak](redis::SubscriberState now) {
    const auto state = weak.lock();
    if (!state || now != redis::SubscriberState::connected) return;
    if (state->closed.load(std::memory_order_acquire)) return;
    for (const auto& listener : state->all()) {
      if (listener->on_connected) listener->on_connected();
    }
  });
}

Coordinator::~Coordinator() { close(); }

void Coordinator::listen(const std::string& channel, MessageHandler on_message,
                         ConnectedHandler on_connected) {
  auto listener = std::make_shared<State::Listener>(
      State::Listener{std::move(on_message), std::move(on_connected)});
  {
    std::lock_guard lock(state_->mutex);
    state_->listeners[channel] = listener;
  }
  // Confirmed later: the listener then learns what was recorded before it listened.
  asio::co_spawn(
      state_->executor,
      [state = state_, channel, listener]() -> asio::awaitable<void> {
        std::vector<std::string> channels{channel};
        const Result<void> subscribed = co_await state->subscriber.subscribe(std::move(channels));
        if (subscribed && !state->closed.load(std::memory_order_acquire) &&
            state->find(channel) == listener && listener->on_connected) {
          listener->on_connected();
        }
      },
      asio::detached);
}

void Coordinator::forget(const std::string& channel) {
  {
    std::lock_guard lock(state_->mutex);
    state_->listeners.erase(channel);
  }
  asio::co_spawn(
      state_->executor,
      [state = state_, channel]() -> asio::awaitable<void> {
        std::vector<std::string> channels{channel};
        (void)co_await state->subscriber.unsubscribe(std::move(channels));
      },
      asio::detached);
}

bool Coordinator::connected() const noexcept {
  return !state_->closed.load(std::memory_order_acquire) &&
         state_->subscriber.state() == redis::SubscriberState::connected;
}

CoordinatorStats Coordinator::stats() const noexcept {
  const redis::SubscriberStats subscriber = state_->subscriber.stats();
  return CoordinatorStats{connected(), subscriber.reconnects, subscriber.last_error};
}

redis::Client& Coordinator::client() noexcept { return state_->client; }

asio::any_io_executor Coordinator::executor() const noexcept { return state_->executor; }

void Coordinator::close() noexcept {
  if (state_->closed.exchange(true, std::memory_order_acq_rel)) return;
  state_->subscriber.close();
  state_->client.close();
}

}  // namespace bulwark::shared
