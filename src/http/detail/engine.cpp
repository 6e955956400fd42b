#include "http/detail/engine.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <ctime>
#include <variant>

namespace bulwark::http::detail {
namespace {

namespace asio = boost::asio;

}  // namespace

std::optional<Duration> parse_retry_after(std::string_view value,
                                          std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::uint64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    // A day is more than any client should be told to wait; larger values are nonsense.
    return std::chrono::seconds(std::min<std::uint64_t>(seconds, 86400));
  }
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  const std::string text(value);
  const char* parsed = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (parsed == nullptr || *parsed != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(::timegm(&parts));
  if (at <= now) return Duration::zero();
  return std::chrono::duration_cast<Duration>(at - now);
}

Engine::Engine(asio::any_io_executor executor, const ClientConfig& config)
    : executor_(std::move(executor)), config_(config), base_url_(parse_base_url(config.base_url)) {}

Pool& Engine::pool(const Origin& origin) {
  std::lock_guard lock(mutex_);
  if (closed_) throw Error(make_error_code(errc::shutting_down), {}, "client closed");
  for (const auto& pool : pools_) {
    if (pool->origin() == origin) return *pool;
  }
  pools_.push_back(std::make_unique<Pool>(executor_, origin, config_));
  return *pools_.back();
}

asio::awaitable<Response> Engine::attempt(const Target& target, const WireRequest& request,
                                          const BodyCallback& on_body, bool following_redirects,
                                          bool replayable, std::string_view operation,
                                          CallContext& context, Deadline deadline) {
  Pool& origin_pool = pool(target.origin);
  const auto fail = [&](const std::error_code& code, std::string_view detail) {
    return Error(code, {config_.name, std::string(operation), context.attempt()}, detail);
  };
  bool fresh = false;
  for (;;) {
    std::optional<Lease> acquired;
    try {
      acquired.emplace(co_await origin_pool.acquire(fresh, deadline));
    } catch (const Error& error) {
      throw fail(error.code(), error.detail());
    }
    Lease& lease = *acquired;
    // From here the request may reach the service.
    context.mark_sent();
    Connection& connection = lease.connection();
    auto outcome =
        co_await connection.exchange(request, config_, on_body, following_redirects, deadline);
    if (auto* failure = std::get_if<ExchangeFailure>(&outcome)) {
      const bool stale =
          lease.reused() && !failure->response_started && failure->code == errc::connection_lost;
      origin_pool.release(lease, false);
      // The server closed a kept-alive connection just as it was reused: the request never
      // reached it, or reached it too late to be read. Safe to send again only when replayable,
      // and only once, on a new connection.
      if (stale && replayable && !fresh) {
        origin_pool.count_stale_retry();
        fresh = true;
        continue;
      }
      throw fail(failure->code, fmt::format("{}: {}", target.origin.key(), failure->detail));
    }
    auto& result = std::get<ExchangeResult>(outcome);
    origin_pool.release(lease, result.reusable);
    Response response;
    response.status = result.status;
    response.reason = std::move(result.reason);
    response.headers = std::move(result.headers);
    response.body = std::move(result.body);
    response.url = target.display;
    // A resend after a stale connection is an attempt too, though not the retry policy's.
    response.attempts = context.attempt() + (fresh ? 1 : 0);
    if (response.status == 429 || response.status == 503) {
      if (auto header = response.header("Retry-After")) {
        if (auto delay = parse_retry_after(*header, std::chrono::system_clock::now())) {
          context.set_retry_after(*delay);
        }
      }
    }
    co_return response;
  }
}

std::vector<OriginStats> Engine::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<OriginStats> stats;
  stats.reserve(pools_.size());
  for (const auto& pool : pools_) stats.push_back({pool->key(), pool->stats()});
  return stats;
}

std::size_t Engine::prune() {
  std::lock_guard lock(mutex_);
  std::size_t pruned = 0;
  for (const auto& pool : pools_) pruned += pool->prune();
  return pruned;
}

void Engine::close() noexcept {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (const auto& pool : pools_) pool->close();
}

}  // namespace bulwark::http::detail
