// The parts of redis::Client that only matter with Sentinel: building the follower and the
// replica pool, choosing the pool a command goes to, and reacting to READONLY.

#include "bulwark/redis/client.hpp"

#include "redis/detail/sentinel_follower.hpp"

namespace bulwark::redis {

namespace asio = boost::asio;

void Client::follow_sentinel() {
  sentinel_ = std::make_shared<detail::SentinelFollower>(executor_, *config_.sentinel);
  if (config_.sentinel->use_replicas_for_reads) {
    replica_pool_ = std::make_unique<Pool>(executor_, config_.connection, config_.pool, clock_);
    replica_pool_->start_reaper();
  }
  sentinel_->attach(pool_, replica_pool_.get());
}

asio::awaitable<Result<std::shared_ptr<Connection>>> Client::shared_connection(
    std::string_view command_name) {
  if (replica_pool_ && is_read_only(command_name)) {
    Result<std::shared_ptr<Connection>> replica = co_await replica_pool_->shared();
    if (replica) co_return replica;
    // No replica to be had: the master answers reads too.
  }
  co_return co_await pool_.shared();
}

void Client::inspect_reply(const Result<Value>& reply, const Connection& connection) {
  // A write that reached a replica: the node this pool knows as master has been demoted.
  if (reply && reply->is_error() && reply->error_prefix() == "READONLY") {
    const ConnectionConfig& config = connection.config();
    sentinel_->suspect({config.host, config.port});
  }
}

}  // namespace bulwark::redis
