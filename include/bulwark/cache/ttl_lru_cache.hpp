#pragma once
/// @file
/// `TtlLruCache<K, V>`: a bounded map whose entries expire. At most `max_entries` entries are
/// kept; making room evicts the least recently used one. Each entry lives `ttl` from its `put`
/// (the config's, or one given to that `put`), after which it is never returned again.
///
///     bulwark::TtlLruCache<std::string, std::shared_ptr<const Profile>> profiles(
///         {.max_entries = 10'000, .ttl = std::chrono::minutes(5)});
///     profiles.put(user_id, profile);
///     if (auto hit = profiles.get(user_id)) use(**hit);
///
/// `get` and `put` are O(1): a list in recency order and a hash map into it. An expired entry is
/// dropped when it is looked up or when it reaches the end of the recency list, so memory stays
/// bounded by `max_entries` without a background sweep; `prune_expired()` drops them all at
/// once (O(n)) for callers that want the memory back sooner.
///
/// Values are returned by copy: for large values use `std::shared_ptr<const T>` as `V`, so a hit
/// costs a reference count and an entry evicted while a caller still uses it stays alive.
///
/// Thread-safety: every member may be called concurrently; one mutex guards the map (a `get`
/// updates recency, so even reads take it exclusively). `K` and `V` are copied or moved under
/// the lock, so they should be cheap to copy. Lifetime: the clock must outlive the cache (it is
/// held by `shared_ptr`).

#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bulwark {

struct CacheConfig {
  /// Entries kept at most; putting one more evicts the least recently used. >= 1.
  std::size_t max_entries = 1024;
  /// How long an entry lives after its `put`, unless that `put` says otherwise;
  /// 0 = entries never expire (a plain LRU cache). >= 0.
  Duration ttl = std::chrono::minutes(5);
};

/// Counters of one cache since its construction (`clear()` does not reset them).
struct CacheStats {
  std::uint64_t hits = 0;         ///< `get` calls that returned a value.
  std::uint64_t misses = 0;       ///< `get` calls that did not (absent or expired).
  std::uint64_t evictions = 0;    ///< Live entries dropped to make room for a new one.
  std::uint64_t expirations = 0;  ///< Entries dropped because their TTL had passed.
  std::size_t size = 0;           ///< Entries held now (expired ones not yet dropped included).

  /// hits / (hits + misses); 0 before the first `get`.
  [[nodiscard]] double hit_rate() const noexcept;
};

/// Appends one issue per bad field (paths `<path>.max_entries`, `<path>.ttl`).
void validate(const CacheConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "cache");

template <class K, class V, class Hash = std::hash<K>, class KeyEqual = std::equal_to<K>>
class TtlLruCache {
 public:
  /// Throws `ConfigError` for an invalid config. A null clock means `steady_clock()`.
  explicit TtlLruCache(CacheConfig config = {}, std::shared_ptr<Clock> clock = nullptr)
      : config_(checked(config)), clock_(clock ? std::move(clock) : steady_clock()) {
    map_.reserve(config_.max_entries);
  }
  TtlLruCache(const TtlLruCache&) = delete;
  TtlLruCache& operator=(const TtlLruCache&) = delete;

  /// The value stored under `key` if it has not expired, and marks it most recently used.
  /// An expired entry is dropped and counted as a miss and an expiration.
  [[nodiscard]] std::optional<V> get(const K& key) {
    const Clock::time_point now = clock_->now();
    std::lock_guard lock(mutex_);
    const auto found = map_.find(key);
    if (found == map_.end()) {
      ++stats_.misses;
      return std::nullopt;
    }
    const auto entry = found->second;
    if (entry->expires <= now) {
      map_.erase(found);
      entries_.erase(entry);
      ++stats_.misses;
      ++stats_.expirations;
      return std::nullopt;
    }
    entries_.splice(entries_.begin(), entries_, entry);
    ++stats_.hits;
    return entry->value;
  }

  /// Stores `value` under `key` for the config's TTL, replacing any value already there.
  void put(K key, V value) { put(std::move(key), std::move(value), config_.ttl); }

  /// Stores `value` under `key` for `ttl` (0 = never expires); throws `Error`
  /// (`invalid_argument`) for a negative `ttl`.
  void put(K key, V value, Duration ttl) {
    if (ttl < Duration::zero()) {
      throw Error(make_error_code(errc::invalid_argument), {}, "cache TTL must be >= 0");
    }
    const Clock::time_point now = clock_->now();
    const Clock::time_point expires = expiry(now, ttl);
    std::lock_guard lock(mutex_);
    if (const auto found = map_.find(key); found != map_.end()) {
      const auto entry = found->second;
      entry->value = std::move(value);
      entry->expires = expires;
      entries_.splice(entries_.begin(), entries_, entry);
      return;
    }
    if (map_.size() >= config_.max_entries) drop_least_recent(now);
    // The list node points at the map's key, so each key is stored once.
    const auto slot = map_.try_emplace(std::move(key), entries_.end()).first;
    try {
      entries_.push_front(Entry{&slot->first, std::move(value), expires});
    } catch (...) {
      map_.erase(slot);
      throw;
    }
    slot->second = entries_.begin();
  }

  /// Removes `key`; returns whether it was there (expired or not).
  bool erase(const K& key) {
    std::lock_guard lock(mutex_);
    const auto found = map_.find(key);
    if (found == map_.end()) return false;
    entries_.erase(found->second);
    map_.erase(found);
    return true;
  }

  /// Removes every entry. Counters are kept.
  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
    map_.clear();
  }

  /// Drops every expired entry now (O(n)); returns how many, which are counted as expirations.
  std::size_t prune_expired() {
    const Clock::time_point now = clock_->now();
    std::lock_guard lock(mutex_);
    std::size_t dropped = 0;
    for (auto entry = entries_.begin(); entry != entries_.end();) {
      if (entry->expires <= now) {
        map_.erase(map_.find(*entry->key));
        entry = entries_.erase(entry);
        ++dropped;
      } else {
        ++entry;
      }
    }
    stats_.expirations += dropped;
    return dropped;
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return map_.size();
  }

  [[nodiscard]] CacheStats stats() const {
    std::lock_guard lock(mutex_);
    CacheStats out = stats_;
    out.size = map_.size();
    return out;
  }

  [[nodiscard]] const CacheConfig& config() const noexcept { return config_; }

 private:
  struct Entry {
    const K* key;  // the map's key; stable because unordered_map nodes do not move
    V value;
    Clock::time_point expires;
  };
  using Entries = std::list<Entry>;
  using Map = std::unordered_map<K, typename Entries::iterator, Hash, KeyEqual>;

  static const CacheConfig& checked(const CacheConfig& config) {
    std::vector<ConfigIssue> issues;
    validate(config, issues);
    if (!issues.empty()) throw ConfigError(std::move(issues));
    return config;
  }

  // `now + ttl`, saturating, with 0 meaning never.
  static Clock::time_point expiry(Clock::time_point now, Duration ttl) noexcept {
    if (ttl == Duration::zero() || ttl >= Clock::time_point::max() - now) {
      return Clock::time_point::max();
    }
    return now + ttl;
  }

  // Makes room for one entry. The tail is the least recently used; if it has expired anyway it
  // counts as an expiration, so `evictions` measures only live entries lost to the size bound
  // (the number that says max_entries is too small). Called with `mutex_` held.
  void drop_least_recent(Clock::time_point now) {
    const Entry& tail = entries_.back();
    const bool expired = tail.expires <= now;
    // Erased through an iterator: the key argument would point into the node being erased.
    map_.erase(map_.find(*tail.key));
    entries_.pop_back();
    if (expired) {
      ++stats_.expirations;
    } else {
      ++stats_.evictions;
    }
  }

  const CacheConfig config_;
  const std::shared_ptr<Clock> clock_;
  mutable std::mutex mutex_;
  Entries entries_;
  Map map_;
  CacheStats stats_{};
};

}  // namespace bulwark
