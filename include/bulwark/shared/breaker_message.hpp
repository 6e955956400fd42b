#pragma once
/// @file
/// The message instances of a fleet exchange about a shared circuit breaker, and the rule that
/// decides whether a received message is applied. No I/O: `SharedBreaker` moves the bytes.
///
/// Wire form (one Redis pub/sub message, also the value of the breaker's state key):
///
///     v1|<state>|<epoch>|<wait_ms>|<instance>
///
/// - `state`: `open` or `closed`.
/// - `epoch`: assigned by Redis (`INCR` inside the script that records and publishes the
///   transition), so every transition of one breaker has its own, and later transitions have
///   larger ones, whatever the clocks of the instances say.
/// - `wait_ms`: for `open`, how long the sender's breaker stays OPEN, in milliseconds.
/// - `instance`: who sent it (no `|`).
///
/// The rule (`EpochFilter`): a message is applied when it is well formed, comes from another
/// instance, and carries an epoch larger than every epoch this instance applied or published.
/// Its own messages (the echo) and messages overtaken by a later transition are dropped.
///
/// Thread-safety: `EpochFilter` may be used from any number of threads at once.

#include "bulwark/core/duration.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::shared {

enum class SharedBreakerState : std::uint8_t { open, closed };

/// "open" or "closed".
[[nodiscard]] std::string_view to_string(SharedBreakerState state) noexcept;

struct BreakerMessage {
  SharedBreakerState state = SharedBreakerState::closed;
  std::uint64_t epoch = 0;
  /// OPEN's remaining wait at the sender; zero for closed.
  Duration wait = Duration::zero();
  std::string instance{};
};

/// The wire form above.
[[nodiscard]] std::string encode(const BreakerMessage& message);
/// The message, or nothing when `payload` is not a well-formed v1 message.
[[nodiscard]] std::optional<BreakerMessage> decode_breaker_message(std::string_view payload);

/// What `EpochFilter::admit` decided.
enum class Admission : std::uint8_t {
  apply,  ///< Newer than anything seen: apply it.
  own,    ///< Sent by this instance (the echo of its own publication).
  stale,  ///< Not newer than an epoch already applied or published.
};

class EpochFilter {
 public:
  explicit EpochFilter(std::string instance) : instance_(std::move(instance)) {}

  /// Decides about a received message; `apply` also records its epoch.
  [[nodiscard]] Admission admit(const BreakerMessage& message) noexcept;
  /// Records the epoch Redis gave a transition this instance published.
  void published(std::uint64_t epoch) noexcept;
  /// After a reconnection: Redis may have lost its data (restart without persistence), so the
  /// epochs start again from what it holds now.
  void restart_from(std::uint64_t epoch) noexcept;

  [[nodiscard]] std::uint64_t last_epoch() const noexcept {
    return last_.load(std::memory_order_acquire);
  }
  [[nodiscard]] const std::string& instance() const noexcept { return instance_; }

 private:
  bool raise_to(std::uint64_t epoch) noexcept;

  const std::string instance_;
  std::atomic<std::uint64_t> last_{0};
};

}  // namespace bulwark::shared
