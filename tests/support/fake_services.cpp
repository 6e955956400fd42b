#include "support/fake_services.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

namespace bulwark::test {
namespace {

namespace json = boost::json;

// --- Qdrant --------------------------------------------------------------------------------------

struct StoredPoint {
  json::value id;
  std::vector<double> vector;
  json::value payload;
};

struct Collection {
  std::size_t size = 0;
  std::string distance;
  std::map<std::string, StoredPoint> points;  // by serialized id
  std::uint64_t operations = 0;
};

struct QdrantState {
  // Handlers run on the server's one thread; the lock keeps the state safe without relying on it.
  std::mutex mutex;
  std::map<std::string, Collection> collections;
};

FakeReply qdrant_ok(json::value result) {
  return FakeReply::json({{"result", std::move(result)}, {"status", "ok"}, {"time", 0.000125}});
}

FakeReply qdrant_error(unsigned status, std::string message) {
  return FakeReply::json({{"status", {{"error", std::move(message)}}}, {"time", 0.0}}, status);
}

std::optional<std::vector<double>> numbers(const json::value* value) {
  if (value == nullptr || !value->is_array()) return std::nullopt;
  std::vector<double> out;
  for (const json::value& item : value->get_array()) {
    if (!item.is_number()) return std::nullopt;
    out.push_back(item.to_number<double>());
  }
  return out;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0;
  double na = 0;
  double nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na == 0 || nb == 0 ? 0.0 : dot / std::sqrt(na * nb);
}

std::optional<json::value> parse_body(const FakeRequest& request) {
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec) return std::nullopt;
  return body;
}

FakeReply qdrant_create(QdrantState& state, const FakeRequest& request) {
  const std::string name = request.param("name");
  const auto body = parse_body(request);
  const json::object* object = body ? body->if_object() : nullptr;
  const json::value* vectors = object ? object->if_contains("vectors") : nullptr;
  const json::value* size =
      vectors && vectors->is_object() ? vectors->get_object().if_contains("size") : nullptr;
  if (size == nullptr || !size->is_number()) {
    return qdrant_error(400, "Wrong input: missing field `vectors.size`");
  }
  std::lock_guard lock(state.mutex);
  if (state.collections.contains(name)) {
    return qdrant_error(400, fmt::format("Wrong input: Collection `{}` already exists!", name));
  }
  Collection& collection = state.collections[name];
  collection.size = size->to_number<std::size_t>();
  const json::value* distance = vectors->get_object().if_contains("distance");
  collection.distance =
      distance && distance->is_string() ? std::string(distance->get_string()) : "Cosine";
  return qdrant_ok(true);
}

FakeReply qdrant_upsert(QdrantState& state, const FakeRequest& request) {
  const std::string name = request.param("name");
  const auto body = parse_body(request);
  const json::object* object = body ? body->if_object() : nullptr;
  const json::value* points = object ? object->if_contains("points") : nullptr;
  if (points == nullptr || !points->is_array()) {
    return qdrant_error(400, "Wrong input: missing field `points`");
  }
  std::lock_guard lock(state.mutex);
  const auto found = state.collections.find(name);
  if (found == state.collections.end()) {
    return qdrant_error(404, fmt::format("Not found: Collection `{}` doesn't exist!", name));
  }
  Collection& collection = found->second;
  std::vector<StoredPoint> accepted;
  for (const json::value& point : points->get_array()) {
    const json::object* fields = point.if_object();
    const json::value* id = fields ? fields->if_contains("id") : nullptr;
    const auto vector = numbers(fields ? fields->if_contains("vector") : nullptr);
    if (id == nullptr || !vector) {
      return qdrant_error(400, "Wrong input: every point needs `id` and `vector`");
    }
    if (vector->size() != collection.size) {
      return qdrant_error(400, fmt::format("Wrong input: Vector dimension error: expected dim: {}, "
                                           "got {}",
                                           collection.size, vector->size()));
    }
    const json::value* payload = fields->if_contains("payload");
    accepted.push_back({*id, *vector, payload ? *payload : json::object{}});
  }
  for (StoredPoint& point : accepted) {
    collection.points[json::serialize(point.id)] = std::move(point);
  }
  return qdrant_ok({{"operation_id", collection.operations++}, {"status", "completed"}});
}

FakeReply qdrant_search(QdrantState& state, const FakeRequest& request) {
  const std::string name = request.param("name");
  const auto body = parse_body(request);
  const json::object* object = body ? body->if_object() : nullptr;
  const auto query = numbers(object ? object->if_contains("vector") : nullptr);
  if (!query) return qdrant_error(400, "Wrong input: missing field `vector`");
  const json::value* limit_field = object->if_contains("limit");
  const std::size_t limit =
      limit_field && limit_field->is_number() ? limit_field->to_number<std::size_t>() : 10;
  const json::value* with_payload_field = object->if_contains("with_payload");
  const bool with_payload =
      with_payload_field && with_payload_field->is_bool() ? with_payload_field->get_bool() : false;
  const json::value* threshold_field = object->if_contains("score_threshold");
  const std::optional<double> threshold =
      threshold_field && threshold_field->is_number()
          ? std::optional<double>(threshold_field->to_number<double>())
          : std::nullopt;

  std::lock_guard lock(state.mutex);
  const auto found = state.collections.find(name);
  if (found == state.collections.end()) {
    return qdrant_error(404, fmt::format("Not found: Collection `{}` doesn't exist!", name));
  }
  if (query->size() != found->second.size) {
    return qdrant_error(400, fmt::format("Wrong input: Vector dimension error: expected dim: {}, "
                                         "got {}",
                                         found->second.size, query->size()));
  }
  std::vector<std::pair<double, const StoredPoint*>> scored;
  for (const auto& [key, point] : found->second.points) {
    const double score = cosine(*query, point.vector);
    if (!threshold || score >= *threshold) scored.emplace_back(score, &point);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  json::array result;
  for (std::size_t i = 0; i < scored.size() && i < limit; ++i) {
    json::object hit{{"id", scored[i].second->id}, {"version", 0}, {"score", scored[i].first}};
    hit["payload"] = with_payload ? scored[i].second->payload : json::value(nullptr);
    result.push_back(std::move(hit));
  }
  return qdrant_ok(std::move(result));
}

// --- OpenAI --------------------------------------------------------------------------------------

FakeReply openai_error(unsigned status, std::string message, std::string_view type,
                       std::string_view code) {
  json::object error{{"message", std::move(message)}, {"type", type}, {"param", nullptr}};
  error["code"] = code.empty() ? json::value(nullptr) : json::value(code);
  return FakeReply::json({{"error", std::move(error)}}, status);
}

std::size_t word_count(std::string_view text) {
  std::istringstream words{std::string(text)};
  std::size_t count = 0;
  for (std::string word; words >> word;) ++count;
  return std::max<std::size_t>(count, 1);
}

FakeReply openai_embeddings(const FakeOpenAiOptions& options, const FakeRequest& request) {
  const auto authorization = request.header("Authorization");
  if (!authorization || *authorization != "Bearer " + options.api_key) {
    return openai_error(401, "Incorrect API key provided.", "invalid_request_error",
                        "invalid_api_key");
  }
  const auto body = parse_body(request);
  const json::object* object = body ? body->if_object() : nullptr;
  if (object == nullptr) {
    return openai_error(400, "We could not parse the JSON body of your request.",
                        "invalid_request_error", "");
  }
  const json::value* model = object->if_contains("model");
  if (model == nullptr || !model->is_string()) {
    return openai_error(400, "you must provide a model parameter", "invalid_request_error", "");
  }
  std::vector<std::string> inputs;
  const json::value* input = object->if_contains("input");
  if (input != nullptr && input->is_string()) {
    inputs.emplace_back(input->get_string());
  } else if (input != nullptr && input->is_array()) {
    for (const json::value& item : input->get_array()) {
      if (!item.is_string()) {
        return openai_error(400, "'input' must be a string or an array of strings",
                            "invalid_request_error", "");
      }
      inputs.emplace_back(item.get_string());
    }
  }
  if (inputs.empty()) {
    return openai_error(400, "'input' is a required property", "invalid_request_error", "");
  }
  const json::value* dimensions_field = object->if_contains("dimensions");
  const std::size_t dimensions = dimensions_field && dimensions_field->is_number()
                                     ? dimensions_field->to_number<std::size_t>()
                                     : options.dimensions;
  json::array data;
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    json::array vector;
    for (const double x : fake_embedding(inputs[i], dimensions)) vector.push_back(x);
    data.push_back(json::object{{"object", "embedding"}, {"index", i}, {"embedding", vector}});
    tokens += word_count(inputs[i]);
  }
  if (options.reverse_data) std::reverse(data.begin(), data.end());
  return FakeReply::json({{"object", "list"},
                          {"data", std::move(data)},
                          {"model", model->get_string()},
                          {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

}  // namespace

void add_fake_qdrant(FakeServer& server) {
  auto state = std::make_shared<QdrantState>();
  server.route("GET", "/healthz",
               [](const FakeRequest&) { return FakeReply::text("healthz check passed"); });
  server.route("GET", "/collections", [state](const FakeRequest&) {
    json::array names;
    std::lock_guard lock(state->mutex);
    for (const auto& [name, collection] : state->collections) {
      names.push_back(json::object{{"name", name}});
    }
    return qdrant_ok({{"collections", std::move(names)}});
  });
  server.route("PUT", "/collections/{name}",
               [state](const FakeRequest& request) { return qdrant_create(*state, request); });
  server.route("PUT", "/collections/{name}/points",
               [state](const FakeRequest& request) { return qdrant_upsert(*state, request); });
  server.route("POST", "/collections/{name}/points/search",
               [state](const FakeRequest& request) { return qdrant_search(*state, request); });
}

void add_fake_openai(FakeServer& server, FakeOpenAiOptions options) {
  const std::string path = options.prefix + "/embeddings";
  server.route("POST", path, [options = std::move(options)](const FakeRequest& request) {
    return openai_embeddings(options, request);
  });
}

std::vector<double> fake_embedding(std::string_view text, std::size_t dimensions) {
  // FNV-1a of the text seeds splitmix64; the values are then scaled to unit length.
  std::uint64_t seed = 14695981039346656037ULL;
  for (const char c : text) {
    seed ^= static_cast<unsigned char>(c);
    seed *= 1099511628211ULL;
  }
  std::vector<double> out(dimensions);
  double norm = 0;
  for (double& x : out) {
    seed += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    x = static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53) * 2.0 - 1.0;
    norm += x * x;
  }
  norm = std::sqrt(norm);
  if (norm > 0) {
    for (double& x : out) x /= norm;
  }
  return out;
}

}  // namespace bulwark::test
