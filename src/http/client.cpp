#include "bulwark/http/client.hpp"

#include "bulwark/http/correlation.hpp"
#include "http/detail/engine.hpp"
#include "http/detail/fields.hpp"

#include <fmt/format.h>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using detail::Deadline;
using detail::Target;
using detail::WireRequest;

ClientConfig validated(ClientConfig config) {
  std::vector<ConfigIssue> issues;
  validate(config, issues, config.name.empty() ? "http" : config.name);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  if (!config.classify_response) config.classify_response = default_response_classifier;
  return config;
}

PipelineConfig pipeline_config(const ClientConfig& config, const std::shared_ptr<Clock>& clock) {
  PipelineConfig pipeline;
  pipeline.name = config.name;
  pipeline.clock = clock;
  // Timeouts are enforced by the connection itself (connect, read, write and the request's
  // total), where they can name what ran out; the pipeline adds no timer of its own.
  pipeline.retry = config.retry;
  pipeline.circuit_breaker = config.circuit_breaker;
  if (pipeline.circuit_breaker && !pipeline.circuit_breaker->classify) {
    // A full pool is this process's congestion, not the service failing.
    pipeline.circuit_breaker->classify = [](const std::error_code& ec) {
      return ec == errc::pool_timeout ? Verdict::ignored : default_failure_classifier(ec);
    };
  }
  pipeline.rate_limiter = config.rate_limiter;
  pipeline.bulkhead = config.bulkhead;
  return pipeline;
}

[[noreturn]] void reject(std::string_view client, std::string detail) {
  throw Error(make_error_code(errc::invalid_argument), {std::string(client), "send", 0}, detail);
}

void check_request(const Request& request, std::string_view client) {
  if (!detail::is_token(request.method)) {
    reject(client, fmt::format("'{}' is not a valid HTTP method", request.method));
  }
  for (const auto& [name, value] : request.headers) {
    if (!detail::is_token(name))
      reject(client, fmt::format("'{}' is not a valid header name", name));
    // The value is not shown: it may be a credential.
    if (!detail::is_field_value(value)) {
      reject(client, fmt::format("header '{}': value contains CR, LF or NUL", name));
    }
  }
  if (!detail::is_field_value(request.correlation_id)) {
    reject(client, "correlation_id contains CR, LF or NUL");
  }
  if (request.total_timeout && *request.total_timeout < Duration::zero()) {
    reject(client, "total timeout must not be negative");
  }
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

PoolStats& PoolStats::operator+=(const PoolStats& other) noexcept {
  active += other.active;
  idle += other.idle;
  created += other.created;
  closed += other.closed;
  reused += other.reused;
  requests += other.requests;
  pool_wait_timeouts += other.pool_wait_timeouts;
  connect_errors += other.connect_errors;
  stale_retries += other.stale_retries;
  return *this;
}

Client::Client(asio::any_io_executor executor, ClientConfig config)
    : config_(validated(std::move(config))),
      executor_(std::move(executor)),
      clock_(config_.clock ? config_.clock : steady_clock()),
      engine_(std::make_unique<detail::Engine>(executor_, config_)),
      pipeline_(std::make_unique<Pipeline>(pipeline_config(config_, clock_))) {}

Client::~Client() { close(); }

void Client::close() noexcept {
  closed_.store(true, std::memory_order_release);
  engine_->close();
}

std::size_t Client::prune_idle() { return engine_->prune(); }

namespace {

// After a 301/302 answering a POST, and after any 303, browsers and curl send a GET without
// body (RFC 9110 §15.4); 307 and 308 keep the method and body.
void to_get(Request& request) {
  request.method = "GET";
  request.body.clear();
  request.headers.remove("Content-Type");
  request.headers.remove("Content-Length");
}

}  // namespace

asio::awaitable<Response> Client::send(Request request) {
  if (closed_.load(std::memory_order_acquire)) {
    throw Error(make_error_code(errc::shutting_down), {config_.name, "send", 0}, "client closed");
  }
  check_request(request, config_.name);
  // Read before the first suspension, on the caller's thread (see CorrelationScope).
  std::string correlation_id = request.correlation_id;
  if (correlation_id.empty() && !config_.correlation_header.empty()) {
    if (auto given = request.headers.get(config_.correlation_header)) {
      correlation_id = std::string(*given);
    } else if (!CorrelationScope::current().empty()) {
      correlation_id = std::string(CorrelationScope::current());
    } else {
      correlation_id = new_correlation_id();
    }
  }
  Target target;
  try {
    target = detail::resolve_target(engine_->base_url(), request.url, request.query_params);
  } catch (const Error& error) {
    throw Error(error.code(), {config_.name, "send", 0}, error.detail());
  }
  const Duration total = request.total_timeout.value_or(config_.timeouts.total);
  const Deadline deadline =
      total > Duration::zero()
          ? std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(total)
          : Deadline::max();
  const bool following = request.follow_redirects.value_or(config_.redirects.follow);
  const auto started = std::chrono::steady_clock::now();
  const detail::Origin first_origin = target.origin;

  std::string operation;
  int redirects = 0;
  for (;;) {
    const bool same_origin = target.origin == first_origin;
    const WireRequest wire =
        detail::make_wire(config_, request, target, correlation_id, same_origin);
    const bool replayable = request.is_replayable();
    const std::string_view path =
        std::string_view(target.target).substr(0, target.target.find('?'));
    operation.assign(request.method).append(" ").append(path);
    CallOptions<Response> options;
    options.operation = operation;
    // A streamed body may have been handed to the callback in part: never resent once sent.
    options.idempotency =
        replayable && !request.on_body ? Idempotency::idempotent : Idempotency::non_idempotent;
    options.classify_result = config_.classify_response;
    if (deadline != Deadline::max() && !clock_->is_manual()) {
      options.deadline = Clock::time_point(
          std::chrono::duration_cast<Clock::duration>(deadline.time_since_epoch()));
    }
    Response response;
    try {
      response = co_await pipeline_->execute_async(
          [&](CallContext& context) {
            return engine_->attempt(target, wire, request.on_body, following, replayable, operation,
                                    context, deadline);
          },
          options);
    } catch (const std::system_error& error) {
      record(error.code(), started);
      throw;
    } catch (...) {
      record(make_error_code(errc::exception), started);
      throw;
    }
    const auto location = response.header("Location");
    if (following && is_redirect(response.status) && location) {
      if (++redirects > config_.redirects.max_redirects) {
        record(make_error_code(errc::protocol_error), started);
        throw Error(make_error_code(errc::protocol_error), {config_.name, operation, 0},
                    fmt::format("more than redirects.max_redirects ({}) redirects; the last to {}",
                                config_.redirects.max_redirects, response.url));
      }
      Target next = detail::resolve_redirect(target, *location);
      if (response.status == 303
              ? request.method != "HEAD"
              : (response.status == 301 || response.status == 302) && request.method == "POST") {
        to_get(request);
      }
      if (next.origin != target.origin) {
        // Credentials given for one origin are not handed to another.
        request.headers.remove("Authorization");
        request.headers.remove("Cookie");
        if (config_.auth.scheme == AuthScheme::header)
          request.headers.remove(config_.auth.header_name);
      }
      target = std::move(next);
      continue;
    }
    response.correlation_id = correlation_id;
    record(config_.classify_response(response), started);
    co_return response;
  }
}

asio::awaitable<Result<Response>> Client::execute(Request request) {
  // An open breaker answers before the request is looked at, and without an exception.
  if (const std::error_code rejected = pipeline_->reject_if_open()) {
    record(rejected, std::chrono::steady_clock::now());
    co_return rejected;
  }
  try {
    co_return co_await send(std::move(request));
  } catch (const std::system_error& error) {
    co_return error.code();
  }
}

asio::awaitable<boost::json::value> Client::json(Request request) {
  if (!request.headers.contains("Accept")) request.headers.set("Accept", "application/json");
  Response response = co_await send(std::move(request));
  response.raise_for_status();
  co_return response.json();
}

void Client::record(const std::error_code& error,
                    std::chrono::steady_clock::time_point started) noexcept {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (config_.on_call) {
    config_.on_call({config_.name, error, std::chrono::steady_clock::now() - started});
  }
  if (error) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
  } else if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
  }
}

HealthState Client::health() const noexcept {
  if (CircuitBreaker* breaker = pipeline_->circuit_breaker()) {
    const HealthState breaker_health = to_health(breaker->state());
    if (breaker_health != HealthState::healthy) return breaker_health;
  }
  const std::uint32_t failures = consecutive_failures_.load(std::memory_order_relaxed);
  if (failures >= config_.failed_after) return HealthState::failed;
  if (failures > 0) return HealthState::degraded;
  return HealthState::healthy;
}

ClientStats Client::stats() const {
  ClientStats stats;
  stats.requests = requests_.load(std::memory_order_relaxed);
  stats.failures = failures_.load(std::memory_order_relaxed);
  stats.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  stats.origins = engine_->stats();
  for (const OriginStats& origin : stats.origins) stats.pool += origin.pool;
  return stats;
}

}  // namespace bulwark::http
