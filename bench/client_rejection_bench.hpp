#pragma once

namespace bulwark::bench {

/// Registers BM_http_client_open_reject and BM_redis_client_open_reject: a whole `execute()` of
/// each client against an open breaker.
void register_client_rejection_benchmarks();

}  // namespace bulwark::bench
