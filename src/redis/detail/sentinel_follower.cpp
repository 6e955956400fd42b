#include "redis/detail/sentinel_follower.hpp"

#include "bulwark/redis/connection.hpp"
#include "redis/detail/sentinel_query.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <charconv>
#include <sstream>

namespace bulwark::redis::detail {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// After no replica could be reached, reads go to the master for this long before the sentinels
// are asked again, so that every read does not pay for a fruitless search.
constexpr auto replica_retry_pause = 1s;
// Times one new connection looks for the master: the known one, then the sentinels' answer
// (which differs after a failover), then once more after a node in the wrong role.
constexpr int master_rounds = 3;

std::optional<Endpoint> parse_switch(std::string_view payload, std::string_view master_name) {
  // "<master name> <old ip> <old port> <new ip> <new port>"
  std::istringstream words{std::string(payload)};
  std::string name, old_ip, old_port, new_ip, new_port;
  if (!(words >> name >> old_ip >> old_port >> new_ip >> new_port)) return std::nullopt;
  if (name != master_name) return std::nullopt;
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(new_port.data(), new_port.data() + new_port.size(), port);
  if (ec != std::errc{} || end != new_port.data() + new_port.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return Endpoint{std::move(new_ip), static_cast<std::uint16_t>(port)};
}

}  // namespace

SentinelFollower::SentinelFollower(asio::any_io_executor executor, SentinelConfig config)
    : executor_(std::move(executor)), config_(std::move(config)) {}

void SentinelFollower::attach(Pool& master, Pool* replicas) {
  std::weak_ptr<SentinelFollower> weak = weak_from_this();
  master.set_connector(
      [self = shared_from_this()](asio::any_io_executor executor, ConnectionConfig config) {
        return self->connect_master(std::move(executor), std::move(config));
      });
  if (replicas != nullptr) {
    replicas->set_connector(
        [self = shared_from_this()](asio::any_io_executor executor, ConnectionConfig config) {
          return self->connect_replica(std::move(executor), std::move(config));
        });
  }
  {
    // Before the subscriptions: a switch they report must find the pools.
    std::lock_guard lock(mutex_);
    master_pool_ = &master;
    replica_pool_ = replicas;
  }
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (const Endpoint& node : config_.nodes) {
    auto subscriber = std::make_unique<Subscriber>(executor_, sentinel_connection(config_, node));
    subscriber->on_message([weak](const Message& message) {
      if (auto self = weak.lock()) self->on_message(message);
    });
    // The subscription holds the subscriber's core, not the subscriber: safe to outlive it.
    asio::co_spawn(executor_, subscriber->subscribe({"+switch-master"}), asio::detached);
    subscribers.push_back(std::move(subscriber));
  }
  std::lock_guard lock(mutex_);
  if (closed_) {
    for (auto& subscriber : subscribers) subscriber->close();
    return;
  }
  subscribers_ = std::move(subscribers);
}

void SentinelFollower::close() noexcept {
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    master_pool_ = nullptr;
    replica_pool_ = nullptr;
    subscribers.swap(subscribers_);
  }
  for (auto& subscriber : subscribers) subscriber->close();
}

void SentinelFollower::on_message(const Message& message) {
  if (std::optional<Endpoint> master = parse_switch(message.payload, config_.master_name)) {
    adopt(*master);
  }
}

void SentinelFollower::adopt(const Endpoint& master) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  const bool moved = master_pool_ != nullptr && master_pool_->retarget(master.host, master.port);
  if (moved && master_) switches_.fetch_add(1, std::memory_order_relaxed);
  if (moved && master_ && replica_pool_ != nullptr) {
    replica_pool_->refresh();  // one of the replicas may be the new master
  }
  master_ = master;
  stale_ = false;  // a sentinel's word, just now
}

void SentinelFollower::forget(const Endpoint& master) {
  std::lock_guard lock(mutex_);
  // Keeps `master_` set for `stats()`: only a sentinel's answer replaces it. `known()` is what
  // decides whether to ask.
  if (master_ == master) stale_ = true;
}

std::optional<Endpoint> SentinelFollower::known() const {
  std::lock_guard lock(mutex_);
  if (!master_ || stale_) return std::nullopt;
  return master_;
}

void SentinelFollower::suspect(const Endpoint& endpoint) {
  std::lock_guard lock(mutex_);
  if (closed_ || master_ != endpoint) return;
  stale_ = true;
  // Every connection to it would answer READONLY too.
  if (master_pool_ != nullptr) master_pool_->refresh();
}

SentinelStats SentinelFollower::stats() const {
  SentinelStats stats;
  {
    std::lock_guard lock(mutex_);
    if (master_) stats.master = to_string(*master_);
    stats.last_error = last_error_;
  }
  stats.discoveries = discoveries_.load(std::memory_order_relaxed);
  stats.switches = switches_.load(std::memory_order_relaxed);
  stats.role_mismatches = role_mismatches_.load(std::memory_order_relaxed);
  stats.sentinel_failures = sentinel_failures_.load(std::memory_order_relaxed);
  return stats;
}

void SentinelFollower::note_failure(std::string why) {
  std::lock_guard lock(mutex_);
  last_error_ = std::move(why);
}

asio::awaitable<Endpoint> SentinelFollower::discover() {
  discoveries_.fetch_add(1, std::memory_order_relaxed);
  Endpoint master = co_await query_master(executor_, config_, &sentinel_failures_);
  adopt(master);
  co_return master;
}

asio::awaitable<std::shared_ptr<Connection>> SentinelFollower::connect_checked(
    asio::any_io_executor executor, ConnectionConfig config, Endpoint target, Role expected) {
  config.host = target.host;
  config.port = target.port;
  config.unix_path.clear();
  std::shared_ptr<Connection> connection =
      co_await Connection::connect(std::move(executor), std::move(config));
  const Command role_command = make_command("ROLE");
  Result<Value> role = co_await connection->execute(role_command, config_.timeout);
  if (!role) {
    connection->close();
    throw Error(role.error(), {}, fmt::format("{}: ROLE", to_string(target)));
  }
  // A node whose ACL refuses ROLE is taken at the sentinels' word.
  if (role->is_error()) co_return connection;
  const std::string_view word = role->is_aggregate() && role->size() > 0 && role->at(0).is_string()
                                    ? role->at(0).as_string()
                                    : std::string_view{};
  const bool matches = expected == Role::master ? word == "master" : word == "slave";
  if (matches) co_return connection;
  connection->close();
  role_mismatches_.fetch_add(1, std::memory_order_relaxed);
  co_return nullptr;
}

asio::awaitable<std::shared_ptr<Connection>> SentinelFollower::connect_master(
    asio::any_io_executor executor, ConnectionConfig config) {
  std::string last_failure = "no attempt";
  for (int round = 0; round < master_rounds; ++round) {
    const std::optional<Endpoint> cached = known();
    Endpoint target;
    if (cached) {
      target = *cached;
    } else {
      try {
        target = co_await discover();
      } catch (const Error& error) {
        note_failure(error.what());
        throw;
      }
    }
    std::shared_ptr<Connection> connection;
    bool unreachable = false;
    try {
      connection = co_await connect_checked(executor, config, target, Role::master);
    } catch (const Error& error) {
      note_failure(error.what());
      // The sentinels' own answer cannot be reached: nothing better to try.
      if (!cached) throw;
      unreachable = true;
      last_failure = error.what();
    }
    if (connection) co_return connection;
    if (!unreachable) {
      last_failure = fmt::format("{} is not a master", to_string(target));
    }
    forget(target);
  }
  Error failed(make_error_code(errc::connect_failed), {},
               fmt::format("no master for \"{}\" ({})", config_.master_name, last_failure));
  note_failure(failed.what());
  throw failed;
}

asio::awaitable<std::shared_ptr<Connection>> SentinelFollower::connect_replica(
    asio::any_io_executor executor, ConnectionConfig config) {
  const auto no_replica = [this](std::string_view why) {
    return Error(make_error_code(errc::connect_failed), {},
                 fmt::format("no replica of \"{}\" to read from ({})", config_.master_name, why));
  };
  {
    std::lock_guard lock(mutex_);
    if (std::chrono::steady_clock::now() < no_replica_until_) {
      throw no_replica("none could be reached a moment ago");
    }
  }
  const std::vector<Endpoint> replicas =
      co_await query_replicas(executor_, config_, &sentinel_failures_);
  std::size_t first = 0;
  {
    std::lock_guard lock(mutex_);
    first = next_replica_++;
  }
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    const Endpoint& target = replicas[(first + i) % replicas.size()];
    std::shared_ptr<Connection> connection;
    try {
      connection = co_await connect_checked(executor, config, target, Role::replica);
    } catch (const Error&) {
      continue;  // try the next replica
    }
    if (connection) co_return connection;
  }
  {
    std::lock_guard lock(mutex_);
    no_replica_until_ = std::chrono::steady_clock::now() + replica_retry_pause;
  }
  throw no_replica(replicas.empty() ? "the sentinels list no healthy replica"
                                    : "none of the listed replicas answered as a replica");
}

}  // namespace bulwark::redis::detail
