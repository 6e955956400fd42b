#pragma once
/// @file
/// `RateLimitCoordinator`: the interface through which a `RateLimiter` asks state shared with
/// other processes for its permits, so that one rate holds for a whole fleet of instances. The
/// Redis implementation is `shared::FleetRateLimiter`; tests use fakes.
///
/// A coordinator answers within its own bound or not at all: `std::nullopt` means "the shared
/// state could not be asked", and the limiter then decides from its local bucket. Coordination
/// failing therefore never fails a call.
///
/// Thread-safety: implementations are called concurrently from any number of coroutines.

#include "bulwark/resilience/rate_limiter.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>

namespace bulwark {

class RateLimitCoordinator {
 public:
  virtual ~RateLimitCoordinator() = default;

  /// Takes `permits` (>= 1, <= the limiter's burst) from the shared bucket, accepting a wait of
  /// at most `max_wait`. The admission as `RateLimiter::try_acquire` describes it (granted with a
  /// wait, or `errc::rate_limited` with the time after which it would be granted), or
  /// `std::nullopt` when the shared state could not answer in time. Must not throw.
  virtual boost::asio::awaitable<std::optional<RateLimiter::Admission>> acquire(
      std::uint32_t permits, Duration max_wait) = 0;
};

}  // namespace bulwark
