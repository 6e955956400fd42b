#pragma once
/// @file
/// How long to wait before each retry: a base delay that grows with the retry number (constant,
/// linear or exponential), capped, then randomised ("jitter") so that many clients failing at the
/// same moment do not retry in lockstep.
///
/// Thread-safety: `Backoff` is immutable after construction; `delay()` may be called from any
/// number of threads at once (the shared `Random` is lock-free).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/random.hpp"

namespace bulwark {

/// How the base delay grows with the retry number `n` (1 = first retry).
enum class BackoffType : std::uint8_t {
  constant,     ///< `initial` for every retry.
  linear,       ///< `initial * n`.
  exponential,  ///< `initial * multiplier^(n-1)`.
};

/// How the base delay `d` is randomised.
enum class Jitter : std::uint8_t {
  none,          ///< Exactly `d`.
  full,          ///< Uniform in `[0, d]`: spreads retries the most (AWS "full jitter").
  equal,         ///< `d/2` plus uniform in `[0, d/2]`: never less than half the base delay.
  decorrelated,  ///< Uniform in `[initial, previous * 3]`, capped at `max` (AWS "decorrelated
                 ///< jitter"); grows from the previous delay and ignores `type`.
};

struct BackoffConfig {
  /// Growth of the base delay; ignored by `Jitter::decorrelated`.
  BackoffType type = BackoffType::exponential;
  /// Base delay of the first retry. 0 means retry at once (not allowed with decorrelated jitter,
  /// which would then never grow). Must be >= 0.
  Duration initial = std::chrono::milliseconds(100);
  /// Growth factor per retry for `exponential`; must be >= 1.
  double multiplier = 2.0;
  /// Cap on every delay, before and after jitter; must be >= `initial`.
  Duration max = std::chrono::seconds(10);
  /// Randomisation applied to the capped base delay.
  Jitter jitter = Jitter::full;
};

/// Computes retry delays. Pure apart from drawing random numbers.
class Backoff {
 public:
  /// Validates `config` (throws `ConfigError` with one issue per bad field, paths
  /// `retry.backoff.<field>`). A null `random` means a new, randomly seeded one.
  Backoff(BackoffConfig config, std::shared_ptr<Random> random);

  /// Delay before retry number `retry` (1 = first retry; values below 1 count as 1).
  /// `previous` is the delay used before the previous retry; only decorrelated jitter reads it,
  /// and for the first retry callers pass `config().initial`. Never exceeds `config().max`, never
  /// negative, never overflows however large `retry` is. No allocation, no lock.
  [[nodiscard]] Duration delay(int retry, Duration previous) const noexcept;

  /// The capped, un-jittered delay of retry number `retry`.
  [[nodiscard]] Duration base_delay(int retry) const noexcept;

  [[nodiscard]] const BackoffConfig& config() const noexcept { return config_; }

  /// Appends one issue per bad field of `config` to `issues`, with paths `<path>.<field>`. Used
  /// by the constructor and by configuration loaders that nest the backoff elsewhere.
  static void validate(const BackoffConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path = "retry.backoff");

 private:
  BackoffConfig config_{};
  std::shared_ptr<Random> random_{};
};

}  // namespace bulwark
