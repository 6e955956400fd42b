#pragma once
// The part of `http::Client` below its resilience pipeline: one pool per origin, and one attempt
// of a request on a pooled connection, including the single resend after a stale connection.

#include "bulwark/http/client.hpp"
#include "bulwark/resilience/call_context.hpp"
#include "http/detail/pool.hpp"
#include "http/detail/url.hpp"
#include "http/detail/wire.hpp"

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace bulwark::http::detail {

class Engine {
 public:
  Engine(boost::asio::any_io_executor executor, const ClientConfig& config);

  // One attempt: a connection from the origin's pool, the request written, the response read.
  // Throws `Error` (with client, operation and attempt) for whatever kept a response from
  // arriving. Sets the context's retry-after hint from a 429/503 `Retry-After`.
  boost::asio::awaitable<Response> attempt(const Target& target, const WireRequest& request,
                                           const BodyCallback& on_body, bool following_redirects,
                                           bool replayable, std::string_view operation,
                                           CallContext& context, Deadline deadline);

  // The client's base URL, parsed once.
  [[nodiscard]] const BaseUrl& base_url() const noexcept { return base_url_; }
  [[nodiscard]] std::vector<OriginStats> stats() const;
  std::size_t prune();
  void close() noexcept;

 private:
  Pool& pool(const Origin& origin);

  boost::asio::any_io_executor executor_;
  const ClientConfig& config_;
  BaseUrl base_url_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Pool>> pools_;  // In order of first use; never removed.
  bool closed_ = false;
};

// Seconds or an HTTP date (RFC 9110 §10.2.3); nothing when it is neither or in the past.
[[nodiscard]] std::optional<Duration> parse_retry_after(std::string_view value,
                                                        std::chrono::system_clock::time_point now);

}  // namespace bulwark::http::detail
