// libFuzzer target for parse_config.
//
// The input is the YAML text, parsed with a fixed environment. Every outcome but two is a bug:
// a ManagerConfig, or a ConfigError. Invariants checked:
// - a ConfigError lists at least one issue, and its text never holds the value of a secret
//   variable of the environment (unless the input itself spells it out);
// - a config that loads passes validate() unchanged, every client has a unique name, and an
//   unavailable service is an optional one;
// - loading the same text twice gives the same outcome;
// - the memory live at once while loading stays under 256 MiB: the loader bounds its work on
//   hostile input (aliases that repeat a map, merge keys that merge themselves), and a
//   4 KiB input must not be able to make it allocate without end.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <sanitizer/allocator_interface.h>

#include <atomic>

#include "bulwark/manager/config.hpp"

namespace {

using bulwark::ConfigError;
using bulwark::ConfigIssue;
using bulwark::Environment;
using bulwark::ManagerConfig;

constexpr std::string_view secret = "sk-FUZZ-SECRET-0042";

// Live bytes allocated by any thread since the current input began, and its high mark.
std::atomic<std::int64_t> live_bytes{0};
std::atomic<bool> counting{false};
constexpr std::int64_t max_live_bytes = std::int64_t{256} << 20;

void on_malloc(const volatile void*, std::size_t size) {
  if (!counting.load(std::memory_order_relaxed)) return;
  if (live_bytes.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed) +
          static_cast<std::int64_t>(size) >
      max_live_bytes) {
    counting = false;
    std::fprintf(stderr, "invariant violated: loading holds more than 256 MiB at once\n");
    std::abort();
  }
}

void on_free(const volatile void* pointer) {
  if (!counting.load(std::memory_order_relaxed)) return;
  live_bytes.fetch_sub(static_cast<std::int64_t>(__sanitizer_get_allocated_size(pointer)),
                       std::memory_order_relaxed);
}

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

const Environment& environment() {
  static const std::map<std::string, std::string, std::less<>> variables = {
      {"HOST", "localhost"},
      {"PORT", "6333"},
      {"EMPTY", ""},
      {"DB", "3"},
      {"TIMEOUT", "250ms"},
      {"OPENAI_API_KEY", std::string(secret)},
      {"REDIS_PASSWORD", std::string(secret)},
      {"QDRANT_URL", "http://qdrant:6333"},
  };
  static const Environment lookup = [](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
  return lookup;
}

std::string describe(const ConfigError& error) {
  std::string out = error.what();
  for (const ConfigIssue& issue : error.issues()) out += "\n" + issue.path + ": " + issue.message;
  return out;
}

void check_loaded(const ManagerConfig& config) {
  std::vector<ConfigIssue> issues;
  bulwark::validate(config, issues);
  check(issues.empty(), "a loaded config passes validate()");
  std::set<std::string> names;
  for (const auto& service : config.services) {
    check(names.insert(service.client.name).second, "client names are unique");
    check(service.available || service.optional, "only optional services are unavailable");
    check(config.find_service(service.name) == &service, "find_service finds each service");
  }
  for (const auto& database : config.redis) {
    check(names.insert(database.client.name).second, "client names are unique");
    check(database.client.connection.database >= 0 && database.client.connection.database <= 15,
          "databases are 0-15");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)environment();  // built before counting starts
  live_bytes = 0;
  counting = true;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const bool input_spells_secret = yaml.find(secret) != std::string_view::npos;
  std::string first;
  try {
    const ManagerConfig config = bulwark::parse_config(yaml, environment(), "fuzz.yaml");
    check_loaded(config);
    first = "ok";
  } catch (const ConfigError& error) {
    check(!error.issues().empty(), "a ConfigError lists its issues");
    first = describe(error);
    check(input_spells_secret || first.find(secret) == std::string::npos, "no secret in an error");
  }
  std::string second;
  try {
    (void)bulwark::parse_config(yaml, environment(), "fuzz.yaml");
    second = "ok";
  } catch (const ConfigError& error) {
    second = describe(error);
  }
  counting = false;
  check(first == second, "the same text gives the same outcome");
  return 0;
}
