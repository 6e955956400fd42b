#pragma once
/// @file
/// The metrics bulwark's clients and manager expose, declared in one place so that code and
/// docs/metrics.md agree on names, HELP texts and labels. Each function returns the options for a
/// family of the Prometheus type its comment names. Register it directly (`counter()`, `gauge()`,
/// `histogram()`) when the hot path updates it, or, for a counter or gauge whose value already
/// lives in another object (a pool's connection counts, a breaker's state), as a collected family
/// (`collected_counter()`, `collected_gauge()`). Pick one per name: the two are different
/// definitions and registering both is an error. Registering the same way twice returns the same
/// family, so every client may register what it uses.
///
/// ```
/// auto& calls = registry.counter(bulwark::observe::catalogue::client_calls());
/// auto& ok = calls.labels({client_name, "success"});
/// ```
///
/// Label values are fixed words or configured client names, never request data; none may carry
/// a secret (no URLs with credentials, no keys, no tokens).

#include "bulwark/observe/family.hpp"

namespace bulwark::observe::catalogue {

/// Counter `bulwark_client_calls_total{client, outcome}`: calls made through a client, counted
/// once each, retries included. `outcome` is `success` or the `error_name()` of the failure
/// (`timeout`, `connect_failed`, `circuit_open`, ...), a fixed set.
[[nodiscard]] MetricOptions client_calls();

/// Histogram `bulwark_client_call_duration_seconds{client}`: how long calls took, retries and
/// waits included. Default latency buckets.
[[nodiscard]] MetricOptions client_call_duration();

/// Gauge `bulwark_circuit_breaker_state{client, state}`: 1 for the breaker's current state, 0 for
/// the others; `state` is `closed`, `open`, `half_open`, `disabled` or `forced_open`.
[[nodiscard]] MetricOptions circuit_breaker_state();

/// Counter `bulwark_circuit_breaker_transitions_total{client, from, to}`: state changes, with
/// the same state words as `circuit_breaker_state`.
[[nodiscard]] MetricOptions circuit_breaker_transitions();

/// Counter `bulwark_retries_total{client}`: attempts made after a failed one.
[[nodiscard]] MetricOptions retries();

/// Counter `bulwark_rejections_total{client, reason}`: calls refused locally, before reaching
/// the service; `reason` is `circuit_open`, `bulkhead_full` or `rate_limited`.
[[nodiscard]] MetricOptions rejections();

/// Gauge `bulwark_pool_connections{client, state}`: pooled connections; `state` is `active`
/// (leased) or `idle`.
[[nodiscard]] MetricOptions pool_connections();

/// Counter `bulwark_pool_wait_timeouts_total{client}`: callers that gave up waiting for a pooled
/// connection.
[[nodiscard]] MetricOptions pool_wait_timeouts();

/// Gauge `bulwark_health_state{client, state}`: 1 for the client's current health, 0 for the
/// others; `state` is `healthy`, `degraded` or `failed`.
[[nodiscard]] MetricOptions health_state();

/// Gauge `bulwark_shared_state_coordinated{client,kind}`: 1 while a client's shared state is
/// coordinated through Redis, 0 while it falls back to local state; `kind` is `circuit_breaker`,
/// `rate_limiter` or `retry_budget`.
[[nodiscard]] MetricOptions shared_state_coordinated();

/// Counter `bulwark_shared_breaker_messages_total{client,direction}`: transitions of a shared
/// breaker published, whose publication failed, received from other instances, or dropped (own,
/// stale).
[[nodiscard]] MetricOptions shared_breaker_messages();

/// Counter `bulwark_cache_hits_total{client}`: lookups answered from the cache.
[[nodiscard]] MetricOptions cache_hits();

/// Counter `bulwark_cache_misses_total{client}`: lookups the cache could not answer.
[[nodiscard]] MetricOptions cache_misses();

/// Counter `bulwark_shared_state_fallbacks_total{client, kind}`: decisions of a fleet-wide rate
/// limiter left to its local bucket, and publications of a fleet-wide retry budget that failed,
/// because Redis did not answer in time.
[[nodiscard]] MetricOptions shared_state_fallbacks();

}  // namespace bulwark::observe::catalogue
