#pragma once
/// @file
/// Everything bulwark offers, in one include.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/health.hpp"
#include "bulwark/core/random.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/redis/resp.hpp"
#include "bulwark/resilience/backoff.hpp"
#include "bulwark/resilience/bulkhead.hpp"
#include "bulwark/resilience/call_context.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/resilience/events.hpp"
#include "bulwark/resilience/fallback.hpp"
#include "bulwark/resilience/pipeline.hpp"
#include "bulwark/resilience/rate_limiter.hpp"
#include "bulwark/resilience/retry.hpp"
#include "bulwark/resilience/retry_budget.hpp"
#include "bulwark/resilience/timeout.hpp"
#include "bulwark/resilience/verdict.hpp"
