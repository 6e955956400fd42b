#include "redis/detail/cluster_router.hpp"

#include "bulwark/resilience/detail/async_sleep.hpp"
#include "bulwark/resilience/timeout.hpp"
#include "redis/detail/command_keys.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace bulwark::redis::detail {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr Duration first_pause = 10ms;
constexpr Duration longest_pause = 200ms;

bool is_unknown_subcommand(const Value& reply) {
  const std::string_view message = reply.error_message();
  return message.find("unknown subcommand") != std::string_view::npos ||
         message.find("Unknown subcommand") != std::string_view::npos;
}

}  // namespace

ClusterRouter::ClusterRouter(asio::any_io_executor executor, ConnectionConfig connection,
                             PoolConfig pool, ClusterConfig cluster, std::shared_ptr<Clock> clock,
                             Duration command_timeout, std::string client_name)
    : executor_(std::move(executor)),
      connection_(std::move(connection)),
      pool_config_(pool),
      config_(std::move(cluster)),
      clock_(clock ? std::move(clock) : steady_clock()),
      command_timeout_(command_timeout),
      retry_window_(config_.retry_window > Duration::zero() ? config_.retry_window
                    : command_timeout > Duration::zero()    ? command_timeout
                                                            : Duration(5s)),
      client_name_(std::move(client_name)) {
  for (std::size_t i = 0; i < config_.nodes.size(); ++i) {
    seeds_.push_back(
        NodeAddress::parse(config_.nodes[i], fmt::format("redis.cluster.nodes[{}]", i)));
  }
}

ClusterRouter::~ClusterRouter() { close(); }

void ClusterRouter::close() noexcept {
  std::deque<std::shared_ptr<Signal>> waiters;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    waiters.swap(waiters_);
    // The pools stay (a caller may still hold a Pool*); closing them fails its calls.
    for (auto& [name, pool] : pools_) pool->close();
  }
  for (auto& waiter : waiters) (void)waiter->try_send(boost::system::error_code{});
}

Pool& ClusterRouter::pool_of(const NodeAddress& node) {
  std::lock_guard lock(mutex_);
  return pool_of_locked(node);
}

Pool& ClusterRouter::pool_of_locked(const NodeAddress& node) {
  auto found = pools_.find(node);
  if (found != pools_.end()) return *found->second;
  ConnectionConfig connection = connection_;
  connection.host = node.host;
  connection.port = node.port;
  auto pool = std::make_unique<Pool>(executor_, std::move(connection), pool_config_, clock_);
  if (closed_) {
    pool->close();
  } else {
    pool->start_reaper();
  }
  return *pools_.emplace(node, std::move(pool)).first->second;
}

// ---------------------------------------------------------------------------------------------
// Keys and slots.
// ---------------------------------------------------------------------------------------------

Slot ClusterRouter::slot_of_keys(std::span<const std::string_view> keys,
                                 std::string_view operation) const {
  if (keys.empty()) return std::nullopt;
  const std::uint16_t slot = key_slot(keys.front());
  const bool same = std::all_of(keys.begin(), keys.end(),
                                [&](std::string_view key) { return key_slot(key) == slot; });
  if (same) return slot;
  std::string listed;
  for (std::size_t i = 0; i < keys.size() && i < 8; ++i) {
    if (!listed.empty()) listed += ", ";
    const std::string_view shown = keys[i].substr(0, 64);
    listed += fmt::format("\"{}\" -> slot {}", shown, key_slot(keys[i]));
  }
  if (keys.size() > 8) listed += fmt::format(", ... ({} keys)", keys.size());
  throw Error(make_error_code(errc::invalid_argument), {client_name_, std::string(operation), 0},
              fmt::format("keys in different cluster slots ({}); keys used together must share "
                          "a slot: give them the same {{hash tag}}",
                          listed));
}

asio::awaitable<Slot> ClusterRouter::slot_of(const Command& command, std::string_view operation) {
  const std::vector<std::string_view> arguments = command.arguments();
  if (std::optional<std::vector<std::string_view>> keys = command_keys(arguments)) {
    co_return slot_of_keys(*keys, operation);
  }
  // Not in the table: the server knows which arguments are keys.
  Command getkeys("COMMAND");
  getkeys.arg("GETKEYS").arg(arguments);
  Result<Value> reply = co_await execute(getkeys, std::nullopt, nullptr);
  if (!reply || reply->type() != Type::array) co_return std::nullopt;
  std::vector<std::string_view> keys;
  for (const Value& key : reply->elements()) {
    if (key.is_string()) keys.push_back(key.as_string());
  }
  co_return slot_of_keys(keys, operation);
}

asio::awaitable<Slot> ClusterRouter::common_slot(const std::vector<Command>& commands,
                                                 std::string_view operation) {
  Slot common;
  for (const Command& command : commands) {
    const Slot slot = co_await slot_of(command, operation);
    if (!slot) continue;
    if (common && *common != *slot) {
      throw Error(make_error_code(errc::invalid_argument),
                  {client_name_, std::string(operation), 0},
                  fmt::format("commands in different cluster slots ({} and {} by {}); a "
                              "transaction's keys must share a slot: give them the same "
                              "{{hash tag}}",
                              *common, *slot, command.name()));
    }
    common = slot;
  }
  co_return common;
}

// ---------------------------------------------------------------------------------------------
// The slot map.
// ---------------------------------------------------------------------------------------------

asio::awaitable<Result<void>> ClusterRouter::ensure_map() {
  std::uint64_t seen = 0;
  bool waited = false;
  for (;;) {
    std::shared_ptr<Signal> waiter;
    {
      std::lock_guard lock(mutex_);
      if (closed_) co_return make_error_code(errc::shutting_down);
      if (map_) co_return Result<void>{};
      // A fetch finished while we waited and brought no map: report its failure rather than
      // queueing fetch after fetch against a cluster that is not answering.
      if (waited && generation_ != seen) co_return last_error_;
      seen = generation_;
      if (!fetching_) {
        fetching_ = true;
      } else {
        waiter = std::make_shared<Signal>(executor_, 1);
        waiters_.push_back(waiter);
      }
    }
    if (!waiter) {
      co_return co_await fetch(nullptr);
    }
    waited = true;
    try {
      co_await with_timeout(waiter->async_receive(asio::use_awaitable),
                            connection_.connect_timeout + command_timeout_);
    } catch (const Error&) {
      std::lock_guard lock(mutex_);
      std::erase(waiters_, waiter);
    }
  }
}

asio::awaitable<void> ClusterRouter::refresh(const NodeAddress* first) {
  {
    std::lock_guard lock(mutex_);
    const Clock::time_point now = clock_->now();
    if (closed_ || fetching_ || (map_ && now - last_refresh_ < config_.refresh_interval)) {
      co_return;
    }
    fetching_ = true;
    last_refresh_ = now;
  }
  (void)co_await fetch(first);
}

asio::awaitable<Result<void>> ClusterRouter::fetch(const NodeAddress* first) {
  // Called with `fetching_` set; always ends through `finish_fetch`, even when the caller is
  // cancelled midway (the frame is destroyed), or every later caller would wait for it forever.
  struct Finish {
    ClusterRouter& router;
    bool done = false;
    ~Finish() {
      if (!done) router.finish_fetch(make_error_code(errc::cancelled));
    }
  } finish{*this};
  std::vector<NodeAddress> candidates;
  if (first != nullptr) candidates.push_back(*first);
  {
    std::lock_guard lock(mutex_);
    if (map_) {
      for (const NodeAddress& node : map_->nodes()) candidates.push_back(node);
    }
  }
  for (const NodeAddress& seed : seeds_) candidates.push_back(seed);
  std::error_code error = make_error_code(errc::connect_failed);
  std::vector<NodeAddress> tried;
  for (const NodeAddress& node : candidates) {
    if (std::find(tried.begin(), tried.end(), node) != tried.end()) continue;
    tried.push_back(node);
    Result<SlotMap> map = co_await fetch_from(node);
    if (map) {
      finish.done = true;
      finish_fetch(std::move(map));
      co_return Result<void>{};
    }
    error = map.error();
  }
  finish.done = true;
  finish_fetch(error);
  co_return error;
}

asio::awaitable<Result<SlotMap>> ClusterRouter::fetch_from(const NodeAddress& node) {
  Pool& pool = pool_of(node);
  Result<std::shared_ptr<Connection>> connection = co_await pool.shared();
  if (!connection) co_return connection.error();
  Result<Value> reply =
      co_await (*connection)->execute(make_command("CLUSTER", "SHARDS"), command_timeout_);
  if (!reply) co_return reply.error();
  Result<SlotMap> map = make_error_code(errc::redis_error);
  if (reply->is_error()) {
    if (!is_unknown_subcommand(*reply)) co_return make_error_code(errc::redis_error);
    // Redis < 7.
    reply = co_await (*connection)->execute(make_command("CLUSTER", "SLOTS"), command_timeout_);
    if (!reply) co_return reply.error();
    if (reply->is_error()) co_return make_error_code(errc::redis_error);
    map = SlotMap::from_slots(*reply, node.host);
  } else {
    map = SlotMap::from_shards(*reply, node.host, connection_.tls.enabled);
  }
  if (map && map->covered() == 0) co_return make_error_code(errc::redis_error);
  co_return map;
}

void ClusterRouter::finish_fetch(Result<SlotMap> map) {
  std::deque<std::shared_ptr<Signal>> waiters;
  {
    std::lock_guard lock(mutex_);
    fetching_ = false;
    ++generation_;
    if (map) {
      map_ = std::move(*map);
      last_refresh_ = clock_->now();
      last_error_ = {};
    } else {
      last_error_ = map.error();
    }
    waiters.swap(waiters_);
  }
  // A fetch its caller gave up on says nothing about the cluster.
  if (map || map.error() != errc::cancelled) map_failed_.store(!map, std::memory_order_relaxed);
  if (map) refreshes_.fetch_add(1, std::memory_order_relaxed);
  for (auto& waiter : waiters) (void)waiter->try_send(boost::system::error_code{});
}

asio::awaitable<Result<Pool*>> ClusterRouter::pool_for(Slot slot,
                                                       const std::optional<NodeAddress>& target) {
  if (target) co_return &pool_of(*target);
  co_return co_await pool_for(slot);
}

asio::awaitable<Result<Pool*>> ClusterRouter::pool_for(Slot slot) {
  Result<void> ready = co_await ensure_map();
  if (!ready) co_return ready.error();
  co_return route(slot);
}

Pool* ClusterRouter::route(Slot slot) {
  std::lock_guard lock(mutex_);
  // No key: the master of slot 0, so that a SCAN continued page after page stays on one node.
  const NodeAddress* owner = map_->owner(slot ? *slot : 0);
  if (owner == nullptr) {
    // A slot nobody serves right now (the node will say CLUSTERDOWN): any master.
    const std::vector<NodeAddress>& nodes = map_->nodes();
    owner = &nodes[next_node_.fetch_add(1, std::memory_order_relaxed) % nodes.size()];
  }
  return &pool_of_locked(*owner);
}

asio::awaitable<Result<std::vector<Pool*>>> ClusterRouter::master_pools() {
  Result<void> ready = co_await ensure_map();
  if (!ready) co_return ready.error();
  std::vector<NodeAddress> nodes;
  {
    std::lock_guard lock(mutex_);
    nodes = map_->nodes();
  }
  std::vector<Pool*> pools;
  for (const NodeAddress& node : nodes) pools.push_back(&pool_of(node));
  co_return pools;
}

PoolStats ClusterRouter::stats() const {
  PoolStats total;
  std::lock_guard lock(mutex_);
  for (const auto& [name, pool] : pools_) {
    const PoolStats stats = pool->stats();
    total.max += stats.max;
    total.open += stats.open;
    total.leased += stats.leased;
    total.idle += stats.idle;
    total.created += stats.created;
    total.closed += stats.closed;
    total.connect_failures += stats.connect_failures;
    total.waits += stats.waits;
    total.wait_timeouts += stats.wait_timeouts;
    total.health_check_failures += stats.health_check_failures;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------------------------

bool ClusterRouter::retryable(const Value& reply) const noexcept {
  const std::string_view prefix = reply.error_prefix();
  return prefix == "TRYAGAIN" || prefix == "CLUSTERDOWN";
}

asio::awaitable<Result<Value>> ClusterRouter::execute(const Command& command, Slot slot,
                                                      CallContext* context) {
  // Named, not temporaries in the co_await expression (GCC 12 destroys those too early).
  std::optional<Value> no_reply;
  std::string no_host;
  co_return co_await follow(command, slot, context, std::move(no_reply), std::move(no_host));
}

asio::awaitable<Result<Value>> ClusterRouter::follow(const Command& command, Slot slot,
                                                     CallContext* context,
                                                     std::optional<Value> reply,
                                                     std::string asked_host) {
  const Clock::time_point give_up = clock_->now() + retry_window_;
  Duration pause = first_pause;
  std::uint32_t redirects = 0;
  std::optional<NodeAddress> target;
  bool asking = false;
  for (;;) {
    if (!reply) {
      Result<Pool*> routed = co_await pool_for(slot, target);
      if (!routed) co_return routed.error();
      Pool* pool = *routed;
      asked_host = pool->connection_config().host;
      Result<std::shared_ptr<Connection>> connection = co_await pool->shared();
      if (!connection) {
        // The node may be gone (failed over, removed): the next attempt should see a new map.
        if (connection.error() == errc::connect_failed) co_await refresh(nullptr);
        co_return connection.error();  // nothing was sent
      }
      if (context != nullptr) context->mark_sent();
      if (asking) {
        std::vector<Command> batch;
        batch.push_back(make_command("ASKING"));
        batch.push_back(command);
        Result<std::vector<Value>> replies =
            co_await (*connection)->execute_batch(std::move(batch), command_timeout_);
        if (!replies) co_return replies.error();
        reply = std::move(replies->back());
      } else {
        Result<Value> answer = co_await (*connection)->execute(command, command_timeout_);
        if (!answer) co_return answer.error();
        reply = std::move(*answer);
      }
    }
    if (!reply->is_error()) co_return std::move(*reply);
    if (std::optional<Redirect> redirect = parse_redirect(*reply, asked_host)) {
      if (++redirects > config_.max_redirects) co_return std::move(*reply);
      if (redirect->kind == Redirect::Kind::moved) {
        {
          std::lock_guard lock(mutex_);
          if (map_) map_->assign(redirect->slot, redirect->node);
        }
        co_await refresh(&redirect->node);
        asking = false;
      } else {
        asking = true;
      }
      target = redirect->node;
      reply.reset();
      continue;
    }
    if (retryable(*reply) && clock_->now() + pause < give_up) {
      if (reply->error_prefix() == "CLUSTERDOWN") co_await refresh(nullptr);
      if (co_await bulwark::detail::async_sleep(*clock_, pause)) {
        co_return make_error_code(errc::cancelled);
      }
      pause = std::min<Duration>(pause * 2, longest_pause);
      // Back to the map: an ASK target that said TRYAGAIN is asked again through the source.
      // The redirections count afresh: the wait is bounded by `retry_window` already, and nodes
      // that disagree while a slot has no master may redirect once per round.
      redirects = 0;
      target.reset();
      asking = false;
      reply.reset();
      continue;
    }
    co_return std::move(*reply);
  }
}

asio::awaitable<Result<std::vector<Value>>> ClusterRouter::execute_batch(
    const std::vector<Command>& commands, const std::vector<Slot>& slots, CallContext& context) {
  // Group by node, in order of first appearance; commands without keys join the first group.
  struct Group {
    Pool* pool = nullptr;
    std::vector<std::size_t> indexes{};
  };
  std::vector<Group> groups;
  std::vector<std::size_t> keyless;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (!slots[i]) {
      keyless.push_back(i);
      continue;
    }
    Result<Pool*> pool = co_await pool_for(slots[i]);
    if (!pool) co_return pool.error();
    auto found = std::find_if(groups.begin(), groups.end(),
                              [&](const Group& group) { return group.pool == *pool; });
    if (found == groups.end()) {
      groups.push_back(Group{*pool, {}});
      found = groups.end() - 1;
    }
    found->indexes.push_back(i);
  }
  if (!keyless.empty()) {
    if (groups.empty()) {
      Result<Pool*> pool = co_await pool_for(std::nullopt);
      if (!pool) co_return pool.error();
      groups.push_back(Group{*pool, {}});
    }
    std::vector<std::size_t>& first = groups.front().indexes;
    first.insert(first.end(), keyless.begin(), keyless.end());
    std::sort(first.begin(), first.end());
  }

  std::vector<std::optional<Value>> replies(commands.size());
  std::vector<std::string> hosts(commands.size());
  for (const Group& group : groups) {
    Result<std::shared_ptr<Connection>> connection = co_await group.pool->shared();
    if (!connection) co_return connection.error();
    context.mark_sent();
    std::vector<Command> batch;
    batch.reserve(group.indexes.size());
    for (const std::size_t i : group.indexes) batch.push_back(commands[i]);
    Result<std::vector<Value>> answers =
        co_await (*connection)->execute_batch(std::move(batch), command_timeout_);
    if (!answers) co_return answers.error();
    for (std::size_t k = 0; k < group.indexes.size(); ++k) {
      replies[group.indexes[k]] = std::move((*answers)[k]);
      hosts[group.indexes[k]] = group.pool->connection_config().host;
    }
  }

  std::vector<Value> out;
  out.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    Value& reply = *replies[i];
    if (reply.is_error() && (parse_redirect(reply, hosts[i]) || retryable(reply))) {
      std::optional<Value> first(std::move(reply));
      std::string host = hosts[i];
      Result<Value> again =
          co_await follow(commands[i], slots[i], &context, std::move(first), std::move(host));
      if (!again) co_return again.error();
      out.push_back(std::move(*again));
    } else {
      out.push_back(std::move(reply));
    }
  }
  co_return out;
}

asio::awaitable<Result<std::vector<Value>>> ClusterRouter::execute_transaction(
    const std::vector<Command>& batch, Slot slot, CallContext& context) {
  std::optional<NodeAddress> target;
  for (std::uint32_t redirects = 0;; ++redirects) {
    Result<Pool*> routed = co_await pool_for(slot, target);
    if (!routed) co_return routed.error();
    Pool* pool = *routed;
    Result<std::shared_ptr<Connection>> connection = co_await pool->shared();
    if (!connection) co_return connection.error();
    context.mark_sent();
    std::vector<Command> copy = batch;
    Result<std::vector<Value>> replies =
        co_await (*connection)->execute_batch(std::move(copy), command_timeout_);
    if (!replies || !replies->back().is_error() || redirects >= config_.max_redirects) {
      co_return replies;
    }
    // EXECABORT: nothing ran. When a command was refused because the slot moved, run the whole
    // transaction again on its new master.
    std::optional<Redirect> moved;
    for (const Value& reply : *replies) {
      std::optional<Redirect> redirect = parse_redirect(reply, pool->connection_config().host);
      if (redirect && redirect->kind == Redirect::Kind::moved) moved = std::move(redirect);
    }
    if (!moved) co_return replies;
    {
      std::lock_guard lock(mutex_);
      if (map_) map_->assign(moved->slot, moved->node);
    }
    co_await refresh(&moved->node);
    target = moved->node;
  }
}

}  // namespace bulwark::redis::detail
