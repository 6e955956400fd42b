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
///         http, {.name = "openai", .cache = bulwark::CacheConfig{.max_entries = 10'000}},
///         "text-embedding-3-small");
///     std::vector<std::string> texts{"first text", "second text"};
///     auto reply = co_await openai.create(texts);
///     // reply.data[i].embedding is the vector of texts[i]
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
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace examples::openai {

/// Trivially copyable, so that it can be written inline in a `co_await` expression (see
/// `bulwark::RequestOptions` for why that matters with GCC 12).
struct EmbeddingOptions {
  /// Length of the vectors, for models that can shorten them; absent = the model's.
  std::optional<std::size_t> dimensions{};
};
static_assert(std::is_trivially_copyable_v<EmbeddingOptions>);

struct Embedding {
  std::size_t index = 0;  ///< Position of its text in the input.
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
  static constexpr const char* default_model = "text-embedding-3-small";

  /// `model` is sent with every request.
  explicit EmbeddingsClient(std::shared_ptr<bulwark::http::Client> client,
                            bulwark::ServiceClientConfig config = {},
                            std::string model = default_model)
      : ServiceClient(std::move(client), std::move(config)), model_(std::move(model)) {}
  EmbeddingsClient(bulwark::ClientProvider provider, bulwark::ServiceClientConfig config,
                   std::string model = default_model)
      : ServiceClient(std::move(provider), std::move(config)), model_(std::move(model)) {}

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

  [[nodiscard]] const std::string& model() const noexcept { return model_; }

  /// `POST /embeddings` for every text of `input`. Cached by default (`cache_response`); pass
  /// `{.bypass_cache = true}` as `request_options` to always reach the API.
  boost::asio::awaitable<EmbeddingsResponse> create(std::vector<std::string> input,
                                                    EmbeddingOptions options = {},
                                                    bulwark::RequestOptions request_options = {
                                                        .cache_response = true}) {
    const std::size_t count = input.size();
    const boost::json::value body = co_await post_json(
        "/embeddings", request_body(model_, std::move(input), options), request_options);
    co_return parse_embeddings(body, count, {name(), "embeddings"});
  }

  /// The vector of one text.
  boost::asio::awaitable<std::vector<float>> embed(std::string text) {
    std::vector<std::string> input;
    input.push_back(std::move(text));
    EmbeddingsResponse reply = co_await create(std::move(input));
    co_return std::move(reply.data.front().embedding);
  }

  // The body is built and the reply read in plain functions: the coroutines above only send.
  // (This also keeps braced initializer lists out of coroutines, which GCC 12 mishandles.)

  [[nodiscard]] static boost::json::object request_body(const std::string& model,
                                                        std::vector<std::string> input,
                                                        const EmbeddingOptions& options) {
    boost::json::array texts;
    texts.reserve(input.size());
    for (std::string& text : input) texts.emplace_back(std::move(text));
    boost::json::object body{{"model", model}, {"input", std::move(texts)}};
    if (options.dimensions) body["dimensions"] = *options.dimensions;
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
  std::string model_;
};

}  // namespace examples::openai
