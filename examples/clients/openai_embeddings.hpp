#pragma once
/// @file
/// A typed client for an OpenAI-style embeddings API (`POST /embeddings`), written on
/// `bulwark::ServiceClient`. The API key is a `bulwark::Secret` sent as a bearer token; it never
/// appears in errors or logs.
///
///     auto http = std::make_shared<bulwark::http::Client>(
///         executor, examples::openai::EmbeddingsClient::http_config(
///                       "https://api.openai.com/v1", bulwark::Secret(key)));
///     examples::openai::EmbeddingsClient openai(
///         http, {.name = "openai", .cache = bulwark::CacheConfig{.max_entries = 10'000}});
///     auto reply = co_await openai.create({.model = "text-embedding-3-small",
///                                          .input = {"first text", "second text"}});
///     // reply.data[i].embedding is the vector of input[i]
///
/// An embedding depends only on the model and the text, so `create` asks for its response to be
/// cached by default (when the ServiceClient has a cache): the same request twice costs one call.
///
/// Errors: a status outside 2xx is a `bulwark::ServiceError` carrying the API's message
/// (`{"error": {"message": "Incorrect API key provided."}}`); a reply without the expected fields
/// is `protocol_error` naming the field (`reply field `data[0].embedding` is missing`).
///
/// Thread-safety and lifetime: as `bulwark::ServiceClient`.

#include <bulwark/core/secret.hpp>
#include <bulwark/http/config.hpp>
#include <bulwark/http/json_field.hpp>
#include <bulwark/http/service_client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace examples::openai {

struct EmbeddingsRequest {
  std::string model = "text-embedding-3-small";
  std::vector<std::string> input{};  ///< One embedding is returned per text, in this order.
  /// Length of the vectors, for models that can shorten them; absent = the model's.
  std::optional<std::size_t> dimensions{};
};

struct Embedding {
  std::size_t index = 0;  ///< Position of its text in `input`.
  std::vector<float> embedding{};
};

struct Usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t total_tokens = 0;
};

/// `{"data": [{"embedding": [...], "index": 0}], "model": "...", "usage": {...}}`.
struct EmbeddingsResponse {
  std::vector<Embedding> data{};  ///< Sorted by `index`: `data[i]` belongs to `input[i]`.
  std::string model{};
  Usage usage{};
};

class EmbeddingsClient : public bulwark::ServiceClient {
 public:
  using ServiceClient::ServiceClient;

  /// A client config for the API at `base_url` ("https://api.openai.com/v1"), authenticating with
  /// `Authorization: Bearer <api_key>`.
  [[nodiscard]] static bulwark::http::ClientConfig http_config(std::string base_url,
                                                               bulwark::Secret api_key) {
    bulwark::http::ClientConfig config;
    config.name = "openai";
    config.base_url = std::move(base_url);
    config.auth = {.scheme = bulwark::http::AuthScheme::bearer, .token = std::move(api_key)};
    return config;
  }

  /// `POST /embeddings`. Cached by default (`cache_response`); pass `{.bypass_cache = true}` to
  /// always reach the API.
  boost::asio::awaitable<EmbeddingsResponse> create(EmbeddingsRequest request,
                                                    bulwark::RequestOptions options = {
                                                        .cache_response = true}) {
    const std::size_t count = request.input.size();
    const boost::json::value body =
        co_await post_json("/embeddings", request_body(std::move(request)), std::move(options));
    co_return parse_embeddings(body, count, {name(), "embeddings"});
  }

  /// The vector of one text.
  boost::asio::awaitable<std::vector<float>> embed(std::string text,
                                                   std::string model = "text-embedding-3-small") {
    EmbeddingsResponse reply = co_await create(one_text(std::move(text), std::move(model)));
    co_return std::move(reply.data.front().embedding);
  }

  // Bodies are built and replies read in plain functions: the coroutines above only send. (This
  // also keeps braced initializer lists out of coroutines, which GCC 12 mishandles.)

  [[nodiscard]] static boost::json::object request_body(EmbeddingsRequest request) {
    boost::json::array input;
    input.reserve(request.input.size());
    for (std::string& text : request.input) input.emplace_back(std::move(text));
    boost::json::object body{{"model", std::move(request.model)}, {"input", std::move(input)}};
    if (request.dimensions) body["dimensions"] = *request.dimensions;
    return body;
  }

  /// The reply to a request of `count` texts, with `data` placed by each item's `index`.
  [[nodiscard]] static EmbeddingsResponse parse_embeddings(const boost::json::value& body,
                                                           std::size_t count,
                                                           bulwark::ErrorContext context) {
    const bulwark::JsonField reply(body, std::move(context));
    const bulwark::JsonField data = reply["data"];
    const std::vector<bulwark::JsonField> items = data.elements();
    if (items.size() != count) {
      data.fail(fmt::format("has {} embeddings for {} inputs", items.size(), count));
    }
    EmbeddingsResponse out;
    out.data.resize(count);
    std::vector<bool> seen(count, false);
    for (const bulwark::JsonField& item : items) {
      const bulwark::JsonField index_field = item["index"];
      const std::uint64_t index = index_field.uint64();
      if (index >= count || seen[index]) {
        index_field.fail(
            fmt::format("is {}, not a distinct position among {} inputs", index, count));
      }
      seen[index] = true;
      out.data[index] = Embedding{static_cast<std::size_t>(index), item["embedding"].floats()};
    }
    out.model = reply["model"].string();
    const bulwark::JsonField usage = reply["usage"];
    out.usage = Usage{usage["prompt_tokens"].uint64(), usage["total_tokens"].uint64()};
    return out;
  }

 private:
  static EmbeddingsRequest one_text(std::string text, std::string model) {
    EmbeddingsRequest request;
    request.model = std::move(model);
    request.input.push_back(std::move(text));
    return request;
  }
};

}  // namespace examples::openai
