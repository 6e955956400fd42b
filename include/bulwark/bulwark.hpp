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
#include "bulwark/resilience/call_context.hpp"
#include "bulwark/resilience/events.hpp"
#include "bulwark/resilience/verdict.hpp"
