#include "bulwark/shared/fleet_retry_budget.hpp"

#include "bulwark/resilience/timeout.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

namespace bulwark::shared {
namespace {

namespace asio = boost::asio;
constexpr auto relaxed = std::memory_order_relaxed;

// Fields "c<bucket>" and "r<bucket>" of one hash hold the calls and retries of each bucket of the
// window; older buckets are deleted as the window moves on, and the whole hash expires when
// nobody publishes for a window.
const char* const buckets_source = R"lua(
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local width = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local calls = tonumber(ARGV[3])
local retries = tonumber(ARGV[4])
local bucket = math.floor(now_ms / width)
local id = string.format('%.0f', bucket)
if calls > 0 then redis.call('HINCRBY', KEYS[1], 'c' .. id, calls) end
if retries > 0 then redis.call('HINCRBY', KEYS[1], 'r' .. id, retries) end
local fields = redis.call('HGETALL', KEYS[1])
local total_calls, total_retries = 0, 0
local stale = {}
for i = 1, #fields, 2 do
  local name = fields[i]
  local at = tonumber(string.sub(name, 2))
  if at == nil or at <= bucket - count then
    stale[#stale + 1] = name
  elseif string.sub(name, 1, 1) == 'c' then
    total_calls = total_calls + tonumber(fields[i + 1])
  else
    total_retries = total_retries + tonumber(fields[i + 1])
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
redis.call('PEXPIRE', KEYS[1], width * (count + 1))
return {total_calls, total_retries}
)lua";

}  // namespace

const redis::Script& FleetRetryBudget::script() {
  static const redis::Script buckets{std::string(buckets_source)};
  return buckets;
}

FleetRetryBudget::FleetRetryBudget(std::shared_ptr<redis::Client> client,
                                   std::shared_ptr<RetryBudget> budget,
                                   FleetRetryBudgetConfig config)
    : client_(std::move(client)), budget_(std::move(budget)), config_(std::move(config)) {
  std::vector<ConfigIssue> issues;
  if (config_.key.empty())
    issues.push_back({"retry.budget.shared.key_prefix", "must not be empty"});
  if (config_.timeout <= Duration::zero()) {
    issues.push_back({"retry.budget.shared.timeout",
                      fmt::format("must be > 0, got {}", format_duration(config_.timeout))});
  }
  if (config_.sync_interval <= Duration::zero()) {
    issues.push_back({"retry.budget.shared.sync_interval",
                      fmt::format("must be > 0, got {}", format_duration(config_.sync_interval))});
  }
  if (!client_) issues.push_back({"retry.budget.shared.database", "no Redis client given"});
  if (!budget_) issues.push_back({"retry.budget", "no retry budget given"});
  if (!issues.empty()) throw ConfigError(std::move(issues));
  const auto window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(budget_->config().window).count();
  bucket_ms_ =
      std::max<std::int64_t>(1, window_ms / static_cast<std::int64_t>(RetryBudget::bucket_count));
}

asio::awaitable<bool> FleetRetryBudget::sync() {
  publishing_.fetch_add(1, std::memory_order_acq_rel);
  struct Done {
    std::atomic<int>& count;
    ~Done() { count.fetch_sub(1, std::memory_order_acq_rel); }
  } done{publishing_};
  const RetryBudgetCounts counts = budget_->take_unshared();
  const std::vector<std::string> keys{config_.key};
  const std::vector<std::string> args{std::to_string(bucket_ms_),
                                      std::to_string(RetryBudget::bucket_count),
                                      std::to_string(counts.calls), std::to_string(counts.retries)};
  std::string why;
  try {
    auto round_trip = client_->eval(script(), keys, args);
    const redis::Value reply = co_await with_timeout(std::move(round_trip), config_.timeout);
    const RetryBudgetCounts totals{static_cast<std::uint64_t>(reply.at(0).as_integer()),
                                   static_cast<std::uint64_t>(reply.at(1).as_integer())};
    budget_->set_fleet_totals(totals);
    published_.fetch_add(1, relaxed);
    if (!coordinated_.exchange(true, relaxed)) {
      spdlog::info("bulwark: retry budget {} is shared through Redis", config_.key);
    }
    co_return true;
  } catch (const std::exception& error) {
    why = error.what();
  } catch (...) {
    why = "unknown error";
  }
  budget_->clear_fleet_totals();
  failures_.fetch_add(1, relaxed);
  if (coordinated_.exchange(false, relaxed) && !stopped_.load(relaxed)) {
    spdlog::warn("bulwark: retry budget {} runs on local counts: Redis did not answer ({})",
                 config_.key, why);
  }
  co_return false;
}

void FleetRetryBudget::start(asio::any_io_executor executor) {
  if (started_.exchange(true)) return;
  asio::co_spawn(
      executor,
      // Weak between publications: the owner's last reference ends the loop, and nothing of the
      // budget outlives its owner in a timer's handler.
      [weak = weak_from_this(), interval = config_.sync_interval]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (;;) {
          {
            const std::shared_ptr<FleetRetryBudget> self = weak.lock();
            if (!self || self->stopped_.load(std::memory_order_acquire)) co_return;
            (void)co_await self->sync();
          }
          timer.expires_after(interval);
          boost::system::error_code ignored;
          co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
      },
      asio::detached);
}

void FleetRetryBudget::stop() noexcept { stopped_.store(true, std::memory_order_release); }

bool FleetRetryBudget::publishing() const noexcept {
  return publishing_.load(std::memory_order_acquire) > 0;
}

bool FleetRetryBudget::coordinated() const noexcept { return coordinated_.load(relaxed); }

FleetStats FleetRetryBudget::stats() const noexcept {
  return {coordinated_.load(relaxed), published_.load(relaxed), failures_.load(relaxed),
          failures_.load(relaxed)};
}

}  // namespace bulwark::shared
