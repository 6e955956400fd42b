#include "observe/detail/naming.hpp"

#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "bulwark/core/error.hpp"
#include "bulwark/observe/buckets.hpp"
#include "bulwark/observe/names.hpp"
#include "observe/detail/text.hpp"

namespace bulwark::observe::detail {
namespace {

// Words that name a unit other than the base one. Prometheus stores seconds and bytes; anything
// else forces every query and dashboard to convert, and mixes badly with other exporters.
constexpr std::array<std::string_view, 18> unit_prefixes = {
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo",
    "kibi", "mega", "mebi",  "giga",  "gibi",  "tera", "tebi", "peta",  "pebi"};
constexpr std::array<std::string_view, 2> base_units = {"seconds", "bytes"};
constexpr std::array<std::string_view, 5> other_units = {"minutes", "hours", "days", "weeks",
                                                         "bits"};
constexpr std::array<std::string_view, 18> unit_abbreviations = {
    "s", "ms", "us", "ns", "sec", "secs", "millis", "micros", "nanos",
    "b", "kb", "mb", "gb", "tb",  "pb",   "m",      "h",      "d"};
constexpr std::array<std::string_view, 4> type_words = {"counter", "gauge", "histogram", "summary"};
// Samples of a histogram are named <name>_bucket, <name>_sum and <name>_count. No family may
// end in these, so no family's name can collide with another's samples.
constexpr std::array<std::string_view, 3> sample_suffixes = {"_bucket", "_sum", "_count"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& words, std::string_view word) {
  for (const std::string_view w : words) {
    if (w == word) return true;
  }
  return false;
}

bool is_non_base_unit(std::string_view word) {
  if (contains(other_units, word) || contains(unit_abbreviations, word)) return true;
  for (const std::string_view prefix : unit_prefixes) {
    if (!word.starts_with(prefix)) continue;
    if (contains(base_units, word.substr(prefix.size()))) return true;
  }
  return false;
}

// Prometheus accepts "httpRequests"; its linter and every convention do not.
bool is_camel_case(std::string_view name) {
  for (std::size_t i = 1; i < name.size(); ++i) {
    if (name[i - 1] >= 'a' && name[i - 1] <= 'z' && name[i] >= 'A' && name[i] <= 'Z') return true;
  }
  return false;
}

[[noreturn]] void reject(const FamilyDefinition& definition, std::string_view why) {
  throw_invalid_argument(fmt::format("metric \"{}\": {}", definition.name, why));
}

template <class Values>
void check_values(const FamilyDefinition& definition, const Values& values) {
  for (const auto& value : values) {
    if (!is_valid_utf8(value)) reject(definition, "a label value is not valid UTF-8");
  }
}

void check_name(const FamilyDefinition& definition) {
  const std::string& name = definition.name;
  if (!is_valid_metric_name(name)) reject(definition, "not a valid metric name");
  if (name.find(':') != std::string::npos) {
    reject(definition, "':' is reserved for recording rules");
  }
  if (is_camel_case(name)) reject(definition, "use snake_case, not camelCase");
  const bool is_counter = definition.type == MetricType::counter;
  if (is_counter && !name.ends_with("_total")) {
    reject(definition, "a counter's name must end in \"_total\"");
  }
  if (!is_counter && name.ends_with("_total")) {
    reject(definition, "only a counter's name may end in \"_total\"");
  }
  for (const std::string_view suffix : sample_suffixes) {
    if (name.ends_with(suffix)) {
      reject(definition, fmt::format("\"{}\" is the suffix of histogram samples", suffix));
    }
  }
  std::string_view rest = name;
  while (!rest.empty()) {
    const std::size_t end = rest.find('_');
    const std::string_view word = rest.substr(0, end);
    if (is_non_base_unit(word)) {
      reject(definition, fmt::format("\"{}\" is not a base unit (use seconds or bytes)", word));
    }
    if (contains(type_words, word)) {
      reject(definition, fmt::format("the metric type (\"{}\") does not belong in the name", word));
    }
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  }
}

void check_labels(const FamilyDefinition& definition) {
  const std::vector<std::string>& labels = definition.label_names;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i];
    if (!is_valid_label_name(label)) {
      reject(definition, fmt::format("\"{}\" is not a valid label name", label));
    }
    if (is_camel_case(label)) {
      reject(definition, fmt::format("label \"{}\": use snake_case, not camelCase", label));
    }
    if (label == "le" || label == "quantile") {
      reject(definition,
             fmt::format("label \"{}\" is reserved for histograms and summaries", label));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j] == label) reject(definition, fmt::format("label \"{}\" appears twice", label));
    }
  }
}

}  // namespace

void throw_invalid_argument(const std::string& detail) {
  throw Error(make_error_code(errc::invalid_argument), {}, detail);
}

void check_definition(const FamilyDefinition& definition) {
  check_name(definition);
  if (definition.help.empty()) reject(definition, "HELP text must not be empty");
  check_labels(definition);
}

void check_label_values(const FamilyDefinition& definition,
                        std::span<const std::string_view> values) {
  check_values(definition, values);
}

void check_label_values(const FamilyDefinition& definition, std::span<const std::string> values) {
  check_values(definition, values);
}

std::vector<double> checked_bounds(std::vector<double> bounds) {
  if (bounds.empty()) return default_latency_buckets();
  if (std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw_invalid_argument(fmt::format("histogram bucket bound {} is not finite", bounds[i]));
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw_invalid_argument(
          fmt::format("histogram bucket bounds must be strictly ascending, got {} after {}",
                      bounds[i], bounds[i - 1]));
    }
  }
  return bounds;
}

}  // namespace bulwark::observe::detail
