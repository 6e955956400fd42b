// Two typed clients written on bulwark::ServiceClient — a Qdrant vector store
// (clients/qdrant.hpp) and an OpenAI-style embeddings API (clients/openai_embeddings.hpp) — used
// together: embed a few documents in a batch with bounded concurrency, store them in a
// collection, search it, and show what the response cache and the per-service counters saw.
//
// It runs offline, against fakes of both services started in this process
// (tests/support/fake_services.hpp). To talk to real services, build the HTTP clients with their
// URLs and keys instead (e.g. "http://localhost:6333" and "https://api.openai.com/v1").

#include "clients/openai_embeddings.hpp"
#include "clients/qdrant.hpp"
#include "support/fake_services.hpp"

#include <bulwark/core/runtime.hpp>
#include <bulwark/http/client.hpp>
#include <bulwark/http/service_client.hpp>

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using examples::openai::EmbeddingsClient;
using examples::qdrant::QdrantClient;

constexpr std::size_t dimensions = 8;  // the fake's; text-embedding-3-small gives 1536

std::vector<std::string> documents() {
  return {"Circuit breakers stop calls to a failing service",
          "Retries with jitter spread the load of a recovering service",
          "A bulkhead bounds how many calls run at once",
          "Keep-alive pools reuse connections to a service",
          "A TTL cache answers repeated reads without a round trip"};
}

void print_stats(const bulwark::ServiceStats& stats) {
  fmt::print("  {:<7} requests {:>2}, errors {}, error rate {:.0f}% (last {}s: {:.0f}%)",
             stats.name, stats.requests, stats.errors, stats.error_rate * 100,
             std::chrono::duration_cast<std::chrono::seconds>(stats.window).count(),
             stats.recent_error_rate * 100);
  if (stats.cache) {
    fmt::print(", cache {} hits / {} misses", stats.cache->hits, stats.cache->misses);
  }
  fmt::print("\n");
}

asio::awaitable<void> tour(QdrantClient& qdrant, EmbeddingsClient& openai) {
  const bulwark::HealthCheckResult health = co_await qdrant.check_health("/healthz");
  fmt::print("qdrant health: {} (status {}, {} us)\n", health.ok ? "ok" : health.error,
             health.status,
             std::chrono::duration_cast<std::chrono::microseconds>(health.latency).count());

  // One embeddings call per document, at most 3 at a time; results come back in order.
  const std::vector<std::string> texts = documents();
  const auto vectors = co_await openai.batch(
      texts, [&openai](const std::string& text) { return openai.embed(text); }, 3);

  co_await qdrant.create_collection("articles", {.size = dimensions});
  std::vector<examples::qdrant::Point> points;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (!vectors[i]) {
      fmt::print("skipping document {}: {}\n", i, vectors[i].error().message());
      continue;
    }
    examples::qdrant::Point point;
    point.id = std::uint64_t{i + 1};
    point.vector = *vectors[i];
    point.payload["text"] = texts[i];
    points.push_back(std::move(point));
  }
  const auto update = co_await qdrant.upsert("articles", std::move(points));
  fmt::print("stored {} documents (operation {}, {})\n", texts.size(), update.operation_id,
             update.status);

  // The query's embedding is the stored one of the same text, so it comes first with score 1.
  const std::string question = texts[2];
  const std::vector<float> query = co_await openai.embed(question);
  const auto hits = co_await qdrant.search("articles", query, {.limit = 3});
  fmt::print("nearest to \"{}\":\n", question);
  for (const auto& hit : hits.points) {
    fmt::print("  {:.3f}  {}\n", hit.score, hit.payload.at("text").as_string().c_str());
  }

  // GETs are cached: the second listing does not reach the server.
  for (int i = 0; i < 2; ++i) {
    const auto names = co_await qdrant.list_collections();
    fmt::print("collections: {}\n", fmt::join(names, ", "));
  }

  // A service's error arrives as ServiceError, with its own message.
  try {
    (void)co_await qdrant.search("missing", query);
  } catch (const bulwark::ServiceError& error) {
    fmt::print("as expected: {}\n", error.what());
  }
}

}  // namespace

int main() {
  bulwark::test::FakeServer server;
  bulwark::test::add_fake_qdrant(server);
  bulwark::test::add_fake_openai(server, {.api_key = "sk-demo"});
  fmt::print("fake Qdrant and OpenAI at {}\n", server.base_url());

  bulwark::Runtime runtime;
  auto qdrant_http = std::make_shared<bulwark::http::Client>(
      runtime.executor(), QdrantClient::http_config(server.base_url()));
  auto openai_http = std::make_shared<bulwark::http::Client>(
      runtime.executor(),
      EmbeddingsClient::http_config(server.base_url() + "/v1", bulwark::Secret("sk-demo")));
  int status = 0;
  {
    QdrantClient qdrant(qdrant_http, {.cache = bulwark::CacheConfig{.max_entries = 256, .ttl = 30s},
                                      .health_path = "/healthz"});
    EmbeddingsClient openai(openai_http,
                            {.cache = bulwark::CacheConfig{.max_entries = 1024, .ttl = 1h}});
    try {
      runtime.block_on(tour(qdrant, openai));
    } catch (const std::exception& error) {
      fmt::print(stderr, "failed: {}\n", error.what());
      status = 1;
    }
    fmt::print("statistics:\n");
    print_stats(qdrant.stats());
    print_stats(openai.stats());
  }
  qdrant_http->close();
  openai_http->close();
  return status;
}
