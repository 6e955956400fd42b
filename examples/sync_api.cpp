// Blocking calls, for code that is not written as coroutines: http::SyncClient and
// redis::SyncClient, each over a client with its own pool and resilience pipeline, running on a
// bulwark::Runtime (an io_context and its thread). Every call comes in two forms: one that
// returns the value and throws bulwark::Error, and `execute`, which returns a Result.
//
//   API_URL=http://localhost:8080 REDIS_URL=redis://localhost:6379 ./sync_api
//
// Without the variables it uses http://127.0.0.1:8080 and redis://127.0.0.1:6379.

#include <bulwark/core/runtime.hpp>
#include <bulwark/http/sync_client.hpp>
#include <bulwark/redis/sync_client.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <string>

namespace {

using namespace std::chrono_literals;

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main() {
  bulwark::Runtime runtime;

  bulwark::http::ClientConfig http_config;
  http_config.name = "api";
  http_config.base_url = env_or("API_URL", "http://127.0.0.1:8080");
  http_config.timeouts.connect = 2s;
  http_config.timeouts.read = 10s;
  bulwark::http::SyncClient api(runtime, http_config);

  bulwark::redis::ClientConfig redis_config;
  redis_config.name = "redis.cache";
  redis_config.connection = bulwark::redis::from_url(env_or("REDIS_URL", "redis://127.0.0.1:6379"));
  redis_config.connection.connect_timeout = 2s;
  bulwark::redis::SyncClient cache(runtime, redis_config);

  try {
    // Throwing form: the response whatever its status; an Error when none arrived.
    const bulwark::http::Response page = api.get("/");
    fmt::print("GET / -> {} ({} bytes)\n", page.status, page.body.size());

    cache.set("bulwark:sync_api", "hello", {.ttl = 1min});
    fmt::print("GET bulwark:sync_api -> {}\n", cache.get("bulwark:sync_api").value_or("(missing)"));
    fmt::print("INCR bulwark:sync_api:runs -> {}\n", cache.incr("bulwark:sync_api:runs"));
  } catch (const bulwark::Error& error) {
    fmt::print(stderr, "sync_api: {}\nsync_api: start the services, or set API_URL and REDIS_URL\n",
               error.what());
    return 1;
  }

  // Result form: no exception; the error code says what went wrong.
  const bulwark::Result<bulwark::http::Response> head =
      api.execute(bulwark::http::Request::head("/"));
  fmt::print("HEAD / -> {}\n", head ? fmt::format("{}", head->status) : head.error().message());
  const bulwark::Result<bulwark::redis::Value> pong =
      cache.execute(bulwark::redis::make_command("PING"));
  fmt::print("PING -> {}\n", pong ? std::string(pong->as_string()) : pong.error().message());
  return 0;
}
