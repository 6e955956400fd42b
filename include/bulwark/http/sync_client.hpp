#pragma once
/// @file
/// `http::SyncClient`: the blocking face of `http::Client`, for code that is not a coroutine.
/// Each call runs the async client on a `Runtime`'s threads and waits for it; same pools, same
/// pipeline, same errors (thrown, or returned by `execute`).
///
///     bulwark::Runtime runtime({.threads = 2});
///     bulwark::http::SyncClient api(runtime, {.base_url = "https://api.example.com"});
///     auto reply = api.get("/status");
///
/// Must not be called from one of the runtime's own threads (that would deadlock; it throws
/// `invalid_argument` instead).

#include "bulwark/core/runtime.hpp"
#include "bulwark/http/client.hpp"

#include <memory>

namespace bulwark::http {

class SyncClient {
 public:
  SyncClient(Runtime& runtime, ClientConfig config);
  /// Blocking calls over an existing client (e.g. one a `ClientManager` owns), which may run on
  /// another executor; the runtime only hosts the waiting.
  SyncClient(Runtime& runtime, std::shared_ptr<Client> client);

  Response send(Request request);
  Result<Response> execute(Request request);
  Response get(std::string url) { return send(Request::get(std::move(url))); }
  Response del(std::string url) { return send(Request::del(std::move(url))); }
  Response post_json(std::string url, const boost::json::value& body) {
    return send(Request::post(std::move(url)).json(body));
  }
  Response put_json(std::string url, const boost::json::value& body) {
    return send(Request::put(std::move(url)).json(body));
  }
  boost::json::value json(Request request);

  [[nodiscard]] HealthState health() const noexcept { return client_->health(); }
  [[nodiscard]] ClientStats stats() const { return client_->stats(); }
  [[nodiscard]] Client& async() noexcept { return *client_; }
  void close() noexcept { client_->close(); }

 private:
  Runtime& runtime_;
  std::shared_ptr<Client> client_;
};

}  // namespace bulwark::http
