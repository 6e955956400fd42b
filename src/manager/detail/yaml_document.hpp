#pragma once
// Loading the one YAML document of a configuration file.
//
// Not YAML::LoadAll: yaml-cpp 0.7 loops without end, allocating a new empty document each turn,
// when a ',' stands where a document-level node should start ("- a\n," or "'x' ,"), until memory
// runs out. Documents are counted here one at a time, up to two, which bounds that loop.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

namespace bulwark::detail {

struct LoadedDocument {
  /// The first document; null when the text holds none (only comments or nothing).
  YAML::Node root{};
  /// 0, 1, or 2 meaning "more than one" (or trailing text yaml-cpp reads as another document).
  std::size_t documents = 0;
};

/// Parses `text`. Throws `YAML::Exception` (with the mark of the problem) for syntax errors.
[[nodiscard]] LoadedDocument load_document(const std::string& text);

}  // namespace bulwark::detail
