#pragma once
// Reading a YAML map into configuration structs while collecting problems instead of throwing:
// each map remembers which keys the loader asked for, so that every other key is reported as
// unknown, with the closest known key suggested; typed reads (strings, durations, numbers,
// booleans, byte sizes, enums) expand environment variables and report a bad value at its path.
//
// Each read also records where a field came from (`Origins`), so that problems the struct
// validators find later are reported at the key that set the value: `defaults.retry.max_attempts`
// when the service inherited it, `services.qdrant.retry.max_attempts` when it overrode it.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/manager/config.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bulwark::detail {

/// Field of a client config ("retry.max_attempts", "timeouts.connect") -> the YAML path that set
/// it ("defaults.retry.max_attempts").
using Origins = std::map<std::string, std::string, std::less<>>;

/// What one load shares: the environment, the problems found so far, and the values that must
/// never appear in a message.
class LoadContext {
 public:
  explicit LoadContext(const Environment& environment) : environment_(environment) {}

  [[nodiscard]] const Environment& environment() const noexcept { return environment_; }
  /// A variable's value, or nothing when unset or empty (an empty override overrides nothing).
  [[nodiscard]] std::optional<std::string> variable(std::string_view name) const;

  /// Records a problem. Past `max_stored_issues` problems are dropped (the error then says the
  /// list is incomplete), so hostile input cannot make the list grow without bound.
  void add_issue(std::string path, std::string message);
  /// True once problems are being dropped: callers may skip work that only feeds messages.
  [[nodiscard]] bool full() const noexcept { return dropped_; }
  [[nodiscard]] const std::vector<ConfigIssue>& issues() const noexcept { return issues_; }
  [[nodiscard]] bool has_issue_at(std::string_view path) const noexcept;

  /// Values scrubbed from every message before the error is thrown.
  void add_secret(std::string_view value);
  /// Remembers the values of variables whose names say they hold secrets (`*KEY*`, `*TOKEN*`,
  /// `*SECRET*`, `*PASSWORD*`, ...), wherever they were used.
  void note_variables(const std::vector<std::pair<std::string, std::string>>& used);

  /// Work done so far, in entries visited and bytes expanded. Aliases let a small file describe
  /// a huge tree (a service defined once and aliased a thousand times), so the loader stops,
  /// with one issue, after `max_work` units. Returns false once exhausted.
  [[nodiscard]] bool charge(std::size_t units);

  /// The issues, each secret replaced by `***`, identical ones dropped, capped at `max_issues`.
  [[nodiscard]] std::vector<ConfigIssue> take_issues();

  static constexpr std::size_t max_issues = 200;
  static constexpr std::size_t max_stored_issues = 1000;
  /// Twice what the largest file accepted can hold without aliases.
  static constexpr std::size_t max_work = std::size_t{2} * 1024 * 1024;

 private:
  const Environment& environment_;
  std::vector<ConfigIssue> issues_{};
  std::vector<std::string> secrets_{};
  std::size_t work_ = 0;
  bool exhausted_ = false;
  bool dropped_ = false;
};

/// A scalar value after expansion.
struct ScalarValue {
  std::string value{};
  /// Variables referenced without default that are unset (the value holds "" in their place).
  std::vector<std::string> missing{};
  /// True when a `${...}` reference contributed to the value.
  bool from_environment = false;
  /// How to quote the value in a message: the value itself, or, when it came from the
  /// environment, the text of the file (a variable may hold a secret).
  std::string shown{};
};

template <class E>
struct Named {
  std::string_view name;
  E value;
};

class YamlMap {
 public:
  /// `node` may be undefined (the key is absent) or null (`key:` with nothing after it): both
  /// read as an empty map. Any other non-map is reported and also reads as empty. `origins`
  /// (optional) receives the field of every value read; `field_prefix` is prepended to the keys
  /// read here to name their fields when no explicit field is given.
  YamlMap(LoadContext& context, const YAML::Node& node, std::string path,
          Origins* origins = nullptr, std::string field_prefix = {});

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string path_of(std::string_view key) const;
  /// True when the map is in the file.
  [[nodiscard]] bool present() const noexcept { return present_; }
  [[nodiscard]] LoadContext& context() const noexcept { return *context_; }

  /// Declares `key` as known and returns its node (undefined when absent).
  YAML::Node get(std::string_view key);
  /// Declares `key` as known; true when present.
  bool has(std::string_view key) { return get(key).IsDefined(); }
  /// The map under `key` (empty when absent), sharing this map's origins.
  YamlMap map(std::string_view key, std::string_view field_prefix = {});
  /// Every entry, in file order, for maps whose keys are names (services, headers); marks them
  /// all known.
  [[nodiscard]] std::vector<std::pair<std::string, YAML::Node>> entries();

  /// Declares every key that starts with `prefix` known without reading it (`x-` keys at the
  /// top level hold anchors for other sections to refer to).
  void ignore_prefixed(std::string_view prefix);

  /// Records that `field` was set by `key` of this map.
  void record(std::string_view key, std::string_view field);

  // Typed reads. Each declares the key, leaves `target` untouched when the key is absent or its
  // value is bad (a bad value is reported), and returns true when it stored a value. `field`
  // names the struct field for `Origins`; empty means `<field_prefix>.<key>`.

  /// The expanded scalar; an unset variable is reported unless `report_missing` is false (the
  /// caller then looks at `missing`).
  std::optional<ScalarValue> scalar(std::string_view key, std::string_view field = {},
                                    bool report_missing = true);
  bool string(std::string_view key, std::string& target, std::string_view field = {});
  bool secret(std::string_view key, Secret& target, std::string_view field = {});
  bool duration(std::string_view key, Duration& target, std::string_view field = {});
  bool boolean(std::string_view key, bool& target, std::string_view field = {});
  bool number(std::string_view key, double& target, std::string_view field = {});
  /// A number in [0, 1], also written as a percentage ("50%").
  bool fraction(std::string_view key, double& target, std::string_view field = {});

  template <class Int>
  bool integer(std::string_view key, Int& target, std::string_view field = {}) {
    std::int64_t value = 0;
    if (!read_integer(key, value, static_cast<std::int64_t>(std::numeric_limits<Int>::min()),
                      clamp_max<Int>(), false, field)) {
      return false;
    }
    target = static_cast<Int>(value);
    return true;
  }

  /// A byte count, plain or with a unit (`64KiB`, `10MB`; KB = 1000, KiB = 1024).
  template <class Int>
  bool bytes(std::string_view key, Int& target, std::string_view field = {}) {
    std::int64_t value = 0;
    if (!read_integer(key, value, 0, clamp_max<Int>(), true, field)) return false;
    target = static_cast<Int>(value);
    return true;
  }

  template <class E, std::size_t N>
  bool choice(std::string_view key, E& target, const std::array<Named<E>, N>& names,
              std::string_view field = {}) {
    std::vector<std::string> spelled;
    spelled.reserve(names.size());
    for (const Named<E>& named : names) spelled.emplace_back(named.name);
    const std::optional<std::size_t> index = read_choice(key, spelled, field);
    if (!index) return false;
    target = names[*index].value;
    return true;
  }

  /// Reports every key that no read asked for. Call once, after the last read.
  void finish();

  /// Maps merged into one map (`<<`), at most.
  static constexpr std::size_t max_merges = 64;

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    bool known = false;
  };

  template <class Int>
  static constexpr std::int64_t clamp_max() {
    constexpr auto max = std::numeric_limits<Int>::max();
    if constexpr (static_cast<std::uint64_t>(max) >
                  static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::numeric_limits<std::int64_t>::max();
    } else {
      return static_cast<std::int64_t>(max);
    }
  }

  // Adds the entries of `node` (own entries when `!merged`); values of merge keys go to `merges`.
  void add_entries(const YAML::Node& node, bool merged, std::vector<YAML::Node>& merges);
  bool read_integer(std::string_view key, std::int64_t& value, std::int64_t min, std::int64_t max,
                    bool with_units, std::string_view field);
  std::optional<std::size_t> read_choice(std::string_view key, std::span<const std::string> names,
                                         std::string_view field);
  // The scalar node under `key`, or nothing (absent, or not a scalar: reported as `expected`).
  std::optional<ScalarValue> expect_scalar(std::string_view key, std::string_view expected,
                                           std::string_view field, bool report_missing = true);
  [[nodiscard]] std::string field_of(std::string_view key, std::string_view field) const;

  LoadContext* context_;
  std::string path_;
  Origins* origins_;
  std::string field_prefix_;
  bool present_ = false;
  std::vector<Entry> entries_{};
  std::unordered_map<std::string, std::size_t> index_{};
  std::vector<std::string> asked_{};
};

/// "a map", "a list", "a value", "nothing": what a node is, for "expected X, got Y".
[[nodiscard]] std::string_view describe_node(const YAML::Node& node);

}  // namespace bulwark::detail
