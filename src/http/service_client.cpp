#include "bulwark/http/service_client.hpp"

#include "bulwark/observe/catalogue.hpp"
#include "bulwark/observe/registry.hpp"

#include "http/detail/error_window.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <string_view>

namespace bulwark {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::size_t excerpt_limit = 200;

// The start of a text for an error message, on one line.
std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, excerpt_limit));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (text.size() > excerpt_limit) out += "...";
  return out;
}

// A message member as text: strings as they are, anything else (a list of validation errors)
// as JSON.
std::optional<std::string> message_text(const json::value* value) {
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (const json::string* text = value->if_string()) return excerpt(*text);
  return excerpt(json::serialize(*value));
}

// "GET /collections/docs": the operation in error messages, without the query, which may hold
// keys.
std::string operation_of(const http::Request& request) {
  const std::string_view url = request.url;
  return fmt::format("{} {}", request.method, url.substr(0, url.find('?')));
}

// Method, URL, query parameters, header fields and the body's hash: what decides the answer of a
// service that answers the same request the same way. Lengths prefix every part, so no two
// different requests share a key by concatenation. The body is hashed rather than kept (an
// embeddings input can be large); its length is part of the key too.
std::string cache_key(const http::Request& request) {
  std::string key = fmt::format("{} {}", request.method, request.url);
  for (const auto& [name, value] : request.query_params) {
    fmt::format_to(std::back_inserter(key), "\nq{}:{}{}:{}", name.size(), name, value.size(),
                   value);
  }
  for (const auto& [name, value] : request.headers) {
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    fmt::format_to(std::back_inserter(key), "\nh{}:{}{}:{}", lower.size(), lower, value.size(),
                   value);
  }
  if (!request.body.empty()) {
    fmt::format_to(std::back_inserter(key), "\nb{}:{:016x}", request.body.size(),
                   std::hash<std::string_view>{}(request.body));
  }
  return key;
}

ServiceClientConfig checked(ServiceClientConfig config, const http::Client* client,
                            bool from_provider) {
  std::vector<ConfigIssue> issues;
  if (config.name.empty()) {
    if (client != nullptr) {
      config.name = client->name();
    } else if (from_provider) {
      issues.push_back({"service.name", "required when the client comes from a provider"});
    }
  }
  if (!from_provider && client == nullptr) {
    issues.push_back({"service.client", "must not be null"});
  }
  validate(config, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return config;
}

}  // namespace

void validate(const ServiceClientConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path) {
  const auto at = [&](std::string_view field) { return fmt::format("{}.{}", path, field); };
  if (config.cache) validate(*config.cache, issues, at("cache"));
  if (config.health_path.empty()) issues.push_back({at("health_path"), "must not be empty"});
  if (config.expected_status < 100 || config.expected_status > 599) {
    issues.push_back({at("expected_status"),
                      fmt::format("must be an HTTP status, got {}", config.expected_status)});
  }
  if (config.health_timeout < Duration::zero()) {
    issues.push_back({at("health_timeout"), "must be >= 0 (0 = the client's timeouts)"});
  }
  if (config.error_window_buckets < 1 ||
      config.error_window_buckets > detail::ErrorWindow::max_buckets) {
    issues.push_back({at("error_window_buckets"),
                      fmt::format("must be between 1 and {}, got {}",
                                  detail::ErrorWindow::max_buckets, config.error_window_buckets)});
  } else if (config.error_window < std::chrono::milliseconds(1) * config.error_window_buckets) {
    issues.push_back(
        {at("error_window"), fmt::format("must be at least 1ms per bucket ({} buckets), got {}",
                                         config.error_window_buckets,
                                         config.error_window < Duration::zero()
                                             ? std::string("a negative duration")
                                             : format_duration(config.error_window))});
  }
}

ServiceError::ServiceError(std::error_code ec, ErrorContext context, unsigned status,
                           std::string_view reason, std::string service_message)
    : Error(ec, std::move(context),
            fmt::format("HTTP {}{}{}: {}", status, reason.empty() ? "" : " ", reason,
                        service_message)),
      status_(status),
      service_message_(std::move(service_message)) {}

ServiceClient::ServiceClient(std::shared_ptr<http::Client> client, ServiceClientConfig config)
    : ServiceClient(std::move(client), ClientProvider{}, std::move(config)) {}

ServiceClient::ServiceClient(ClientProvider provider, ServiceClientConfig config)
    : ServiceClient(nullptr, std::move(provider), std::move(config)) {}

ServiceClient::ServiceClient(std::shared_ptr<http::Client> client, ClientProvider provider,
                             ServiceClientConfig config)
    : fixed_client_(std::move(client)),
      provider_(std::move(provider)),
      config_(checked(std::move(config), fixed_client_.get(), static_cast<bool>(provider_))),
      clock_(config_.clock ? config_.clock : steady_clock()),
      window_(std::make_unique<detail::ErrorWindow>(config_.error_window,
                                                    config_.error_window_buckets)) {
  if (config_.cache) cache_ = std::make_unique<ResponseCache>(*config_.cache, clock_);
  if (cache_ && config_.metrics != nullptr) {
    auto& hits = config_.metrics->collected_counter(observe::catalogue::cache_hits());
    auto& misses = config_.metrics->collected_counter(observe::catalogue::cache_misses());
    cache_metrics_ =
        config_.metrics->add_collector([this, &hits, &misses](observe::CollectorSink& sink) {
          const CacheStats stats = cache_->stats();
          sink.add(hits, {std::string_view(config_.name)}, static_cast<double>(stats.hits));
          sink.add(misses, {std::string_view(config_.name)}, static_cast<double>(stats.misses));
        });
  }
}

ServiceClient::~ServiceClient() = default;

std::shared_ptr<http::Client> ServiceClient::client() const {
  if (fixed_client_) return fixed_client_;
  std::shared_ptr<http::Client> current = provider_ ? provider_() : nullptr;
  if (!current) {
    throw ServiceUnavailable(make_error_code(errc::not_found), {config_.name, {}, 0},
                             "no HTTP client is available for the service");
  }
  return current;
}

std::string ServiceClient::encode_path_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (const char c : segment) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      fmt::format_to(std::back_inserter(out), "%{:02X}", byte);
    }
  }
  return out;
}

http::Request ServiceClient::prepare(http::Request request, const RequestOptions& options) {
  if (options.timeout) request.total_timeout = *options.timeout;
  if (!request.headers.contains("Accept")) request.headers.set("Accept", "application/json");
  return request;
}

bool ServiceClient::cacheable(const http::Request& request, const RequestOptions& options) const {
  return cache_ != nullptr && !options.bypass_cache &&
         (request.method == "GET" || options.cache_response);
}

void ServiceClient::record(bool failed) noexcept {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (failed) errors_.fetch_add(1, std::memory_order_relaxed);
  window_->record(failed, clock_->now());
}

void ServiceClient::raise(const http::Response& response, std::string operation) const {
  ErrorContext context{config_.name, std::move(operation), response.attempts};
  std::string message;
  try {
    message = error_message(response);
  } catch (...) {
    message = excerpt(response.body);
  }
  try {
    response.raise_for_status();
  } catch (const Error& error) {
    // The code as `raise_for_status` judges the status; the message as the service gave it.
    throw ServiceError(error.code(), std::move(context), response.status, response.reason,
                       std::move(message));
  }
  // 1xx and 3xx: not an answer a JSON call can use.
  throw ServiceError(make_error_code(errc::protocol_error), std::move(context), response.status,
                     response.reason, std::move(message));
}

std::string ServiceClient::error_message(const http::Response& response) const {
  boost::system::error_code ec;
  const json::value body = json::parse(response.body, ec);
  if (!ec) {
    if (const json::object* object = body.if_object()) {
      if (const json::value* error = object->if_contains("error")) {
        if (const json::object* details = error->if_object()) {
          if (auto text = message_text(details->if_contains("message"))) return *text;
        }
        if (auto text = message_text(error)) return *text;
      }
      if (const json::value* status = object->if_contains("status")) {
        if (const json::object* details = status->if_object()) {
          if (auto text = message_text(details->if_contains("error"))) return *text;
        }
      }
      for (const std::string_view key : {"message", "detail"}) {
        if (auto text = message_text(object->if_contains(key))) return *text;
      }
    }
  }
  return response.body.empty() ? std::string("(empty body)") : excerpt(response.body);
}

asio::awaitable<http::Response> ServiceClient::exchange(http::Request request) {
  const std::shared_ptr<http::Client> current = client();
  try {
    co_return co_await current->send(std::move(request));
  } catch (const std::system_error& error) {
    // The caller's cancellation says nothing about the service.
    if (error.code() != errc::cancelled) record(true);
    throw;
  } catch (...) {
    record(true);
    throw;
  }
}

asio::awaitable<http::Response> ServiceClient::send(http::Request request, RequestOptions options) {
  if (options.timeout) request.total_timeout = *options.timeout;
  http::Response response = co_await exchange(std::move(request));
  record(!response.ok());
  co_return response;
}

asio::awaitable<json::value> ServiceClient::call_json(http::Request request,
                                                      RequestOptions options) {
  request = prepare(std::move(request), options);
  const bool use_cache = cacheable(request, options);
  std::string key;
  if (use_cache) {
    key = cache_key(request);
    if (const auto hit = cache_->get(key)) co_return **hit;
  }
  // Kept for error messages: the request itself is moved into the client.
  const std::string operation = operation_of(request);

  const http::Response response = co_await exchange(std::move(request));
  if (!response.ok()) {
    record(true);
    raise(response, operation);
  }
  json::value body;
  if (!response.body.empty()) {
    try {
      body = response.json();
    } catch (const Error& error) {
      record(true);
      throw Error(error.code(), {config_.name, operation, response.attempts}, error.detail());
    }
  }
  record(false);
  if (use_cache) {
    const Duration ttl = options.cache_ttl.value_or(cache_->config().ttl);
    cache_->put(std::move(key), std::make_shared<const json::value>(body), ttl);
  }
  co_return body;
}

asio::awaitable<json::value> ServiceClient::get_json(std::string path, Query query,
                                                     RequestOptions options) {
  http::Request request = http::Request::get(std::move(path));
  request.query_params = std::move(query);
  co_return co_await call_json(std::move(request), std::move(options));
}

asio::awaitable<json::value> ServiceClient::post_json(std::string path, json::value body,
                                                      RequestOptions options) {
  co_return co_await call_json(http::Request::post(std::move(path)).json(body), std::move(options));
}

asio::awaitable<json::value> ServiceClient::put_json(std::string path, json::value body,
                                                     RequestOptions options) {
  co_return co_await call_json(http::Request::put(std::move(path)).json(body), std::move(options));
}

asio::awaitable<json::value> ServiceClient::patch_json(std::string path, json::value body,
                                                       RequestOptions options) {
  co_return co_await call_json(http::Request::patch(std::move(path)).json(body),
                               std::move(options));
}

asio::awaitable<json::value> ServiceClient::delete_(std::string path, RequestOptions options) {
  co_return co_await call_json(http::Request::del(std::move(path)), std::move(options));
}

asio::awaitable<bool> ServiceClient::health_check() {
  const HealthCheckResult result =
      co_await check_health(config_.health_path, config_.expected_status);
  co_return result.ok;
}

asio::awaitable<HealthCheckResult> ServiceClient::check_health(std::string path,
                                                               unsigned expected_status) {
  HealthCheckResult result;
  http::Request request = http::Request::get(std::move(path));
  if (config_.health_timeout > Duration::zero()) request.total_timeout = config_.health_timeout;
  const Clock::time_point start = clock_->now();
  try {
    const std::shared_ptr<http::Client> current = client();
    const http::Response response = co_await current->send(std::move(request));
    result.status = response.status;
    result.ok = response.status == expected_status;
    if (!result.ok) {
      result.error = fmt::format("expected status {}, got {} {}", expected_status, response.status,
                                 response.reason);
    }
  } catch (const std::system_error& error) {
    // The caller's cancellation is not the service's failure.
    if (error.code() == errc::cancelled) throw;
    result.error = error.what();
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  result.latency = clock_->now() - start;
  co_return result;
}

void ServiceClient::clear_cache() {
  if (cache_) cache_->clear();
}

std::optional<CacheStats> ServiceClient::cache_stats() const {
  if (!cache_) return std::nullopt;
  return cache_->stats();
}

ServiceStats ServiceClient::stats() const {
  ServiceStats out;
  out.name = config_.name;
  out.requests = requests_.load(std::memory_order_relaxed);
  out.errors = std::min(errors_.load(std::memory_order_relaxed), out.requests);
  out.error_rate =
      out.requests == 0 ? 0.0 : static_cast<double>(out.errors) / static_cast<double>(out.requests);
  const detail::ErrorWindow::Counts recent = window_->snapshot(clock_->now());
  out.recent_requests = recent.calls;
  out.recent_errors = recent.failed;
  out.recent_error_rate =
      recent.calls == 0 ? 0.0
                        : static_cast<double>(recent.failed) / static_cast<double>(recent.calls);
  out.window = config_.error_window;
  out.cache = cache_stats();
  return out;
}

}  // namespace bulwark
