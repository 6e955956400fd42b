#pragma once
// Stand-ins for the HTTP services the example typed clients talk to, on a `FakeServer`, for the
// integration tests and for the example program (which must run offline):
//
// - `add_fake_qdrant`: the part of Qdrant's REST API the example client uses, over in-memory
//   collections: GET /collections, PUT /collections/{name}, PUT /collections/{name}/points,
//   POST /collections/{name}/points/search (cosine similarity), GET /healthz. Errors have
//   Qdrant's shape: {"status": {"error": "..."}, "time": ...}.
// - `add_fake_openai`: POST {prefix}/embeddings with bearer authentication (401 in OpenAI's error
//   shape without the right key), deterministic vectors (`fake_embedding`).

#include "support/fake_server.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::test {

/// Qdrant-shaped routes over in-memory collections; see the file comment.
void add_fake_qdrant(FakeServer& server);

struct FakeOpenAiOptions {
  /// The key `Authorization: Bearer <key>` must carry.
  std::string api_key = "sk-test";
  /// Prefix of the routes, as in "https://api.openai.com/v1".
  std::string prefix = "/v1";
  /// Vector length when the request does not ask for `dimensions`.
  std::size_t dimensions = 8;
  /// Return `data` in reverse order (each item keeps its `index`), as a client that relies on the
  /// order instead of `index` would get wrong.
  bool reverse_data = false;
};

/// OpenAI-shaped embeddings at `{prefix}/embeddings`; see the file comment.
void add_fake_openai(FakeServer& server, FakeOpenAiOptions options = {});

/// The vector the fake embeddings API returns for `text`: derived from a hash of the text,
/// unit length, the same on every call.
[[nodiscard]] std::vector<double> fake_embedding(std::string_view text, std::size_t dimensions);

}  // namespace bulwark::test
