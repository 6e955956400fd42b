#include "soak_traffic.hpp"

#include "bulwark/core/error.hpp"
#include "bulwark/http/client.hpp"
#include "bulwark/redis/client.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <random>
#include <utility>

namespace bulwark::soak {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The target /echo answered with, or empty when the body is not the echo's JSON.
std::string echoed_target(const std::string& body) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) return {};
  const boost::json::value* target = parsed.as_object().if_contains("target");
  if (target == nullptr || !target->is_string()) return {};
  return std::string(target->as_string());
}

std::string outcome_of(const std::error_code& ec) { return error_name(ec); }

}  // namespace

void IdSet::insert(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (id >= bits_.size()) bits_.resize(std::max<std::uint64_t>(id + 1, bits_.size() * 2));
  if (!bits_[id]) {
    bits_[id] = true;
    ++size_;
  }
}

bool IdSet::contains(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  return id < bits_.size() && bits_[id];
}

std::uint64_t IdSet::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

std::vector<std::uint64_t> IdSet::ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::uint64_t> out;
  out.reserve(size_);
  for (std::uint64_t id = 0; id < bits_.size(); ++id) {
    if (bits_[id]) out.push_back(id);
  }
  return out;
}

Traffic::Traffic(ClientManager& manager, const Options& options)
    : manager_(manager),
      options_(options),
      period_(std::chrono::duration_cast<Duration>(
          std::chrono::duration<double>(1.0 / options.calls_per_second))) {}

Traffic::~Traffic() { stop(); }

void Traffic::start() {
  const std::size_t workers = options_.http_workers + options_.redis_workers;
  {
    std::lock_guard lock(mutex_);
    running_ = workers;
  }
  for (std::size_t i = 0; i < options_.http_workers; ++i) {
    asio::co_spawn(manager_.executor(), http_worker(i), asio::detached);
  }
  for (std::size_t i = 0; i < options_.redis_workers; ++i) {
    asio::co_spawn(manager_.executor(), redis_worker(i), asio::detached);
  }
}

void Traffic::stop() {
  stopping_ = true;
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [this] { return running_ == 0; });
}

void Traffic::leave() {
  std::lock_guard lock(mutex_);
  --running_;
  finished_.notify_all();
}

ClientTally Traffic::http() const {
  std::lock_guard lock(http_.mutex);
  return http_.tally;
}

ClientTally Traffic::redis() const {
  std::lock_guard lock(redis_.mutex);
  return redis_.tally;
}

void Traffic::reset_window() {
  window_calls_ = 0;
  window_failures_ = 0;
}

void Traffic::count(Tallies& tallies, const std::string& outcome, Clock::duration took) {
  const auto ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
  const bool success = outcome == "success";
  ++window_calls_;
  if (!success) ++window_failures_;
  std::lock_guard lock(tallies.mutex);
  tallies.tally.all.record(ns);
  if (success) tallies.tally.succeeded.record(ns);
  ++tallies.tally.outcomes[outcome];
}

// Waits until `next`, then moves it one period on (never behind now: a slow call does not cause
// a burst of catching up, so the load stays bounded whatever the faults do).
asio::awaitable<void> Traffic::pace(asio::steady_timer& timer, Clock::time_point& next) {
  timer.expires_at(next);
  (void)co_await timer.async_wait(use_tuple);
  next = std::max(next + period_, Clock::now());
}

asio::awaitable<void> Traffic::http_worker(std::size_t index) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::mt19937_64 random(options_.seed * 1000 + index);
  std::uniform_int_distribution<int> percent(0, 99);
  Clock::time_point next = Clock::now() + period_ * static_cast<std::int64_t>(index) /
                                              static_cast<std::int64_t>(options_.http_workers);
  for (std::uint64_t n = 0; !stopping_.load(); ++n) {
    co_await pace(timer, next);
    if (stopping_.load()) break;
    std::shared_ptr<http::Client> client;
    try {
      client = manager_.http(http_client_name);
    } catch (const std::exception&) {
      break;  // the manager is stopping
    }
    const bool write = percent(random) < 30;
    const std::uint64_t id = write ? next_http_write_++ : 0;
    const std::string target =
        write ? fmt::format("/write?id={}", id) : fmt::format("/echo?worker={}&n={}", index, n);
    http::Request request = write ? http::Request::post(target) : http::Request::get(target);
    if (write) request.body = fmt::format("write {}", id);
    const Clock::time_point began = Clock::now();
    const Result<http::Response> result = co_await client->execute(std::move(request));
    const Clock::duration took = Clock::now() - began;
    if (!result) {
      count(http_, outcome_of(result.error()), took);
      continue;
    }
    if (result->status >= 300) {
      count(http_, fmt::format("status_{}", result->status), took);
      continue;
    }
    if (write) {
      http_acknowledged_.insert(id);
    } else if (echoed_target(result->body) != target) {
      ++misdelivered_;
    }
    count(http_, "success", took);
  }
  leave();
}

asio::awaitable<void> Traffic::redis_worker(std::size_t index) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::mt19937_64 random(options_.seed * 1000 + 500 + index);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<std::size_t> read_key(0, redis_read_keys - 1);
  Clock::time_point next = Clock::now() + period_ * static_cast<std::int64_t>(index) /
                                              static_cast<std::int64_t>(options_.redis_workers);
  while (!stopping_.load()) {
    co_await pace(timer, next);
    if (stopping_.load()) break;
    std::shared_ptr<redis::Client> client;
    try {
      client = manager_.redis(redis_client_name);
    } catch (const std::exception&) {
      break;
    }
    const int dice = percent(random);
    enum class Op {
      read,
      write,
      increment
    } op = dice < 50   ? Op::read
           : dice < 80 ? Op::write
                       : Op::increment;
    std::uint64_t id = 0;
    std::string expected;
    redis::Command command = [&] {
      if (op == Op::read) {
        const std::size_t key = read_key(random);
        expected = fmt::format("value-{}", key);
        return redis::make_command("GET", fmt::format("soak:r:{}", key));
      }
      if (op == Op::write) {
        id = next_redis_write_++;
        return redis::make_command("SET", fmt::format("soak:w:{}", id), id);
      }
      return redis::make_command("INCR", "soak:counter");
    }();
    const Clock::time_point began = Clock::now();
    const Result<redis::Value> result = co_await client->execute(std::move(command));
    const Clock::duration took = Clock::now() - began;
    if (!result) {
      count(redis_, outcome_of(result.error()), took);
      continue;
    }
    if (result->is_error()) {
      count(redis_, "redis_error", took);
      continue;
    }
    if (op == Op::read) {
      if (!result->is_string() || result->as_string() != expected) ++misdelivered_;
    } else if (op == Op::write) {
      if (result->is_string() && result->as_string() == "OK") {
        redis_acknowledged_.insert(id);
      } else {
        ++misdelivered_;
      }
    } else if (result->type() == redis::Type::integer) {
      ++increments_;
    } else {
      ++misdelivered_;
    }
    count(redis_, "success", took);
  }
  leave();
}

}  // namespace bulwark::soak
