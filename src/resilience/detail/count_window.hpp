#pragma once
/// @file
/// The count-based sliding window: the outcomes of the last N calls, lock-free.
///
/// A ring of one-byte outcome slots is indexed by an atomic cursor. Recording takes the next
/// position with one `fetch_add`, swaps the new outcome into that slot, and adjusts the packed
/// aggregates by the difference between the outcome it replaced and the new one. When the slot
/// already holds the same outcome (the steady state of a healthy service: success replacing
/// success) nothing is written at all, so a stream of successes costs one `fetch_add` and one
/// load.
///
/// The three aggregates (calls, failed, slow) live in one 64-bit word, 21 bits each, so that a
/// reader always sees a consistent triple. Each field is stored with a bias of 2^20: two threads
/// that replace the same slot one lap apart may apply their adjustments out of order, which can
/// take a field transiently below its true value; the bias keeps that from borrowing from the
/// neighbouring field. Once every adjustment has landed the fields are exact, whatever the order.
///
/// Exactness: single-threaded, the window holds exactly the last `size` outcomes. Concurrently,
/// the aggregates always equal the contents of the slots once writers are done; two writers that
/// land on the same slot within one lap keep one of the two outcomes. The slot index is the
/// cursor's low 32 bits modulo `size` (a 32-bit division is much cheaper than a 64-bit one), so
/// once every 2^32 calls the ring skips to slot 0 early; the aggregates stay consistent.
///
/// Thread-safety: every member may be called concurrently.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

#include "resilience/detail/window_counts.hpp"

namespace bulwark::detail {

class CountWindow {
 public:
  /// The largest window the packed aggregates can hold, with room for concurrent overshoot.
  static constexpr std::uint32_t max_size = 1'000'000;

  explicit CountWindow(std::uint32_t size)
      // make_unique<T[]> value-initialises, so every slot starts empty.
      : size_(size), slots_(std::make_unique<std::atomic<std::uint8_t>[]>(size)) {}

  CountWindow(const CountWindow&) = delete;
  CountWindow& operator=(const CountWindow&) = delete;

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }

  /// Records a plain success. Returns nothing: a success never trips a breaker, so the caller
  /// has no use for the aggregates and the common case need not read them.
  void record_success() noexcept {
    std::atomic<std::uint8_t>& slot = next_slot();
    // Leaving the slot alone is the same as overwriting it with an equal value.
    if (slot.load(std::memory_order_relaxed) == outcome_call) return;
    (void)replace(slot, outcome_call);
  }

  /// Records `outcome` and returns the aggregates including it.
  WindowCounts record(std::uint8_t outcome) noexcept {
    std::atomic<std::uint8_t>& slot = next_slot();
    if (slot.load(std::memory_order_relaxed) == outcome) return snapshot();
    return decode(replace(slot, outcome));
  }

  [[nodiscard]] WindowCounts snapshot() const noexcept {
    return decode(counts_.load(std::memory_order_acquire));
  }

  /// Outcomes recorded since construction (not reset by `clear()`).
  [[nodiscard]] std::uint64_t recorded_total() const noexcept {
    return cursor_.load(std::memory_order_acquire);
  }

  /// Empties every slot. Writers racing with a clear keep the aggregates consistent; their
  /// outcomes may survive it.
  void clear() noexcept {
    for (std::uint32_t i = 0; i < size_; ++i) {
      if (slots_[i].load(std::memory_order_relaxed) == outcome_empty) continue;
      const std::uint8_t old = slots_[i].exchange(outcome_empty, std::memory_order_relaxed);
      if (old != outcome_empty) {
        counts_.fetch_add(contribution(outcome_empty) - contribution(old),
                          std::memory_order_acq_rel);
      }
    }
  }

 private:
  static constexpr unsigned field_bits = 21;
  static constexpr std::uint64_t field_mask = (std::uint64_t{1} << field_bits) - 1;
  static constexpr std::uint64_t bias = std::uint64_t{1} << (field_bits - 1);
  static constexpr std::uint64_t biased_zero =
      bias | (bias << field_bits) | (bias << (2 * field_bits));

  // What one outcome adds to the packed word. Differences of contributions are applied with
  // modular arithmetic, which is exact as long as no field leaves [0, 2^21).
  static constexpr std::uint64_t contribution(std::uint8_t outcome) noexcept {
    return std::uint64_t{(outcome & outcome_call) != 0} |
           (std::uint64_t{(outcome & outcome_failed) != 0} << field_bits) |
           (std::uint64_t{(outcome & outcome_slow) != 0} << (2 * field_bits));
  }

  std::atomic<std::uint8_t>& next_slot() noexcept {
    // acq_rel: the cursor doubles as the count behind `recorded_total()`, which the breaker
    // reads after counters that are updated before recording.
    const auto position =
        static_cast<std::uint32_t>(cursor_.fetch_add(1, std::memory_order_acq_rel));
    return slots_[position % size_];
  }

  // Swaps `outcome` into `slot`; returns the packed aggregates after the swap.
  std::uint64_t replace(std::atomic<std::uint8_t>& slot, std::uint8_t outcome) noexcept {
    const std::uint8_t old = slot.exchange(outcome, std::memory_order_relaxed);
    if (old == outcome) return counts_.load(std::memory_order_acquire);
    const std::uint64_t delta = contribution(outcome) - contribution(old);
    return counts_.fetch_add(delta, std::memory_order_acq_rel) + delta;
  }

  [[nodiscard]] WindowCounts decode(std::uint64_t packed) const noexcept {
    const auto field = [&](unsigned index) -> std::uint32_t {
      const auto biased = static_cast<std::int64_t>((packed >> (index * field_bits)) & field_mask);
      const std::int64_t value = biased - static_cast<std::int64_t>(bias);
      return static_cast<std::uint32_t>(std::clamp<std::int64_t>(value, 0, size_));
    };
    WindowCounts counts{field(0), field(1), field(2)};
    counts.failed = std::min(counts.failed, counts.calls);
    counts.slow = std::min(counts.slow, counts.calls);
    return counts;
  }

  const std::uint32_t size_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> slots_;
  // The cursor and aggregates are written by every recorder; they share a line on purpose, so a
  // record moves one line between cores instead of two.
  alignas(64) std::atomic<std::uint64_t> cursor_{0};
  std::atomic<std::uint64_t> counts_{biased_zero};
};

}  // namespace bulwark::detail
