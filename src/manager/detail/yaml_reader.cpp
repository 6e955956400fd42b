#include "manager/detail/yaml_reader.hpp"

#include "manager/detail/env_expand.hpp"
#include "manager/detail/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace bulwark::detail {
namespace {

// Shorter secrets are not scrubbed: replacing every "1" or "on" in the messages would garble
// them, and such values protect nothing anyway.
constexpr std::size_t shortest_scrubbed_secret = 4;

constexpr std::array<std::string_view, 7> secret_name_words = {
    "KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "CREDENTIAL"};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  for (std::size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

// A quoted excerpt of a file value: long values are cut, so that a message stays readable.
std::string quote(std::string_view text) {
  constexpr std::size_t limit = 60;
  if (text.size() <= limit) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\"", text.substr(0, limit));
}

std::string join(std::span<const std::string> names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

struct ByteUnit {
  std::string_view name;
  std::int64_t size;
};

constexpr std::int64_t kilo = 1000;
constexpr std::int64_t kibi = 1024;
constexpr std::array<ByteUnit, 7> byte_units = {{{"B", 1},
                                                 {"KB", kilo},
                                                 {"MB", kilo* kilo},
                                                 {"GB", kilo* kilo* kilo},
                                                 {"KiB", kibi},
                                                 {"MiB", kibi* kibi},
                                                 {"GiB", kibi* kibi* kibi}}};

}  // namespace

std::optional<std::string> LoadContext::variable(std::string_view name) const {
  if (!environment_) return std::nullopt;
  std::optional<std::string> value = environment_(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

void LoadContext::add_issue(std::string path, std::string message) {
  if (issues_.size() >= max_stored_issues) {
    dropped_ = true;
    return;
  }
  issues_.push_back({std::move(path), std::move(message)});
}

bool LoadContext::has_issue_at(std::string_view path) const noexcept {
  return std::any_of(issues_.begin(), issues_.end(),
                     [&](const ConfigIssue& issue) { return issue.path == path; });
}

void LoadContext::add_secret(std::string_view value) {
  if (value.size() < shortest_scrubbed_secret) return;
  if (std::find(secrets_.begin(), secrets_.end(), value) == secrets_.end()) {
    secrets_.emplace_back(value);
  }
}

void LoadContext::note_variables(const std::vector<std::pair<std::string, std::string>>& used) {
  for (const auto& [name, value] : used) {
    const std::string spelled = upper(name);
    for (const std::string_view word : secret_name_words) {
      if (spelled.find(word) != std::string::npos) {
        add_secret(value);
        break;
      }
    }
  }
}

bool LoadContext::charge(std::size_t units) {
  if (exhausted_) return false;
  work_ += units;
  if (work_ <= max_work) return true;
  exhausted_ = true;
  add_issue("", "the configuration is too large once its aliases are expanded; reading stopped");
  return false;
}

std::vector<ConfigIssue> LoadContext::take_issues() {
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::vector<ConfigIssue> out;
  for (ConfigIssue& issue : issues_) {
    for (const std::string& secret : secrets_) {
      replace_all(issue.path, secret, Secret::redacted);
      replace_all(issue.message, secret, Secret::redacted);
    }
    const bool seen = std::any_of(out.begin(), out.end(), [&](const ConfigIssue& other) {
      return other.path == issue.path && other.message == issue.message;
    });
    if (seen) continue;
    if (out.size() == max_issues) {
      dropped_ = true;
      break;
    }
    out.push_back(std::move(issue));
  }
  if (dropped_) out.push_back({"", "too many problems; the rest are not listed"});
  issues_.clear();
  return out;
}

std::string_view describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

YamlMap::YamlMap(LoadContext& context, const YAML::Node& node, std::string path, Origins* origins,
                 std::string field_prefix)
    : context_(&context),
      path_(std::move(path)),
      origins_(origins),
      field_prefix_(std::move(field_prefix)) {
  if (!node.IsDefined()) return;
  present_ = true;
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    context.add_issue(path_, fmt::format("expected a map, got {}", describe_node(node)));
    return;
  }
  if (!context.charge(node.size() + 1)) return;
  entries_.reserve(node.size());
  std::vector<YAML::Node> merges;
  add_entries(node, false, merges);
  // Merge keys (`<<: *base`, `<<: [*a, *b]`), which yaml-cpp leaves to the reader: the keys of
  // those maps that this map does not set itself; earlier maps win over later ones. A merged map
  // may merge others in turn, hence the queue, and the cap (an anchor can merge itself).
  for (std::size_t i = 0; i < merges.size(); ++i) {
    if (i == max_merges) {
      context.add_issue(path_of("<<"), fmt::format("more than {} merged maps", max_merges));
      break;
    }
    const YAML::Node source = merges[i];
    if (source.IsMap()) {
      if (!context.charge(source.size() + 1)) return;
      add_entries(source, true, merges);
    } else if (source.IsSequence() && source.size() <= max_merges) {
      for (const YAML::Node& item : source) {
        if (!item.IsMap()) {
          context.add_issue(path_of("<<"), "expected a map or a list of maps");
          continue;
        }
        if (!context.charge(item.size() + 1)) return;
        add_entries(item, true, merges);
      }
    } else {
      context.add_issue(path_of("<<"), "expected a map or a list of maps");
    }
  }
}

void YamlMap::add_entries(const YAML::Node& node, bool merged, std::vector<YAML::Node>& merges) {
  for (const auto& pair : node) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      context_->add_issue(path_, fmt::format("keys must be plain names; the key at line {} is {}",
                                             key.Mark().line + 1, describe_node(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (name == "<<") {
      merges.push_back(pair.second);
      continue;
    }
    const auto [where, inserted] = index_.emplace(name, entries_.size());
    if (!inserted) {
      // A merged key is overridden by the map's own (or an earlier merge): that is the point.
      if (!merged) {
        context_->add_issue(path_of(name),
                            fmt::format("duplicate key (first at line {})",
                                        entries_[where->second].value.Mark().line + 1));
      }
      continue;
    }
    entries_.push_back({name, pair.second, false});
  }
}

std::string YamlMap::path_of(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return fmt::format("{}.{}", path_, key);
}

std::string YamlMap::field_of(std::string_view key, std::string_view field) const {
  if (!field.empty()) return std::string(field);
  if (field_prefix_.empty()) return std::string(key);
  return fmt::format("{}.{}", field_prefix_, key);
}

YAML::Node YamlMap::get(std::string_view key) {
  if (std::find(asked_.begin(), asked_.end(), key) == asked_.end()) asked_.emplace_back(key);
  const auto found = index_.find(std::string(key));
  if (found == index_.end()) return YAML::Node(YAML::NodeType::Undefined);
  Entry& entry = entries_[found->second];
  entry.known = true;
  return entry.value;
}

YamlMap YamlMap::map(std::string_view key, std::string_view field_prefix) {
  const YAML::Node node = get(key);
  const std::string prefix = field_of(key, field_prefix);
  if (node.IsDefined() && origins_ != nullptr) (*origins_)[prefix] = path_of(key);
  return YamlMap(*context_, node, path_of(key), origins_, prefix);
}

std::vector<std::pair<std::string, YAML::Node>> YamlMap::entries() {
  std::vector<std::pair<std::string, YAML::Node>> out;
  out.reserve(entries_.size());
  for (Entry& entry : entries_) {
    entry.known = true;
    out.emplace_back(entry.key, entry.value);
  }
  return out;
}

void YamlMap::ignore_prefixed(std::string_view prefix) {
  for (Entry& entry : entries_) {
    if (entry.key.starts_with(prefix)) entry.known = true;
  }
}

void YamlMap::record(std::string_view key, std::string_view field) {
  if (origins_ != nullptr) (*origins_)[field_of(key, field)] = path_of(key);
}

std::optional<ScalarValue> YamlMap::expect_scalar(std::string_view key, std::string_view expected,
                                                  std::string_view field, bool report_missing) {
  const YAML::Node node = get(key);
  if (!node.IsDefined()) return std::nullopt;
  record(key, field);
  if (!node.IsScalar()) {
    context_->add_issue(path_of(key),
                        fmt::format("expected {}, got {}", expected, describe_node(node)));
    return std::nullopt;
  }
  const std::string& raw = node.Scalar();
  if (!context_->charge(raw.size() + 1)) return std::nullopt;
  Expansion expansion = expand_environment(raw, context_->environment());
  context_->note_variables(expansion.used);
  if (expansion.error) {
    context_->add_issue(path_of(key), *expansion.error);
    return std::nullopt;
  }
  if (report_missing) {
    for (const std::string& name : expansion.missing) {
      context_->add_issue(path_of(key), fmt::format("environment variable {} is not set", name));
    }
    if (!expansion.missing.empty()) return std::nullopt;
  }
  ScalarValue out;
  out.from_environment = expansion.substituted;
  out.shown = expansion.substituted
                  ? fmt::format("{} (value from the environment not shown)", quote(raw))
                  : quote(expansion.value);
  out.value = std::move(expansion.value);
  out.missing = std::move(expansion.missing);
  return out;
}

std::optional<ScalarValue> YamlMap::scalar(std::string_view key, std::string_view field,
                                           bool report_missing) {
  return expect_scalar(key, "a single value", field, report_missing);
}

bool YamlMap::string(std::string_view key, std::string& target, std::string_view field) {
  std::optional<ScalarValue> value = expect_scalar(key, "a string", field);
  if (!value) return false;
  target = std::move(value->value);
  return true;
}

bool YamlMap::secret(std::string_view key, Secret& target, std::string_view field) {
  std::optional<ScalarValue> value = expect_scalar(key, "a string", field);
  if (!value) return false;
  context_->add_secret(value->value);
  target = Secret(std::move(value->value));
  return true;
}

bool YamlMap::duration(std::string_view key, Duration& target, std::string_view field) {
  const std::optional<ScalarValue> value =
      expect_scalar(key, "a duration (e.g. 250ms, 10s, 1m30s)", field);
  if (!value) return false;
  std::string error;
  const std::optional<Duration> parsed = try_parse_duration(value->value, &error);
  if (!parsed) {
    // The parser's sentence quotes the text; say it only when the text is the file's own.
    context_->add_issue(
        path_of(key),
        !value->from_environment
            ? error
            : fmt::format("expected a duration (e.g. 250ms, 10s), got {}", value->shown));
    return false;
  }
  target = *parsed;
  return true;
}

bool YamlMap::boolean(std::string_view key, bool& target, std::string_view field) {
  const std::optional<ScalarValue> value = expect_scalar(key, "true or false", field);
  if (!value) return false;
  const std::string spelled = lower(value->value);
  if (spelled == "true" || spelled == "yes" || spelled == "on") {
    target = true;
  } else if (spelled == "false" || spelled == "no" || spelled == "off") {
    target = false;
  } else {
    context_->add_issue(path_of(key), fmt::format("expected true or false, got {}", value->shown));
    return false;
  }
  return true;
}

bool YamlMap::number(std::string_view key, double& target, std::string_view field) {
  const std::optional<ScalarValue> value = expect_scalar(key, "a number", field);
  if (!value) return false;
  const std::string& text = value->value;
  double parsed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
      !std::isfinite(parsed)) {
    context_->add_issue(path_of(key), fmt::format("expected a number, got {}", value->shown));
    return false;
  }
  target = parsed;
  return true;
}

bool YamlMap::fraction(std::string_view key, double& target, std::string_view field) {
  const std::optional<ScalarValue> value =
      expect_scalar(key, "a fraction (e.g. 0.5 or 50%)", field);
  if (!value) return false;
  std::string_view text = value->value;
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  double parsed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
      !std::isfinite(parsed)) {
    context_->add_issue(path_of(key),
                        fmt::format("expected a fraction (e.g. 0.5 or 50%), got {}", value->shown));
    return false;
  }
  target = percent ? parsed / 100.0 : parsed;
  return true;
}

bool YamlMap::read_integer(std::string_view key, std::int64_t& value, std::int64_t min,
                           std::int64_t max, bool with_units, std::string_view field) {
  const std::optional<ScalarValue> scalar = expect_scalar(
      key, with_units ? "a size in bytes (e.g. 65536, 64KiB, 10MB)" : "a whole number", field);
  if (!scalar) return false;
  std::string_view text = scalar->value;
  std::int64_t unit = 1;
  if (with_units) {
    for (const ByteUnit& candidate : byte_units) {
      if (text.size() > candidate.name.size() && text.ends_with(candidate.name) &&
          std::isdigit(static_cast<unsigned char>(text[text.size() - candidate.name.size() - 1]))) {
        unit = candidate.size;
        text.remove_suffix(candidate.name.size());
        break;
      }
    }
  }
  std::int64_t parsed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  const bool whole = !text.empty() && end == text.data() + text.size();
  if (!whole || (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    context_->add_issue(
        path_of(key),
        fmt::format("expected {}, got {}",
                    with_units ? "a size in bytes (e.g. 64KiB)" : "a whole number", scalar->shown));
    return false;
  }
  const bool negative = text.front() == '-';
  if ((ec == std::errc{} && parsed < min) || (ec != std::errc{} && negative)) {
    context_->add_issue(path_of(key), fmt::format("must be >= {}, got {}", min, scalar->shown));
    return false;
  }
  if (ec != std::errc{} || parsed > max / unit) {
    context_->add_issue(path_of(key), fmt::format("must be <= {}, got {}", max, scalar->shown));
    return false;
  }
  value = parsed * unit;
  return true;
}

std::optional<std::size_t> YamlMap::read_choice(std::string_view key,
                                                std::span<const std::string> names,
                                                std::string_view field) {
  const std::optional<ScalarValue> value =
      expect_scalar(key, fmt::format("one of {}", join(names)), field);
  if (!value) return std::nullopt;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == value->value) return i;
  }
  std::string message = fmt::format("must be one of {}; got {}", join(names), value->shown);
  if (!value->from_environment) {
    if (const auto suggestion = closest_match(value->value, names)) {
      message += fmt::format("; did you mean '{}'?", *suggestion);
    }
  }
  context_->add_issue(path_of(key), std::move(message));
  return std::nullopt;
}

void YamlMap::finish() {
  for (const Entry& entry : entries_) {
    if (entry.known) continue;
    if (context_->full()) return;  // the message would be dropped: spare the suggestion
    if (const auto suggestion = closest_match(entry.key, asked_)) {
      context_->add_issue(path_of(entry.key),
                          fmt::format("unknown key; did you mean '{}'?", *suggestion));
    } else if (asked_.empty()) {
      context_->add_issue(path_of(entry.key), "unknown key");
    } else {
      context_->add_issue(path_of(entry.key),
                          fmt::format("unknown key (known keys here: {})", join(asked_)));
    }
  }
}

}  // namespace bulwark::detail
