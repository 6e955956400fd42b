// ServiceClient and the example typed clients (Qdrant, OpenAI embeddings) against fakes of those
// services on a local FakeServer: typed calls and their errors, the response cache (hits that do
// not reach the server, bypass, TTL on a ManualClock), error rates, batches with bounded
// concurrency, health checks, and clients swapped by a provider.
#include "bulwark/http/service_client.hpp"
#include "bulwark/observe/registry.hpp"

#include "clients/openai_embeddings.hpp"
#include "clients/qdrant.hpp"
#include "support/fake_services.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bulwark {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using examples::openai::EmbeddingsClient;
using examples::qdrant::QdrantClient;
using test::FakeReply;
using test::FakeRequest;
using test::FakeServer;
using test::run;

constexpr const char* api_key = "sk-right-key";

std::vector<float> as_floats(const std::vector<double>& values) {
  return {values.begin(), values.end()};
}

// The error `work` threw; a test failure (an exception gtest reports) when it threw none.
template <class T, class E = Error>
E error_of(asio::io_context& io, asio::awaitable<T> work) {
  try {
    (void)run(io, std::move(work));
  } catch (const E& error) {
    return error;
  }
  throw std::logic_error("expected an exception, the call succeeded");
}

struct ServiceClientTest : ::testing::Test {
  asio::io_context io;
  FakeServer server;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::vector<std::shared_ptr<http::Client>> clients;

  ServiceClientTest() {
    test::add_fake_qdrant(server);
    test::add_fake_openai(server, {.api_key = api_key});
    test::add_fake_openai(server,
                          {.api_key = api_key, .prefix = "/reversed", .reverse_data = true});
  }

  ~ServiceClientTest() override {
    for (const auto& client : clients) client->close();
  }

  // No retry and no breaker, so that each test sees exactly the calls it makes.
  std::shared_ptr<http::Client> make_http(http::ClientConfig config) {
    config.timeouts.connect = 2s;
    config.timeouts.read = 5s;
    config.retry.reset();
    config.circuit_breaker.reset();
    clients.push_back(std::make_shared<http::Client>(io.get_executor(), std::move(config)));
    return clients.back();
  }

  QdrantClient qdrant(ServiceClientConfig config = {}) {
    if (!config.clock) config.clock = clock;
    return QdrantClient(make_http(QdrantClient::http_config(server.base_url())), std::move(config));
  }

  // An empty key sends no Authorization header at all.
  EmbeddingsClient openai(std::string key = api_key, std::string prefix = "/v1",
                          ServiceClientConfig config = {}) {
    if (!config.clock) config.clock = clock;
    http::ClientConfig http_config =
        EmbeddingsClient::http_config(server.base_url() + prefix, Secret(key));
    if (key.empty()) http_config.auth = {};
    return EmbeddingsClient(make_http(std::move(http_config)), std::move(config));
  }

  // A collection "docs" of 4 dimensions with three points.
  void seed(QdrantClient& client) {
    run(io, client.create_collection("docs", {.size = 4}));
    std::vector<examples::qdrant::Point> points;
    points.push_back({1u, {1, 0, 0, 0}, json::object{{"title", "east"}}});
    points.push_back({2u, {0, 1, 0, 0}, json::object{{"title", "north"}}});
    points.push_back({std::string("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                      {0.9f, 0.1f, 0, 0},
                      json::object{{"title", "mostly east"}}});
    const auto update = run(io, client.upsert("docs", std::move(points)));
    EXPECT_EQ(update.status, "completed");
  }
};

CacheConfig small_cache(Duration ttl = 30s) { return {.max_entries = 16, .ttl = ttl}; }

// --- Typed clients
// --------------------------------------------------------------------------------

TEST_F(ServiceClientTest, QdrantCreatesUpsertsAndSearches) {
  QdrantClient client = qdrant();
  EXPECT_TRUE(run(io, client.list_collections()).empty());
  seed(client);
  EXPECT_EQ(run(io, client.list_collections()), std::vector<std::string>{"docs"});

  const auto found = run(io, client.search("docs", {1, 0.05f, 0, 0}, {.limit = 2}));
  ASSERT_EQ(found.points.size(), 2u);
  EXPECT_EQ(found.points[0].id, examples::qdrant::PointId(1u));
  EXPECT_EQ(found.points[1].id,
            examples::qdrant::PointId(std::string("7c9e6679-7425-40de-944b-e07fc1f90ae7")));
  EXPECT_GT(found.points[0].score, found.points[1].score);
  EXPECT_EQ(found.points[0].payload.at("title"), "east");
  EXPECT_EQ(found.status, "ok");
  EXPECT_GT(found.time, 0.0);

  // What went over the wire: the upsert waited, the search asked for payloads.
  const auto upserts = server.requests();
  const auto upsert = std::find_if(upserts.begin(), upserts.end(), [](const FakeRequest& r) {
    return r.method == "PUT" && r.path == "/collections/docs/points";
  });
  ASSERT_NE(upsert, upserts.end());
  EXPECT_EQ(upsert->query_param("wait"), "true");
}

TEST_F(ServiceClientTest, QdrantCollectionNamesAreEncodedAsOnePathSegment) {
  QdrantClient client = qdrant();
  run(io, client.create_collection("a b/c", {.size = 2}));
  EXPECT_EQ(run(io, client.list_collections()), std::vector<std::string>{"a b/c"});
  EXPECT_EQ(server.request_count("/collections/a%20b%2Fc"), 1u);
}

TEST_F(ServiceClientTest, QdrantErrorCarriesTheServicesMessage) {
  QdrantClient client = qdrant();
  const ServiceError error = error_of<examples::qdrant::SearchResponse, ServiceError>(
      io, client.search("missing", {1, 0}));
  EXPECT_EQ(error.code(), errc::http_client_error);
  EXPECT_EQ(error.status(), 404u);
  EXPECT_EQ(error.service_message(), "Not found: Collection `missing` doesn't exist!");
  EXPECT_EQ(error.client(), "qdrant");
  EXPECT_EQ(error.operation(), "POST /collections/missing/points/search");
  EXPECT_EQ(std::string(error.what()),
            "qdrant: POST /collections/missing/points/search (attempt 1): the service refused the "
            "request: HTTP 404 Not Found: Not found: Collection `missing` doesn't exist!");

  seed(client);
  const ServiceError exists =
      error_of<void, ServiceError>(io, client.create_collection("docs", {.size = 4}));
  EXPECT_EQ(exists.status(), 400u);
  EXPECT_NE(exists.service_message().find("already exists"), std::string::npos);
}

TEST_F(ServiceClientTest, QdrantReplyMissingAFieldNamesTheField) {
  QdrantClient client = qdrant();
  seed(client);
  server.route("POST", "/collections/{name}/points/search", [](const FakeRequest&) {
    return FakeReply::json(json::object{
        {"result", json::array{json::object{{"id", 1}}}}, {"status", "ok"}, {"time", 0.1}});
  });
  const Error error = error_of(io, client.search("docs", {1, 0, 0, 0}));
  EXPECT_EQ(error.code(), errc::protocol_error);
  EXPECT_EQ(error.client(), "qdrant");
  EXPECT_EQ(error.operation(), "search");
  EXPECT_EQ(error.detail(), "reply field `result[0].score` is missing");
}

TEST_F(ServiceClientTest, QdrantReplyWithAWrongTypeSaysWhatItFound) {
  QdrantClient client = qdrant();
  server.route("GET", "/collections", [](const FakeRequest&) {
    return FakeReply::json(json::object{{"result", json::object{{"collections", "none"}}}});
  });
  const Error error = error_of(io, client.list_collections());
  EXPECT_EQ(error.code(), errc::protocol_error);
  EXPECT_EQ(error.detail(), "reply field `result.collections` is a string, expected an array");
}

TEST_F(ServiceClientTest, OpenAiEmbeddingsSendTheBearerToken) {
  EmbeddingsClient client = openai();
  const auto reply = run(io, client.create({"first text", "second"}));
  ASSERT_EQ(reply.data.size(), 2u);
  EXPECT_EQ(reply.data[0].index, 0u);
  EXPECT_EQ(reply.data[0].embedding, as_floats(test::fake_embedding("first text", 8)));
  EXPECT_EQ(reply.data[1].embedding, as_floats(test::fake_embedding("second", 8)));
  EXPECT_EQ(reply.model, "text-embedding-3-small");
  EXPECT_EQ(reply.usage.prompt_tokens, 3u);
  EXPECT_EQ(reply.usage.total_tokens, 3u);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v1/embeddings");
  EXPECT_EQ(requests[0].header("Authorization"), std::string("Bearer ") + api_key);
  const json::value sent = json::parse(requests[0].body);
  EXPECT_EQ(sent.at("model"), "text-embedding-3-small");
  EXPECT_EQ(sent.at("input").as_array().size(), 2u);
}

TEST_F(ServiceClientTest, OpenAiEmbeddingsArePlacedByIndexNotByArrival) {
  EmbeddingsClient client = openai(api_key, "/reversed");
  const auto reply = run(io, client.create({"a", "b", "c"}, {.dimensions = 4}));
  ASSERT_EQ(reply.data.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(reply.data[i].index, i);
    EXPECT_EQ(reply.data[i].embedding.size(), 4u);
  }
  EXPECT_EQ(reply.data[2].embedding, as_floats(test::fake_embedding("c", 4)));
}

TEST_F(ServiceClientTest, OpenAiWrongOrMissingKeyIs401WithTheApisMessage) {
  for (const std::string key : {"sk-wrong-key", ""}) {
    EmbeddingsClient client = openai(key);
    const ServiceError error =
        error_of<std::vector<float>, ServiceError>(io, client.embed("hello"));
    EXPECT_EQ(error.code(), errc::http_client_error);
    EXPECT_EQ(error.status(), 401u);
    EXPECT_EQ(error.service_message(), "Incorrect API key provided.");
    EXPECT_EQ(error.client(), "openai");
    if (!key.empty()) {
      EXPECT_EQ(std::string(error.what()).find(key), std::string::npos) << "the key leaked";
    }
  }
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("Authorization"), std::nullopt);
}

TEST_F(ServiceClientTest, OpenAiReplyWithTooFewEmbeddingsIsAProtocolError) {
  EmbeddingsClient client = openai();
  server.route("POST", "/v1/embeddings", [](const FakeRequest&) {
    return FakeReply::json(json::object{
        {"data", json::array{json::object{{"index", 0}, {"embedding", json::array{0.5}}}}},
        {"model", "m"},
        {"usage", json::object{{"prompt_tokens", 1}, {"total_tokens", 1}}}});
  });
  const Error error = error_of(io, client.create({"a", "b"}));
  EXPECT_EQ(error.code(), errc::protocol_error);
  EXPECT_EQ(error.detail(), "reply field `data` has 1 embeddings for 2 inputs");
}

// --- Response cache ---------------------------------------------------------------------------

TEST_F(ServiceClientTest, SecondIdenticalGetIsServedFromTheCache) {
  QdrantClient client = qdrant({.cache = small_cache()});
  seed(client);
  server.clear_requests();
  EXPECT_EQ(run(io, client.list_collections()), std::vector<std::string>{"docs"});
  EXPECT_EQ(run(io, client.list_collections()), std::vector<std::string>{"docs"});
  EXPECT_EQ(server.request_count("/collections"), 1u) << "the second GET reached the server";

  const CacheStats cache = client.cache_stats().value();
  EXPECT_EQ(cache.hits, 1u);
  EXPECT_EQ(cache.misses, 1u);
  EXPECT_EQ(cache.size, 1u);
  EXPECT_EQ(client.stats().requests, 3u) << "create + upsert + one GET; the hit is not a request";
}

TEST_F(ServiceClientTest, CacheHitsAndMissesAreExportedAsMetrics) {
  observe::Registry registry;
  ServiceClientConfig config;
  config.cache = small_cache();
  config.metrics = &registry;
  QdrantClient client = qdrant(config);
  seed(client);
  (void)run(io, client.list_collections());
  (void)run(io, client.list_collections());
  (void)run(io, client.list_collections());
  const std::string text = registry.expose();
  EXPECT_NE(text.find("bulwark_cache_hits_total{client=\"qdrant\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("bulwark_cache_misses_total{client=\"qdrant\"} 1"), std::string::npos)
      << text;
}

TEST_F(ServiceClientTest, BypassAlwaysReachesTheServerAndLeavesTheCacheAlone) {
  QdrantClient client = qdrant({.cache = small_cache()});
  (void)run(io, client.list_collections());
  (void)run(io, client.list_collections({.bypass_cache = true}));
  (void)run(io, client.list_collections({.bypass_cache = true}));
  EXPECT_EQ(server.request_count("/collections"), 3u);
  const CacheStats cache = client.cache_stats().value();
  EXPECT_EQ(cache.hits + cache.misses, 1u) << "a bypass looked into the cache";
  // The cached entry is the first answer, still served.
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 3u);
}

TEST_F(ServiceClientTest, CachedResponseExpiresAfterItsTtl) {
  QdrantClient client = qdrant({.cache = small_cache(30s)});
  (void)run(io, client.list_collections());
  clock->advance(29s);
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 1u);
  clock->advance(1s);
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 2u);
  EXPECT_EQ(client.cache_stats()->expirations, 1u);

  // A per-call TTL overrides the config's for the entry that call stores.
  client.clear_cache();
  (void)run(io, client.list_collections({.bypass_cache = false, .cache_ttl = 5s}));
  EXPECT_EQ(server.request_count("/collections"), 3u);
  clock->advance(4s);
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 3u);
  clock->advance(1s);
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 4u);
}

TEST_F(ServiceClientTest, CacheKeyHoldsTheQueryAndHeaders) {
  QdrantClient client = qdrant({.cache = small_cache()});
  (void)run(io, client.get_json("/collections", {{"page", "1"}}));
  (void)run(io, client.get_json("/collections", {{"page", "2"}}));
  (void)run(io, client.get_json("/collections", {{"page", "1"}}));
  EXPECT_EQ(server.request_count("/collections"), 2u);
  // Header fields for one call go on a request.
  const auto tenant = [] {
    return http::Request::get("/collections").query("page", "1").header("X-Tenant", "acme");
  };
  (void)run(io, client.call_json(tenant()));
  EXPECT_EQ(server.request_count("/collections"), 3u);
  (void)run(io, client.call_json(tenant()));
  EXPECT_EQ(server.request_count("/collections"), 3u);
}

TEST_F(ServiceClientTest, PostsAreCachedOnlyWhenAskedAndByBody) {
  EmbeddingsClient embeddings = openai(api_key, "/v1", {.cache = small_cache()});
  (void)run(io, embeddings.embed("same text"));
  (void)run(io, embeddings.embed("same text"));
  EXPECT_EQ(server.request_count("/v1/embeddings"), 1u) << "create() caches by default";
  (void)run(io, embeddings.embed("other text"));
  EXPECT_EQ(server.request_count("/v1/embeddings"), 2u) << "a different body is another entry";

  QdrantClient client = qdrant({.cache = small_cache()});
  seed(client);
  const std::vector<float> query{1, 0, 0, 0};
  (void)run(io, client.search("docs", query));
  (void)run(io, client.search("docs", query));
  EXPECT_EQ(server.request_count("/collections/docs/points/search"), 2u);
  (void)run(io, client.search("docs", query, {}, {.cache_response = true}));
  (void)run(io, client.search("docs", query, {}, {.cache_response = true}));
  EXPECT_EQ(server.request_count("/collections/docs/points/search"), 3u);
}

TEST_F(ServiceClientTest, ClearCacheMakesTheNextGetReachTheServer) {
  QdrantClient client = qdrant({.cache = small_cache()});
  (void)run(io, client.list_collections());
  client.clear_cache();
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 2u);
  EXPECT_EQ(client.cache_stats()->size, 1u);
}

TEST_F(ServiceClientTest, FailedResponsesAreNotCached) {
  QdrantClient client = qdrant({.cache = small_cache()});
  server.fail_next("/collections", 1, 503);
  const ServiceError error =
      error_of<std::vector<std::string>, ServiceError>(io, client.list_collections());
  EXPECT_EQ(error.code(), errc::server_error);
  EXPECT_EQ(error.status(), 503u);
  EXPECT_EQ(error.service_message(), "injected failure");
  EXPECT_TRUE(run(io, client.list_collections()).empty());
  EXPECT_EQ(server.request_count("/collections"), 2u);
}

TEST_F(ServiceClientTest, WithoutACacheEveryCallReachesTheServer) {
  QdrantClient client = qdrant();
  (void)run(io, client.list_collections());
  (void)run(io, client.list_collections());
  EXPECT_EQ(server.request_count("/collections"), 2u);
  EXPECT_FALSE(client.cache_stats().has_value());
  EXPECT_FALSE(client.stats().cache.has_value());
  client.clear_cache();  // a no-op
}

// --- Statistics ---------------------------------------------------------------------------------

TEST_F(ServiceClientTest, ErrorRateCountsFailedCallsOverTheLifetimeAndTheRecentWindow) {
  QdrantClient client = qdrant({.error_window = 60s, .error_window_buckets = 60});
  server.fail_next("/collections", 3, 503);
  int failures = 0;
  for (int i = 0; i < 10; ++i) {
    try {
      (void)run(io, client.list_collections());
    } catch (const ServiceError&) {
      ++failures;
    }
  }
  EXPECT_EQ(failures, 3);
  ServiceStats stats = client.stats();
  EXPECT_EQ(stats.name, "qdrant");
  EXPECT_EQ(stats.requests, 10u);
  EXPECT_EQ(stats.errors, 3u);
  EXPECT_DOUBLE_EQ(stats.error_rate, 0.3);
  EXPECT_EQ(stats.recent_requests, 10u);
  EXPECT_EQ(stats.recent_errors, 3u);
  EXPECT_DOUBLE_EQ(stats.recent_error_rate, 0.3);
  EXPECT_EQ(stats.window, 60s);

  // A minute later the window has forgotten them; the lifetime counters have not.
  clock->advance(61s);
  (void)run(io, client.list_collections());
  stats = client.stats();
  EXPECT_EQ(stats.recent_requests, 1u);
  EXPECT_EQ(stats.recent_errors, 0u);
  EXPECT_EQ(stats.recent_error_rate, 0.0);
  EXPECT_EQ(stats.requests, 11u);
  EXPECT_EQ(stats.errors, 3u);
}

TEST_F(ServiceClientTest, ConnectionFailuresAndBadBodiesAreErrors) {
  QdrantClient client = qdrant();
  server.route("GET", "/not-json", [](const FakeRequest&) { return FakeReply::text("hello"); });
  const Error bad = error_of(io, client.get_json("/not-json"));
  EXPECT_EQ(bad.code(), errc::protocol_error);
  EXPECT_EQ(bad.client(), "qdrant");
  EXPECT_EQ(bad.operation(), "GET /not-json");

  // Nothing listens on the port of a server that is gone.
  std::string gone_url;
  {
    FakeServer gone;
    gone_url = gone.base_url();
  }
  QdrantClient unreachable(make_http(QdrantClient::http_config(gone_url)), {.clock = clock});
  const Error refused = error_of(io, unreachable.list_collections());
  EXPECT_EQ(refused.code(), errc::connect_failed);
  EXPECT_EQ(unreachable.stats().errors, 1u);
  EXPECT_EQ(client.stats().errors, 1u);
}

TEST_F(ServiceClientTest, ACallItsCallerCancelledIsNotCounted) {
  QdrantClient client = qdrant();
  server.delay(10s);  // the answer never comes in time: only the cancellation ends the call
  asio::cancellation_signal signal;
  std::optional<std::exception_ptr> outcome;
  asio::co_spawn(io, client.list_collections(),
                 asio::bind_cancellation_slot(
                     signal.slot(),
                     [&](std::exception_ptr error, std::vector<std::string>) { outcome = error; }));
  test::run_until(io, [&] { return server.in_flight() == 1; });
  signal.emit(asio::cancellation_type::terminal);
  test::run_until(io, [&] { return outcome.has_value(); });
  ASSERT_TRUE(outcome.has_value() && *outcome);
  try {
    std::rethrow_exception(*outcome);
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code(), errc::cancelled) << error.what();
  }
  const ServiceStats stats = client.stats();
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST_F(ServiceClientTest, EmptySuccessfulBodyIsNull) {
  QdrantClient client = qdrant();
  server.route("DELETE", "/things/{id}", [](const FakeRequest&) {
    FakeReply reply;
    reply.status = 204;
    return reply;
  });
  EXPECT_TRUE(run(io, client.delete_("/things/1")).is_null());
  EXPECT_EQ(client.stats().errors, 0u);
}

// --- Batch
// ----------------------------------------------------------------------------------------

asio::awaitable<std::vector<Result<std::vector<float>>>> embed_all(EmbeddingsClient& client,
                                                                   std::vector<std::string> texts,
                                                                   std::size_t limit) {
  co_return co_await client.batch(
      std::move(texts), [&client](const std::string& text) { return client.embed(text); }, limit);
}

TEST_F(ServiceClientTest, BatchKeepsOrderAndNeverExceedsMaxConcurrency) {
  EmbeddingsClient client = openai();
  server.delay(100ms);  // long enough for the calls of one round to overlap at the server
  std::vector<std::string> texts;
  for (int i = 0; i < 9; ++i) texts.push_back("text " + std::to_string(i));
  const auto results = run(io, embed_all(client, texts, 3));
  ASSERT_EQ(results.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(results[i]) << i << ": " << results[i].error().message();
    EXPECT_EQ(*results[i], as_floats(test::fake_embedding(texts[i], 8))) << i;
  }
  EXPECT_EQ(server.request_count("/v1/embeddings"), 9u);
  EXPECT_LE(server.peak_in_flight(), 3u);
  EXPECT_GE(server.peak_in_flight(), 2u) << "the calls did not overlap at all";
}

asio::awaitable<std::vector<Result<examples::qdrant::SearchResponse>>> search_all(
    QdrantClient& client, std::vector<std::string> collections) {
  co_return co_await client.batch(
      std::move(collections),
      [&client](const std::string& collection) {
        return client.search(collection, {1, 0, 0, 0});
      },
      2);
}

TEST_F(ServiceClientTest, BatchReportsEachItemsErrorWithoutStoppingTheOthers) {
  QdrantClient client = qdrant();
  seed(client);
  const auto results = run(io, search_all(client, {"docs", "missing", "docs", "also-missing"}));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0]);
  EXPECT_EQ(results[1].error(), errc::http_client_error);
  EXPECT_TRUE(results[2]);
  EXPECT_EQ(results[3].error(), errc::http_client_error);
  EXPECT_EQ(results[2]->points.size(), 3u);
  EXPECT_EQ(client.stats().errors, 2u);
}

// --- Health -----------------------------------------------------------------------------------

TEST_F(ServiceClientTest, HealthCheckAgainstHealthyAndFailingPaths) {
  QdrantClient client = qdrant({.health_path = "/healthz", .clock = steady_clock()});
  server.route("GET", "/broken", [](const FakeRequest&) {
    return FakeReply::json(json::object{{"status", "down"}}, 503);
  });
  EXPECT_TRUE(run(io, client.health_check()));

  const HealthCheckResult healthy = run(io, client.check_health("/healthz", 200));
  EXPECT_TRUE(healthy.ok);
  EXPECT_EQ(healthy.status, 200u);
  EXPECT_GT(healthy.latency, Duration::zero());
  EXPECT_TRUE(healthy.error.empty());

  const HealthCheckResult failing = run(io, client.check_health("/broken", 200));
  EXPECT_FALSE(failing.ok);
  EXPECT_EQ(failing.status, 503u);
  EXPECT_EQ(failing.error, "expected status 200, got 503 Service Unavailable");

  const HealthCheckResult other = run(io, client.check_health("/broken", 503));
  EXPECT_TRUE(other.ok) << "the expected status need not be 200";

  EXPECT_EQ(client.stats().requests, 0u) << "health checks are not counted";
}

TEST_F(ServiceClientTest, HealthCheckOfAnUnreachableServiceReportsTheError) {
  std::string gone_url;
  {
    FakeServer gone;
    gone_url = gone.base_url();
  }
  QdrantClient client(make_http(QdrantClient::http_config(gone_url)),
                      {.health_path = "/healthz", .clock = clock});
  EXPECT_FALSE(run(io, client.health_check()));
  const HealthCheckResult result = run(io, client.check_health("/healthz"));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.status, 0u);
  EXPECT_NE(result.error.find("connect"), std::string::npos) << result.error;
}

// --- Client provider -----------------------------------------------------------------------------

TEST_F(ServiceClientTest, ProviderLetsTheOwnerSwapTheClient) {
  FakeServer second;
  test::add_fake_qdrant(second);
  std::shared_ptr<http::Client> current = make_http(QdrantClient::http_config(server.base_url()));
  QdrantClient client([&current] { return current; }, {.name = "qdrant", .clock = clock});

  run(io, client.create_collection("first", {.size = 2}));
  current = make_http(QdrantClient::http_config(second.base_url()));
  EXPECT_TRUE(run(io, client.list_collections()).empty()) << "still talking to the first server";
  EXPECT_EQ(second.request_count("/collections"), 1u);

  current = nullptr;
  const ServiceUnavailable error =
      error_of<std::vector<std::string>, ServiceUnavailable>(io, client.list_collections());
  EXPECT_EQ(error.code(), errc::not_found);
  EXPECT_EQ(error.client(), "qdrant");
}

TEST_F(ServiceClientTest, ConfigIsValidated) {
  try {
    QdrantClient client(ClientProvider([] { return std::shared_ptr<http::Client>(); }),
                        {.cache = CacheConfig{.max_entries = 0}, .error_window_buckets = 0});
    FAIL() << "no exception";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 3u) << error.what();
    EXPECT_EQ(error.issues()[0].path, "service.name");
    EXPECT_EQ(error.issues()[1].path, "service.cache.max_entries");
    EXPECT_EQ(error.issues()[2].path, "service.error_window_buckets");
  }
  EXPECT_THROW(QdrantClient(std::shared_ptr<http::Client>(), {}), ConfigError);
  // The name defaults to the HTTP client's.
  EXPECT_EQ(qdrant().name(), "qdrant");
}

}  // namespace
}  // namespace bulwark
