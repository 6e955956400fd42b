#include "bulwark/observe/catalogue.hpp"

namespace bulwark::observe::catalogue {

MetricOptions client_calls() {
  return {.name = "bulwark_client_calls_total",
          .help = "Calls made through a client, by outcome.",
          .labels = {"client", "outcome"}};
}

MetricOptions client_call_duration() {
  return {.name = "bulwark_client_call_duration_seconds",
          .help = "Duration of calls made through a client, retries included, in seconds.",
          .labels = {"client"}};
}

MetricOptions circuit_breaker_state() {
  return {.name = "bulwark_circuit_breaker_state",
          .help = "Circuit breaker state: 1 for the current state, 0 for the others.",
          .labels = {"client", "state"}};
}

MetricOptions circuit_breaker_transitions() {
  return {.name = "bulwark_circuit_breaker_transitions_total",
          .help = "Circuit breaker state changes.",
          .labels = {"client", "from", "to"}};
}

MetricOptions retries() {
  return {.name = "bulwark_retries_total",
          .help = "Attempts made after a failed attempt.",
          .labels = {"client"}};
}

MetricOptions rejections() {
  return {.name = "bulwark_rejections_total",
          .help = "Calls refused before reaching the service, by reason.",
          .labels = {"client", "reason"}};
}

MetricOptions pool_connections() {
  return {.name = "bulwark_pool_connections",
          .help = "Pooled connections, by state (active or idle).",
          .labels = {"client", "state"}};
}

MetricOptions pool_wait_timeouts() {
  return {.name = "bulwark_pool_wait_timeouts_total",
          .help = "Callers that gave up waiting for a pooled connection.",
          .labels = {"client"}};
}

MetricOptions health_state() {
  return {.name = "bulwark_health_state",
          .help = "Client health: 1 for the current state, 0 for the others.",
          .labels = {"client", "state"}};
}

MetricOptions shared_state_coordinated() {
  return {.name = "bulwark_shared_state_coordinated",
          .help =
              "1 while the client's shared state is coordinated through Redis, 0 while it "
              "falls back to local state.",
          .labels = {"client", "kind"}};
}

MetricOptions shared_breaker_messages() {
  return {.name = "bulwark_shared_breaker_messages_total",
          .help =
              "Shared circuit breaker transitions published, failed to publish, received "
              "or dropped.",
          .labels = {"client", "direction"}};
}

MetricOptions cache_hits() {
  return {.name = "bulwark_cache_hits_total",
          .help = "Cache lookups answered from the cache.",
          .labels = {"client"}};
}

MetricOptions cache_misses() {
  return {.name = "bulwark_cache_misses_total",
          .help = "Cache lookups the cache could not answer.",
          .labels = {"client"}};
}

MetricOptions shared_state_fallbacks() {
  return {.name = "bulwark_shared_state_fallbacks_total",
          .help =
              "Decisions or publications of a fleet-wide policy left to local state because "
              "Redis did not answer in time.",
          .labels = {"client", "kind"}};
}

}  // namespace bulwark::observe::catalogue
