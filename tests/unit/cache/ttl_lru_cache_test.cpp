// TtlLruCache: expiry against a ManualClock, least-recently-used eviction order, the counters,
// and exact counts under concurrent use.
#include "bulwark/cache/ttl_lru_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using StringCache = TtlLruCache<std::string, int>;

struct TtlLruCacheTest : ::testing::Test {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();

  StringCache make(std::size_t max_entries, Duration ttl = 10s) {
    return StringCache({.max_entries = max_entries, .ttl = ttl}, clock);
  }
};

TEST_F(TtlLruCacheTest, ReturnsWhatWasPutAndCountsHitsAndMisses) {
  StringCache cache = make(4);
  cache.put("a", 1);
  EXPECT_EQ(cache.get("a"), 1);
  EXPECT_EQ(cache.get("a"), 1);
  EXPECT_EQ(cache.get("b"), std::nullopt);
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.expirations, 0u);
  EXPECT_EQ(stats.size, 1u);
  EXPECT_DOUBLE_EQ(stats.hit_rate(), 2.0 / 3.0);
}

TEST_F(TtlLruCacheTest, HitRateIsZeroBeforeAnyLookup) {
  EXPECT_EQ(make(1).stats().hit_rate(), 0.0);
}

TEST_F(TtlLruCacheTest, EntryExpiresExactlyAtItsTtl) {
  StringCache cache = make(4, 10s);
  cache.put("a", 1);
  clock->advance(10s - 1ns);
  EXPECT_EQ(cache.get("a"), 1);
  clock->advance(1ns);
  EXPECT_EQ(cache.get("a"), std::nullopt);
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.size, 0u) << "the expired entry was found but not dropped";
  // Looking again is a plain miss, not a second expiration.
  EXPECT_EQ(cache.get("a"), std::nullopt);
  EXPECT_EQ(cache.stats().expirations, 1u);
}

TEST_F(TtlLruCacheTest, ReadingDoesNotExtendTheTtl) {
  StringCache cache = make(4, 10s);
  cache.put("a", 1);
  clock->advance(6s);
  EXPECT_EQ(cache.get("a"), 1);
  clock->advance(6s);
  EXPECT_EQ(cache.get("a"), std::nullopt);
}

TEST_F(TtlLruCacheTest, PerPutTtlOverridesTheDefault) {
  StringCache cache = make(4, 10s);
  cache.put("short", 1, 1s);
  cache.put("long", 2, 1h);
  cache.put("default", 3);
  clock->advance(1s);
  EXPECT_EQ(cache.get("short"), std::nullopt);
  EXPECT_EQ(cache.get("default"), 3);
  clock->advance(9s);
  EXPECT_EQ(cache.get("default"), std::nullopt);
  EXPECT_EQ(cache.get("long"), 2);
}

TEST_F(TtlLruCacheTest, ZeroTtlNeverExpires) {
  StringCache forever = make(4, Duration::zero());
  forever.put("a", 1);
  StringCache cache = make(4, 1s);
  cache.put("b", 2, Duration::zero());
  clock->advance(24h * 365 * 100);
  EXPECT_EQ(forever.get("a"), 1);
  EXPECT_EQ(cache.get("b"), 2);
}

TEST_F(TtlLruCacheTest, HugeTtlSaturatesInsteadOfOverflowing) {
  StringCache cache = make(4);
  cache.put("a", 1, Duration::max());
  clock->advance(24h);
  EXPECT_EQ(cache.get("a"), 1);
}

TEST_F(TtlLruCacheTest, NegativeTtlIsRejected) {
  StringCache cache = make(4);
  try {
    cache.put("a", 1, -1s);
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
  }
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(TtlLruCacheTest, PutReplacesTheValueAndRestartsItsTtl) {
  StringCache cache = make(4, 10s);
  cache.put("a", 1);
  clock->advance(8s);
  cache.put("a", 2);
  clock->advance(8s);
  EXPECT_EQ(cache.get("a"), 2);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(TtlLruCacheTest, EvictsTheLeastRecentlyUsedEntry) {
  StringCache cache = make(3);
  cache.put("a", 1);
  cache.put("b", 2);
  cache.put("c", 3);
  // Recency, most recent first: c b a. Reading a makes it a c b.
  EXPECT_EQ(cache.get("a"), 1);
  cache.put("d", 4);  // evicts b
  EXPECT_EQ(cache.get("b"), std::nullopt);
  // d a c
  cache.put("e", 5);  // evicts c
  EXPECT_EQ(cache.get("c"), std::nullopt);
  EXPECT_EQ(cache.get("a"), 1);
  EXPECT_EQ(cache.get("d"), 4);
  EXPECT_EQ(cache.get("e"), 5);
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 2u);
  EXPECT_EQ(stats.expirations, 0u);
  EXPECT_EQ(stats.size, 3u);
}

TEST_F(TtlLruCacheTest, ReplacingAValueCountsAsUseAndEvictsNothing) {
  StringCache cache = make(2);
  cache.put("a", 1);
  cache.put("b", 2);
  cache.put("a", 10);  // a is now the most recent
  EXPECT_EQ(cache.stats().evictions, 0u);
  cache.put("c", 3);  // evicts b
  EXPECT_EQ(cache.get("b"), std::nullopt);
  EXPECT_EQ(cache.get("a"), 10);
}

TEST_F(TtlLruCacheTest, AnExpiredTailIsCountedAsAnExpirationNotAnEviction) {
  StringCache cache = make(2, 10s);
  cache.put("old", 1, 1s);
  cache.put("live", 2);
  clock->advance(2s);
  cache.put("new", 3);  // drops "old", which had expired anyway
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 0u);
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(cache.get("live"), 2);
  EXPECT_EQ(cache.get("new"), 3);
}

TEST_F(TtlLruCacheTest, EraseRemovesOneEntry) {
  StringCache cache = make(4);
  cache.put("a", 1);
  cache.put("b", 2);
  EXPECT_TRUE(cache.erase("a"));
  EXPECT_FALSE(cache.erase("a"));
  EXPECT_EQ(cache.get("a"), std::nullopt);
  EXPECT_EQ(cache.get("b"), 2);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(TtlLruCacheTest, ClearEmptiesTheCacheButKeepsTheCounters) {
  StringCache cache = make(4);
  cache.put("a", 1);
  cache.put("b", 2);
  EXPECT_EQ(cache.get("a"), 1);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.get("a"), std::nullopt);
  EXPECT_EQ(cache.get("b"), std::nullopt);
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.size, 0u);
  // Still usable, with its full capacity.
  for (int i = 0; i < 4; ++i) cache.put(std::to_string(i), i);
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST_F(TtlLruCacheTest, PruneExpiredDropsOnlyExpiredEntries) {
  StringCache cache = make(8, 10s);
  cache.put("a", 1, 1s);
  cache.put("b", 2);
  cache.put("c", 3, 2s);
  clock->advance(2s);
  EXPECT_EQ(cache.prune_expired(), 2u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.stats().expirations, 2u);
  EXPECT_EQ(cache.get("b"), 2);
  EXPECT_EQ(cache.prune_expired(), 0u);
}

TEST_F(TtlLruCacheTest, SharedValuesOutliveTheirEviction) {
  TtlLruCache<int, std::shared_ptr<const std::string>> cache({.max_entries = 1}, clock);
  cache.put(1, std::make_shared<const std::string>("one"));
  const auto held = cache.get(1);
  ASSERT_TRUE(held);
  cache.put(2, std::make_shared<const std::string>("two"));  // evicts 1
  EXPECT_EQ(**held, "one");
  EXPECT_EQ(cache.get(1), std::nullopt);
}

TEST_F(TtlLruCacheTest, InvalidConfigNamesEveryBadField) {
  try {
    StringCache cache({.max_entries = 0, .ttl = -1s}, clock);
    FAIL() << "no exception";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 2u);
    EXPECT_EQ(error.issues()[0].path, "cache.max_entries");
    EXPECT_EQ(error.issues()[1].path, "cache.ttl");
  }
}

TEST_F(TtlLruCacheTest, ValidateUsesTheGivenPath) {
  std::vector<ConfigIssue> issues;
  validate(CacheConfig{.max_entries = 0}, issues, "services.qdrant.cache");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "services.qdrant.cache.max_entries");
}

TEST_F(TtlLruCacheTest, WithoutAClockUsesTheSteadyClock) {
  StringCache cache({.max_entries = 2, .ttl = 1h});
  cache.put("a", 1);
  EXPECT_EQ(cache.get("a"), 1);
}

// Threads put distinct keys and read keys of their own and of others. Whatever the interleaving,
// every get is exactly one hit or one miss, every hit a thread saw is counted once, and every put
// of a new key is either still held or was evicted (the clock does not move, so nothing expires).
TEST_F(TtlLruCacheTest, ConcurrentUseKeepsExactCounts) {
  constexpr int threads = 4;
  constexpr int rounds = 5000;
  StringCache cache = make(64);
  std::atomic<std::uint64_t> seen_hits{0};
  std::atomic<std::uint64_t> seen_misses{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::uint64_t hits = 0;
      std::uint64_t misses = 0;
      for (int i = 0; i < rounds; ++i) {
        const std::string own = std::to_string(t) + ":" + std::to_string(i);
        cache.put(own, i);
        // Our own key, just put, and a neighbour's recent key that may be gone.
        for (const std::string& key :
             {own, std::to_string((t + 1) % threads) + ":" + std::to_string(i)}) {
          if (const auto value = cache.get(key)) {
            ++hits;
            EXPECT_EQ(*value, i);
          } else {
            ++misses;
          }
        }
      }
      seen_hits += hits;
      seen_misses += misses;
    });
  }
  for (std::thread& worker : workers) worker.join();

  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, seen_hits.load());
  EXPECT_EQ(stats.misses, seen_misses.load());
  EXPECT_EQ(stats.hits + stats.misses, std::uint64_t{threads} * rounds * 2);
  EXPECT_EQ(stats.expirations, 0u);
  EXPECT_EQ(stats.size, 64u);
  EXPECT_EQ(stats.evictions + stats.size, std::uint64_t{threads} * rounds);
}

}  // namespace
}  // namespace bulwark
