#pragma once
/// @file
/// Correlation IDs: one ID per logical request, sent on every attempt (`X-Correlation-ID` by
/// default) so the service's logs and the caller's can be joined.
///
/// The ID of a request is, in order: `Request::correlation_id`; the ID of the innermost
/// `CorrelationScope` alive on the calling thread when the request is started; a new UUID v4.
///
///     bulwark::http::CorrelationScope scope(incoming.header("X-Correlation-ID"));
///     auto reply = co_await client.send(bulwark::http::Request::get("/collections"));
///
/// A scope is per thread: in coroutines, create it in the coroutine that starts the request,
/// before the request (the ID is read when `send` is called, before it first suspends).

#include <string>
#include <string_view>

namespace bulwark::http {

/// A random (version 4) UUID in its canonical text form, e.g.
/// "3f2b8c1e-9d4a-4e6b-8f0a-2c1d3e4f5a6b".
[[nodiscard]] std::string new_correlation_id();

/// Makes `id` the current thread's correlation ID until destroyed (scopes nest).
class CorrelationScope {
 public:
  explicit CorrelationScope(std::string id);
  ~CorrelationScope();
  CorrelationScope(const CorrelationScope&) = delete;
  CorrelationScope& operator=(const CorrelationScope&) = delete;

  /// The innermost scope's ID on this thread; empty when there is none.
  [[nodiscard]] static std::string_view current() noexcept;

 private:
  std::string id_;
  const CorrelationScope* outer_;
};

}  // namespace bulwark::http
