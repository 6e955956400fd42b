#include "bulwark/observe/catalogue.hpp"

#include <gtest/gtest.h>

#include "bulwark/observe/registry.hpp"

namespace bulwark::observe {
namespace {

// Every catalogue entry passes the registry's naming checks as the type its comment names, and
// can be registered again (by another client) without conflict.
TEST(Catalogue, EveryEntryRegistersAsItsDocumentedType) {
  Registry registry;
  for (int round = 0; round < 2; ++round) {
    registry.counter(catalogue::client_calls());
    registry.histogram(catalogue::client_call_duration());
    registry.gauge(catalogue::circuit_breaker_state());
    registry.counter(catalogue::circuit_breaker_transitions());
    registry.counter(catalogue::retries());
    registry.counter(catalogue::rejections());
    registry.collected_gauge(catalogue::pool_connections());
    registry.counter(catalogue::pool_wait_timeouts());
    registry.gauge(catalogue::health_state());
    registry.counter(catalogue::cache_hits());
    registry.counter(catalogue::cache_misses());
  }
}

TEST(Catalogue, NamesAndLabelsAreThoseDocumented) {
  EXPECT_EQ(catalogue::client_calls().name, "bulwark_client_calls_total");
  EXPECT_EQ(catalogue::client_calls().labels, (std::vector<std::string>{"client", "outcome"}));
  EXPECT_EQ(catalogue::client_call_duration().name, "bulwark_client_call_duration_seconds");
  EXPECT_EQ(catalogue::circuit_breaker_state().name, "bulwark_circuit_breaker_state");
  EXPECT_EQ(catalogue::circuit_breaker_transitions().labels,
            (std::vector<std::string>{"client", "from", "to"}));
  EXPECT_EQ(catalogue::retries().name, "bulwark_retries_total");
  EXPECT_EQ(catalogue::rejections().labels, (std::vector<std::string>{"client", "reason"}));
  EXPECT_EQ(catalogue::pool_connections().labels, (std::vector<std::string>{"client", "state"}));
  EXPECT_EQ(catalogue::pool_wait_timeouts().name, "bulwark_pool_wait_timeouts_total");
  EXPECT_EQ(catalogue::health_state().name, "bulwark_health_state");
  EXPECT_EQ(catalogue::cache_hits().name, "bulwark_cache_hits_total");
  EXPECT_EQ(catalogue::cache_misses().name, "bulwark_cache_misses_total");
}

TEST(Catalogue, SharedStateEntriesAreCollectedWithTheirKind) {
  Registry registry;
  for (int round = 0; round < 2; ++round) {
    registry.collected_gauge(catalogue::shared_state_coordinated());
    registry.collected_counter(catalogue::shared_state_fallbacks());
  }
  EXPECT_EQ(catalogue::shared_state_coordinated().name, "bulwark_shared_state_coordinated");
  EXPECT_EQ(catalogue::shared_state_fallbacks().name, "bulwark_shared_state_fallbacks_total");
  EXPECT_EQ(catalogue::shared_state_fallbacks().labels,
            (std::vector<std::string>{"client", "kind"}));
}

}  // namespace
}  // namespace bulwark::observe
