#include "soak_metrics.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace bulwark::soak {

namespace {

struct Label {
  std::string_view name;
  std::string_view value;
};

// Labels of `{a="x",b="y"}` (the braces excluded). The manager's label values are client names
// and state words: no escaped quotes to honour.
std::vector<Label> parse_labels(std::string_view text) {
  std::vector<Label> labels;
  while (!text.empty()) {
    const std::size_t equals = text.find("=\"");
    if (equals == std::string_view::npos) break;
    const std::size_t close = text.find('"', equals + 2);
    if (close == std::string_view::npos) break;
    labels.push_back({text.substr(0, equals), text.substr(equals + 2, close - equals - 2)});
    text.remove_prefix(close + 1);
    if (!text.empty() && text.front() == ',') text.remove_prefix(1);
  }
  return labels;
}

}  // namespace

std::map<std::string, std::uint64_t> client_samples(std::string_view exposition,
                                                    std::string_view family,
                                                    std::string_view client) {
  std::map<std::string, std::uint64_t> samples;
  while (!exposition.empty()) {
    const std::size_t end = exposition.find('\n');
    const std::string_view line = exposition.substr(0, end);
    exposition.remove_prefix(end == std::string_view::npos ? exposition.size() : end + 1);
    if (!line.starts_with(family) || line.size() <= family.size() || line[family.size()] != '{') {
      continue;
    }
    const std::size_t close = line.find('}');
    if (close == std::string_view::npos) continue;
    std::string key;
    bool ours = false;
    for (const Label& label :
         parse_labels(line.substr(family.size() + 1, close - family.size() - 1))) {
      if (label.name == "client") {
        ours = label.value == client;
        continue;
      }
      if (!key.empty()) key += ',';
      key.append(label.name).append("=").append(label.value);
    }
    if (!ours) continue;
    // Counters are exposed as integers or as floats ("12" or "1.2e+01"); read as a double.
    const std::string_view number = line.substr(close + 2);
    double value = 0;
    const auto parsed = std::from_chars(number.data(), number.data() + number.size(), value);
    if (parsed.ec == std::errc()) samples[key] += static_cast<std::uint64_t>(value);
  }
  return samples;
}

std::map<std::string, std::uint64_t> breaker_transitions(std::string_view exposition,
                                                         std::string_view client) {
  // The value of label `name` in a key "a=x,b=y".
  const auto label = [](std::string_view key, std::string_view name) {
    for (std::size_t at = 0; at < key.size();) {
      const std::size_t comma = std::min(key.find(',', at), key.size());
      const std::string_view pair = key.substr(at, comma - at);
      if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
        return pair.substr(name.size() + 1);
      }
      at = comma + 1;
    }
    return std::string_view();
  };
  std::map<std::string, std::uint64_t> out;
  for (const auto& [key, value] :
       client_samples(exposition, "bulwark_circuit_breaker_transitions_total", client)) {
    out[std::string(label(key, "from")).append("->").append(label(key, "to"))] += value;
  }
  return out;
}

std::uint64_t retries(std::string_view exposition, std::string_view client) {
  std::uint64_t total = 0;
  for (const auto& [labels, value] : client_samples(exposition, "bulwark_retries_total", client)) {
    total += value;
  }
  return total;
}

}  // namespace bulwark::soak
