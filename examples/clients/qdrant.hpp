#pragma once
/// @file
/// A typed client for the REST API of the Qdrant vector database, written on
/// `bulwark::ServiceClient`: it builds the requests, and turns the replies into structs, with a
/// `protocol_error` naming the field when a reply does not have the expected shape. Connection
/// pooling, retries, the circuit breaker, caching and statistics come from the base.
///
///     auto http = std::make_shared<bulwark::http::Client>(
///         executor, examples::qdrant::QdrantClient::http_config("http://localhost:6333"));
///     examples::qdrant::QdrantClient qdrant(http, {.name = "qdrant", .health_path = "/healthz"});
///     co_await qdrant.create_collection("docs", {.size = 384});
///     co_await qdrant.upsert("docs", {{.id = 1u, .vector = embedding, .payload = {{"title",
///     "A"}}}}); auto hits = co_await qdrant.search("docs", {.vector = query, .limit = 5});
///
/// Errors: a status outside 2xx is a `bulwark::ServiceError` carrying Qdrant's message
/// (`{"status": {"error": "Not found: Collection `docs` doesn't exist!"}}`), which the base's
/// `error_message` already reads; see `bulwark::ServiceClient` for the rest.
///
/// Thread-safety and lifetime: as `bulwark::ServiceClient`.

#include <bulwark/core/secret.hpp>
#include <bulwark/http/config.hpp>
#include <bulwark/http/json_field.hpp>
#include <bulwark/http/request.hpp>
#include <bulwark/http/service_client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace examples::qdrant {

/// Qdrant accepts unsigned integers and UUID strings as point IDs.
using PointId = std::variant<std::uint64_t, std::string>;

enum class Distance { cosine, dot, euclid, manhattan };

[[nodiscard]] inline std::string_view to_string(Distance distance) noexcept {
  switch (distance) {
    case Distance::cosine:
      return "Cosine";
    case Distance::dot:
      return "Dot";
    case Distance::euclid:
      return "Euclid";
    case Distance::manhattan:
      return "Manhattan";
  }
  return "Cosine";
}

/// The vectors of a collection.
struct VectorParams {
  std::size_t size = 0;  ///< Dimensions of every vector.
  Distance distance = Distance::cosine;
};

struct Point {
  PointId id{};
  std::vector<float> vector{};
  boost::json::object payload{};  ///< Any JSON stored with the point.
};

/// Trivially copyable, so that it can be written inline in a `co_await` expression (see
/// `bulwark::RequestOptions` for why that matters with GCC 12).
struct SearchOptions {
  std::size_t limit = 10;  ///< Most points returned.
  bool with_payload = true;
  /// Only points scoring at least this; absent = no threshold.
  std::optional<float> score_threshold{};
};
static_assert(std::is_trivially_copyable_v<SearchOptions>);

struct ScoredPoint {
  PointId id{};
  double score = 0.0;
  boost::json::object payload{};  ///< Empty when not requested.
};

/// A search reply: `{"result": [{id, score, payload}], "status": "ok", "time": 0.0012}`.
struct SearchResponse {
  std::vector<ScoredPoint> points{};  ///< Best first.
  std::string status{};
  double time = 0.0;  ///< Seconds the server spent.
};

struct UpdateResult {
  std::uint64_t operation_id = 0;
  std::string status{};  ///< "completed" when the call waited, "acknowledged" otherwise.
};

class QdrantClient : public bulwark::ServiceClient {
 public:
  using ServiceClient::ServiceClient;

  /// A client config for a Qdrant server: its URL, and the `api-key` header when a key is given.
  [[nodiscard]] static bulwark::http::ClientConfig http_config(std::string base_url,
                                                               bulwark::Secret api_key = {}) {
    bulwark::http::ClientConfig config;
    config.name = "qdrant";
    config.base_url = std::move(base_url);
    if (!api_key.empty()) {
      config.auth = {.scheme = bulwark::http::AuthScheme::header,
                     .header_name = "api-key",
                     .token = std::move(api_key)};
    }
    return config;
  }

  /// `GET /collections`: the names of every collection. A GET, so it is cached when the
  /// ServiceClient has a cache.
  boost::asio::awaitable<std::vector<std::string>> list_collections(
      bulwark::RequestOptions options = {}) {
    const boost::json::value body = co_await get_json("/collections", {}, options);
    co_return parse_collections(body, {name(), "list_collections"});
  }

  /// `PUT /collections/{name}`: creates a collection (an error if it exists).
  boost::asio::awaitable<void> create_collection(std::string collection, VectorParams params) {
    const boost::json::value body =
        co_await put_json(collection_path(collection), create_body(params));
    const bulwark::JsonField reply(body, {name(), "create_collection"});
    if (!reply["result"].boolean())
      reply["result"].fail("is false: the collection was not created");
  }

  /// `PUT /collections/{name}/points`: inserts or replaces points; with `wait`, returns once
  /// they are searchable.
  boost::asio::awaitable<UpdateResult> upsert(std::string collection, std::vector<Point> points,
                                              bool wait = true) {
    auto request = bulwark::http::Request::put(collection_path(collection) + "/points")
                       .query("wait", wait ? "true" : "false")
                       .json(upsert_body(std::move(points)));
    const boost::json::value body = co_await call_json(std::move(request), {});
    const bulwark::JsonField result = bulwark::JsonField(body, {name(), "upsert"})["result"];
    co_return UpdateResult{result["operation_id"].uint64(), result["status"].string()};
  }

  /// `POST /collections/{name}/points/search`: the points nearest to `vector`, best first. A
  /// POST, so it is cached only with `request_options.cache_response`.
  boost::asio::awaitable<SearchResponse> search(std::string collection, std::vector<float> vector,
                                                SearchOptions options = {},
                                                bulwark::RequestOptions request_options = {}) {
    const boost::json::value body =
        co_await post_json(collection_path(collection) + "/points/search",
                           search_body(vector, options), request_options);
    co_return parse_search(body, {name(), "search"});
  }

  // Bodies are built and replies read in plain functions: the coroutines above only send. (This
  // also keeps braced initializer lists out of coroutines, which GCC 12 mishandles.)

  [[nodiscard]] static boost::json::object create_body(const VectorParams& params) {
    return {{"vectors", {{"size", params.size}, {"distance", to_string(params.distance)}}}};
  }

  [[nodiscard]] static boost::json::object upsert_body(std::vector<Point> points) {
    boost::json::array items;
    items.reserve(points.size());
    for (Point& point : points) {
      items.push_back(boost::json::object{{"id", to_json(point.id)},
                                          {"vector", to_json(point.vector)},
                                          {"payload", std::move(point.payload)}});
    }
    return {{"points", std::move(items)}};
  }

  [[nodiscard]] static boost::json::object search_body(const std::vector<float>& vector,
                                                       const SearchOptions& options) {
    boost::json::object query{{"vector", to_json(vector)},
                              {"limit", options.limit},
                              {"with_payload", options.with_payload}};
    if (options.score_threshold) query["score_threshold"] = *options.score_threshold;
    return query;
  }

  /// `{"result": {"collections": [{"name": ...}]}}` → names.
  [[nodiscard]] static std::vector<std::string> parse_collections(const boost::json::value& body,
                                                                  bulwark::ErrorContext context) {
    const bulwark::JsonField reply(body, std::move(context));
    std::vector<std::string> names;
    for (const bulwark::JsonField& collection : reply["result"]["collections"].elements()) {
      names.push_back(collection["name"].string());
    }
    return names;
  }

  /// `{"result": [{id, score, payload}], "status", "time"}` → `SearchResponse`.
  [[nodiscard]] static SearchResponse parse_search(const boost::json::value& body,
                                                   bulwark::ErrorContext context) {
    const bulwark::JsonField reply(body, std::move(context));
    SearchResponse out;
    for (const bulwark::JsonField& hit : reply["result"].elements()) {
      ScoredPoint point;
      point.id = point_id(hit["id"]);
      point.score = hit["score"].number();
      if (const auto payload = hit.find("payload")) point.payload = payload->object();
      out.points.push_back(std::move(point));
    }
    out.status = reply["status"].string();
    out.time = reply["time"].number();
    return out;
  }

 private:
  static std::string collection_path(std::string_view collection) {
    return "/collections/" + encode_path_segment(collection);
  }

  static boost::json::value to_json(const PointId& id) {
    return std::visit([](const auto& value) { return boost::json::value(value); }, id);
  }

  static boost::json::array to_json(const std::vector<float>& vector) {
    boost::json::array out;
    out.reserve(vector.size());
    for (const float x : vector) out.push_back(static_cast<double>(x));
    return out;
  }

  static PointId point_id(const bulwark::JsonField& field) {
    if (field.value().is_string()) return field.string();
    if (!field.value().is_number()) {
      field.fail("is neither an unsigned integer nor a UUID string");
    }
    return field.uint64();
  }
};

}  // namespace examples::qdrant
