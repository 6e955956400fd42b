#include "bulwark/shared/fleet_rate_limiter.hpp"

#include "bulwark/resilience/timeout.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>
#include <vector>

namespace bulwark::shared {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// GCRA with the server's clock. Lua numbers are doubles: microseconds since the epoch (about
// 1.8e15) are exact in them, and the TAT is written with "%.0f" because Redis would otherwise
// turn the number into text with 14 significant digits.
const char* const gcra_source = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + cost
local wait = next_tat - now - capacity
if wait < 0 then wait = 0 end
if wait > max_wait then
  return {0, wait, now}
end
local ttl_ms = math.floor((next_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return {1, wait, now}
)lua";

std::int64_t micros(Duration duration) {
  return std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
}

std::uint32_t effective_burst(const FleetRateLimiterConfig& config) {
  if (config.burst != 0) return config.burst;
  const double one_second = std::ceil(config.rate);
  return one_second <= 1.0 ? 1U : static_cast<std::uint32_t>(std::min(one_second, 4e9));
}

}  // namespace

const redis::Script& FleetRateLimiter::script() {
  static const redis::Script gcra{std::string(gcra_source)};
  return gcra;
}

FleetRateLimiter::FleetRateLimiter(std::shared_ptr<redis::Client> client,
                                   FleetRateLimiterConfig config)
    : client_(std::move(client)), config_(std::move(config)) {
  std::vector<ConfigIssue> issues;
  if (!(config_.rate > 0.0 && config_.rate <= 1e6)) {
    issues.push_back({"rate_limiter.rate",
                      fmt::format("must be > 0 and <= 1e6 permits per second when shared, got {}",
                                  config_.rate)});
  }
  if (config_.key.empty())
    issues.push_back({"rate_limiter.shared.key_prefix", "must not be empty"});
  if (config_.timeout <= Duration::zero()) {
    issues.push_back({"rate_limiter.shared.timeout",
                      fmt::format("must be > 0, got {}", format_duration(config_.timeout))});
  }
  if (!client_) issues.push_back({"rate_limiter.shared.database", "no Redis client given"});
  if (!issues.empty()) throw ConfigError(std::move(issues));
  config_.burst = effective_burst(config_);
  if (!config_.clock) config_.clock = steady_clock();
  interval_us_ = std::max<std::int64_t>(1, std::llround(1e6 / config_.rate));
  capacity_us_ = static_cast<std::int64_t>(config_.burst) * interval_us_;
}

boost::asio::awaitable<std::optional<FleetAdmission>> FleetRateLimiter::ask(std::uint32_t permits,
                                                                            Duration max_wait) {
  const std::vector<std::string> keys{config_.key};
  const std::vector<std::string> args{
      std::to_string(interval_us_), std::to_string(capacity_us_),
      std::to_string(static_cast<std::int64_t>(permits) * interval_us_),
      std::to_string(std::max<std::int64_t>(0, micros(max_wait)))};
  try {
    auto round_trip = client_->eval(script(), keys, args);
    const redis::Value reply = co_await with_timeout(std::move(round_trip), config_.timeout);
    FleetAdmission admission;
    admission.allowed = reply.at(0).as_integer() == 1;
    admission.wait = std::chrono::microseconds(reply.at(1).as_integer());
    admission.server_time_us = reply.at(2).as_integer();
    succeeded();
    co_return admission;
  } catch (const std::exception& error) {
    failed(error.what());
  } catch (...) {
    failed("unknown error");
  }
  co_return std::nullopt;
}

boost::asio::awaitable<std::optional<RateLimiter::Admission>> FleetRateLimiter::acquire(
    std::uint32_t permits, Duration max_wait) {
  const std::int64_t now = config_.clock->coarse_now().time_since_epoch().count();
  if (now < skip_until_ns_.load(relaxed)) {
    local_decisions_.fetch_add(1, relaxed);
    co_return std::nullopt;
  }
  const std::optional<FleetAdmission> answer = co_await ask(permits, max_wait);
  if (!answer) {
    local_decisions_.fetch_add(1, relaxed);
    co_return std::nullopt;
  }
  shared_decisions_.fetch_add(1, relaxed);
  if (answer->allowed) co_return RateLimiter::Admission{{}, answer->wait};
  co_return RateLimiter::Admission{make_error_code(errc::rate_limited), answer->wait};
}

void FleetRateLimiter::succeeded() noexcept {
  if (!coordinated_.exchange(true, relaxed)) {
    spdlog::info("bulwark: fleet rate limiter {} is coordinated through Redis again", config_.key);
  }
}

void FleetRateLimiter::failed(std::string_view why) noexcept {
  failures_.fetch_add(1, relaxed);
  const std::int64_t now = config_.clock->coarse_now().time_since_epoch().count();
  skip_until_ns_.store(now + config_.probe_interval.count(), relaxed);
  if (coordinated_.exchange(false, relaxed)) {
    try {
      spdlog::warn(
          "bulwark: fleet rate limiter {} runs on its local bucket: Redis did not "
          "answer ({})",
          config_.key, why);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a log line is not worth a failed call
    }
  }
}

bool FleetRateLimiter::coordinated() const noexcept { return coordinated_.load(relaxed); }

FleetStats FleetRateLimiter::stats() const noexcept {
  return {coordinated_.load(relaxed), shared_decisions_.load(relaxed),
          local_decisions_.load(relaxed), failures_.load(relaxed)};
}

}  // namespace bulwark::shared
