#include "bulwark/redis/sync_client.hpp"

#include <utility>

namespace bulwark::redis {

SyncClient::SyncClient(Runtime& runtime, ClientConfig config)
    : runtime_(runtime), client_(std::make_shared<Client>(runtime.executor(), std::move(config))) {}

SyncClient::SyncClient(Runtime& runtime, std::shared_ptr<Client> client)
    : runtime_(runtime), client_(std::move(client)) {}

SyncClient::~SyncClient() = default;

// Each operation is the client's coroutine, run on the runtime while this thread waits.

Value SyncClient::command(Command command) { return run(client_->command(std::move(command))); }
Result<Value> SyncClient::execute(Command command) {
  return run(client_->execute(std::move(command)));
}
std::vector<Value> SyncClient::pipeline(std::vector<Command> commands) {
  return run(client_->pipeline(std::move(commands)));
}
std::vector<Value> SyncClient::transaction(std::vector<Command> commands) {
  return run(client_->transaction(std::move(commands)));
}
std::optional<std::vector<Value>> SyncClient::watch(
    std::vector<std::string> keys,
    std::function<boost::asio::awaitable<std::vector<Command>>(Connection&)> build) {
  return run(client_->watch(std::move(keys), std::move(build)));
}

std::optional<std::string> SyncClient::get(std::string_view key) { return run(client_->get(key)); }
bool SyncClient::set(std::string_view key, std::string_view value, SetOptions options) {
  return run(client_->set(key, value, options));
}
std::optional<std::string> SyncClient::getdel(std::string_view key) {
  return run(client_->getdel(key));
}
std::vector<std::optional<std::string>> SyncClient::mget(std::span<const std::string> keys) {
  return run(client_->mget(keys));
}
void SyncClient::mset(std::span<const std::pair<std::string, std::string>> entries) {
  run(client_->mset(entries));
}
std::int64_t SyncClient::incr(std::string_view key, std::int64_t by) {
  return run(client_->incr(key, by));
}
std::int64_t SyncClient::decr(std::string_view key, std::int64_t by) {
  return run(client_->decr(key, by));
}
double SyncClient::incrbyfloat(std::string_view key, double by) {
  return run(client_->incrbyfloat(key, by));
}
std::int64_t SyncClient::append(std::string_view key, std::string_view value) {
  return run(client_->append(key, value));
}
std::int64_t SyncClient::strlen(std::string_view key) { return run(client_->strlen(key)); }

std::int64_t SyncClient::del(std::string_view key) { return run(client_->del(key)); }
std::int64_t SyncClient::del(std::span<const std::string> keys) { return run(client_->del(keys)); }
std::int64_t SyncClient::unlink(std::string_view key) { return run(client_->unlink(key)); }
std::int64_t SyncClient::unlink(std::span<const std::string> keys) {
  return run(client_->unlink(keys));
}
bool SyncClient::exists(std::string_view key) { return run(client_->exists(key)); }
bool SyncClient::expire(std::string_view key, Duration ttl) {
  return run(client_->expire(key, ttl));
}
bool SyncClient::persist(std::string_view key) { return run(client_->persist(key)); }
Ttl SyncClient::ttl(std::string_view key) { return run(client_->ttl(key)); }
std::string SyncClient::type(std::string_view key) { return run(client_->type(key)); }
void SyncClient::rename(std::string_view key, std::string_view new_key) {
  run(client_->rename(key, new_key));
}

bool SyncClient::hset(std::string_view key, std::string_view field, std::string_view value) {
  return run(client_->hset(key, field, value));
}
std::int64_t SyncClient::hset(std::string_view key,
                              std::span<const std::pair<std::string, std::string>> fields) {
  return run(client_->hset(key, fields));
}
std::optional<std::string> SyncClient::hget(std::string_view key, std::string_view field) {
  return run(client_->hget(key, field));
}
std::vector<std::optional<std::string>> SyncClient::hmget(std::string_view key,
                                                          std::span<const std::string> fields) {
  return run(client_->hmget(key, fields));
}
std::vector<std::pair<std::string, std::string>> SyncClient::hgetall(std::string_view key) {
  return run(client_->hgetall(key));
}
bool SyncClient::hdel(std::string_view key, std::string_view field) {
  return run(client_->hdel(key, field));
}
std::int64_t SyncClient::hdel(std::string_view key, std::span<const std::string> fields) {
  return run(client_->hdel(key, fields));
}
bool SyncClient::hexists(std::string_view key, std::string_view field) {
  return run(client_->hexists(key, field));
}
std::int64_t SyncClient::hincrby(std::string_view key, std::string_view field, std::int64_t by) {
  return run(client_->hincrby(key, field, by));
}
std::int64_t SyncClient::hlen(std::string_view key) { return run(client_->hlen(key)); }
std::vector<std::string> SyncClient::hkeys(std::string_view key) {
  return run(client_->hkeys(key));
}
std::vector<std::string> SyncClient::hvals(std::string_view key) {
  return run(client_->hvals(key));
}

std::int64_t SyncClient::lpush(std::string_view key, std::string_view value) {
  return run(client_->lpush(key, value));
}
std::int64_t SyncClient::lpush(std::string_view key, std::span<const std::string> values) {
  return run(client_->lpush(key, values));
}
std::int64_t SyncClient::rpush(std::string_view key, std::string_view value) {
  return run(client_->rpush(key, value));
}
std::int64_t SyncClient::rpush(std::string_view key, std::span<const std::string> values) {
  return run(client_->rpush(key, values));
}
std::optional<std::string> SyncClient::lpop(std::string_view key) {
  return run(client_->lpop(key));
}
std::optional<std::string> SyncClient::rpop(std::string_view key) {
  return run(client_->rpop(key));
}
std::vector<std::string> SyncClient::lrange(std::string_view key, std::int64_t start,
                                            std::int64_t stop) {
  return run(client_->lrange(key, start, stop));
}
std::int64_t SyncClient::llen(std::string_view key) { return run(client_->llen(key)); }
std::int64_t SyncClient::lrem(std::string_view key, std::int64_t count, std::string_view value) {
  return run(client_->lrem(key, count, value));
}
void SyncClient::ltrim(std::string_view key, std::int64_t start, std::int64_t stop) {
  run(client_->ltrim(key, start, stop));
}
std::optional<std::pair<std::string, std::string>> SyncClient::blpop(
    std::span<const std::string> keys, Duration timeout) {
  return run(client_->blpop(keys, timeout));
}
std::optional<std::pair<std::string, std::string>> SyncClient::blpop(std::string_view key,
                                                                     Duration timeout) {
  return run(client_->blpop(key, timeout));
}

bool SyncClient::sadd(std::string_view key, std::string_view member) {
  return run(client_->sadd(key, member));
}
std::int64_t SyncClient::sadd(std::string_view key, std::span<const std::string> members) {
  return run(client_->sadd(key, members));
}
bool SyncClient::srem(std::string_view key, std::string_view member) {
  return run(client_->srem(key, member));
}
std::int64_t SyncClient::srem(std::string_view key, std::span<const std::string> members) {
  return run(client_->srem(key, members));
}
std::vector<std::string> SyncClient::smembers(std::string_view key) {
  return run(client_->smembers(key));
}
bool SyncClient::sismember(std::string_view key, std::string_view member) {
  return run(client_->sismember(key, member));
}
std::int64_t SyncClient::scard(std::string_view key) { return run(client_->scard(key)); }

bool SyncClient::zadd(std::string_view key, double score, std::string_view member) {
  return run(client_->zadd(key, score, member));
}
std::int64_t SyncClient::zadd(std::string_view key,
                              std::span<const std::pair<double, std::string>> members) {
  return run(client_->zadd(key, members));
}
bool SyncClient::zrem(std::string_view key, std::string_view member) {
  return run(client_->zrem(key, member));
}
std::int64_t SyncClient::zrem(std::string_view key, std::span<const std::string> members) {
  return run(client_->zrem(key, members));
}
std::optional<double> SyncClient::zscore(std::string_view key, std::string_view member) {
  return run(client_->zscore(key, member));
}
double SyncClient::zincrby(std::string_view key, double by, std::string_view member) {
  return run(client_->zincrby(key, by, member));
}
std::int64_t SyncClient::zcard(std::string_view key) { return run(client_->zcard(key)); }
std::vector<std::string> SyncClient::zrange(std::string_view key, std::int64_t start,
                                            std::int64_t stop) {
  return run(client_->zrange(key, start, stop));
}
std::vector<std::pair<std::string, double>> SyncClient::zrange_with_scores(std::string_view key,
                                                                           std::int64_t start,
                                                                           std::int64_t stop) {
  return run(client_->zrange_with_scores(key, start, stop));
}
std::vector<std::string> SyncClient::zrangebyscore(std::string_view key, double min, double max) {
  return run(client_->zrangebyscore(key, min, max));
}

ScanPage SyncClient::scan(std::uint64_t cursor, ScanOptions options) {
  return run(client_->scan(cursor, std::move(options)));
}
std::vector<std::string> SyncClient::scan_all(ScanOptions options) {
  return run(client_->scan_all(std::move(options)));
}

Value SyncClient::eval(const Script& script, std::span<const std::string> keys,
                       std::span<const std::string> args) {
  return run(client_->eval(script, keys, args));
}
void SyncClient::load(const Script& script) { run(client_->load(script)); }

}  // namespace bulwark::redis
