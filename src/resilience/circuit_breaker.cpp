#include "bulwark/resilience/circuit_breaker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "bulwark/core/error.hpp"
#include "resilience/detail/count_window.hpp"
#include "resilience/detail/time_window.hpp"

namespace bulwark {

std::string_view to_string(BreakerState state) noexcept {
  switch (state) {
    case BreakerState::closed:
      return "closed";
    case BreakerState::open:
      return "open";
    case BreakerState::half_open:
      return "half_open";
    case BreakerState::disabled:
      return "disabled";
    case BreakerState::forced_open:
      return "forced_open";
  }
  return "unknown";
}

HealthState to_health(BreakerState state) noexcept {
  switch (state) {
    case BreakerState::closed:
    case BreakerState::disabled:
      return HealthState::healthy;
    case BreakerState::half_open:
      return HealthState::degraded;
    case BreakerState::open:
    case BreakerState::forced_open:
      return HealthState::failed;
  }
  return HealthState::failed;
}

namespace {

// The state word: generation in the high 56 bits, state in the low 8.
constexpr unsigned state_bits = 8;
constexpr std::uint64_t state_mask = (std::uint64_t{1} << state_bits) - 1;

constexpr std::uint64_t make_word(std::uint64_t generation, BreakerState state) noexcept {
  return (generation << state_bits) | static_cast<std::uint64_t>(state);
}
constexpr BreakerState state_of(std::uint64_t word) noexcept {
  return static_cast<BreakerState>(word & state_mask);
}
constexpr std::uint64_t generation_of(std::uint64_t word) noexcept { return word >> state_bits; }

// The HALF_OPEN probe word: the low 32 bits of the episode's generation, probes admitted (and
// not ignored), probes succeeded. Tagging it with the generation lets the thread that opens an
// episode reset it without racing threads that still hold the previous episode's permits.
constexpr std::uint64_t probe_taken_one = std::uint64_t{1} << 16;
constexpr std::uint64_t probe_word(std::uint64_t generation) noexcept {
  return (generation & 0xffff'ffffU) << 32;
}
constexpr std::uint64_t probe_tag(std::uint64_t probes) noexcept { return probes >> 32; }
constexpr std::uint32_t probes_taken(std::uint64_t probes) noexcept {
  return static_cast<std::uint32_t>((probes >> 16) & 0xffffU);
}
constexpr std::uint32_t probes_succeeded(std::uint64_t probes) noexcept {
  return static_cast<std::uint32_t>(probes & 0xffffU);
}
constexpr bool same_episode(std::uint64_t probes, std::uint64_t generation) noexcept {
  return probe_tag(probes) == (generation & 0xffff'ffffU);
}

// Bounds lazy-transition loops: a configuration with a zero wait and a tiny half-open limit
// could otherwise bounce between OPEN and HALF_OPEN for as long as the clock keeps moving.
constexpr int max_transitions_per_call = 4;

constexpr std::uint32_t max_permitted_calls = 0xffffU;

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::numeric_limits<std::int64_t>::max();
  return sum;
}

std::string percent(double fraction) { return fmt::format("{:.4g}%", fraction * 100.0); }

std::string spell(Duration d) { return format_duration(d); }

}  // namespace

void CircuitBreaker::validate(const CircuitBreakerConfig& c, std::vector<ConfigIssue>& issues,
                              std::string_view path) {
  const auto bad = [&](std::string_view field, std::string message) {
    issues.push_back({fmt::format("{}.{}", path, field), std::move(message)});
  };
  const auto in_unit = [](double x) { return x >= 0.0 && x <= 1.0; };  // false for NaN

  if (c.window_size < 1 || c.window_size > detail::CountWindow::max_size) {
    bad("window_size",
        fmt::format("must be in [1, {}], got {}", detail::CountWindow::max_size, c.window_size));
  }
  if (c.window_buckets < 1 || c.window_buckets > detail::TimeWindow::max_buckets) {
    bad("window_buckets", fmt::format("must be in [1, {}], got {}", detail::TimeWindow::max_buckets,
                                      c.window_buckets));
  }
  if (c.window_duration <= Duration::zero()) {
    bad("window_duration", fmt::format("must be > 0, got {}", spell(c.window_duration)));
  } else if (c.window_buckets >= 1 && c.window_duration.count() < c.window_buckets) {
    bad("window_duration", fmt::format("must be at least window_buckets ({}) nanoseconds, got {}",
                                       c.window_buckets, spell(c.window_duration)));
  }
  if (c.window_type == WindowType::count_based && c.window_size >= 1 &&
      c.minimum_calls > c.window_size) {
    bad("minimum_calls",
        fmt::format("must be <= window_size ({}), got {}", c.window_size, c.minimum_calls));
  }
  if (!in_unit(c.failure_rate_threshold)) {
    bad("failure_rate_threshold",
        fmt::format("must be in [0, 1], got {}", c.failure_rate_threshold));
  }
  if (c.slow_call_duration < Duration::zero()) {
    bad("slow_call_duration", fmt::format("must be >= 0, got {}", spell(c.slow_call_duration)));
  }
  if (!(c.slow_call_rate_threshold > 0.0 && c.slow_call_rate_threshold <= 1.0)) {
    bad("slow_call_rate_threshold",
        fmt::format("must be in (0, 1], got {}", c.slow_call_rate_threshold));
  }
  if (c.recovery_timeout < Duration::zero()) {
    bad("recovery_timeout", fmt::format("must be >= 0, got {}", spell(c.recovery_timeout)));
  }
  if (!(c.recovery_backoff >= 1.0) || !std::isfinite(c.recovery_backoff)) {
    bad("recovery_backoff", fmt::format("must be >= 1, got {}", c.recovery_backoff));
  }
  if (c.max_recovery_timeout < c.recovery_timeout) {
    bad("max_recovery_timeout",
        fmt::format("must be >= recovery_timeout ({}), got {}", spell(c.recovery_timeout),
                    spell(c.max_recovery_timeout)));
  }
  if (!(c.recovery_jitter >= 0.0 && c.recovery_jitter < 1.0)) {
    bad("recovery_jitter", fmt::format("must be in [0, 1), got {}", c.recovery_jitter));
  }
  if (c.half_open_permitted_calls < 1 || c.half_open_permitted_calls > max_permitted_calls) {
    bad("half_open_permitted_calls", fmt::format("must be in [1, {}], got {}", max_permitted_calls,
                                                 c.half_open_permitted_calls));
  }
  if (c.half_open_success_threshold < 1 ||
      c.half_open_success_threshold > c.half_open_permitted_calls) {
    bad("half_open_success_threshold",
        fmt::format("must be in [1, half_open_permitted_calls ({})], got {}",
                    c.half_open_permitted_calls, c.half_open_success_threshold));
  }
  if (c.max_half_open_duration < Duration::zero()) {
    bad("max_half_open_duration",
        fmt::format("must be >= 0, got {}", spell(c.max_half_open_duration)));
  }
}

namespace {

CircuitBreakerConfig validated(CircuitBreakerConfig config) {
  std::vector<ConfigIssue> issues;
  CircuitBreaker::validate(config, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  if (!config.clock) config.clock = steady_clock();
  if (!config.random) config.random = std::make_shared<Random>();
  return config;
}

// Whether a manual transition publishes when the state does not change.
enum class Announce : std::uint8_t { when_changed, always };

}  // namespace

struct CircuitBreaker::Impl {
  explicit Impl(CircuitBreakerConfig c)
      : config_(validated(std::move(c))),
        clock_(*config_.clock),
        slow_call_ns_(config_.slow_call_duration.count()),
        minimum_calls_(std::max<std::uint32_t>(config_.minimum_calls, 1)),
        recovery_base_ns_(config_.recovery_timeout.count()) {
    if (config_.window_type == WindowType::count_based) {
      count_window_.emplace(config_.window_size);
    } else {
      time_window_.emplace(config_.window_duration, config_.window_buckets);
    }
  }

  // --- permits -------------------------------------------------------------------------------

  Result<Permit> acquire() noexcept {
    for (int round = 0;; ++round) {
      const std::uint64_t word = word_.load(std::memory_order_acquire);
      switch (state_of(word)) {
        case BreakerState::closed:
        case BreakerState::disabled:
          return Permit{generation_of(word), false};
        case BreakerState::forced_open:
          return reject(word, std::nullopt);
        case BreakerState::open: {
          const Clock::time_point now = clock_.coarse_now();
          if (round >= max_transitions_per_call || !open_wait_over(now) || !probe_permitted()) {
            return reject(word, now);
          }
          to_half_open(word, now);
          continue;
        }
        case BreakerState::half_open: {
          const Clock::time_point now = clock_.coarse_now();
          if (half_open_expired(now)) {
            if (round >= max_transitions_per_call) return reject(word, now);
            reopen_after_half_open_timeout(word, now);
            continue;
          }
          std::uint64_t probes = probes_.load(std::memory_order_acquire);
          while (same_episode(probes, generation_of(word))) {
            if (probes_taken(probes) >= config_.half_open_permitted_calls) return reject(word, now);
            if (probes_.compare_exchange_weak(probes, probes + probe_taken_one,
                                              std::memory_order_acq_rel)) {
              return Permit{generation_of(word), true};
            }
          }
          continue;  // a newer episode or state: look again
        }
      }
      return reject(word, std::nullopt);
    }
  }

  std::error_code reject(std::uint64_t word, std::optional<Clock::time_point> now) noexcept {
    rejected_total_.fetch_add(1, std::memory_order_relaxed);
    if (events_.has_listeners()) {
      const BreakerState state = state_of(word);
      events_.publish(BreakerEvent{BreakerEvent::Type::rejected,
                                   config_.name,
                                   state,
                                   state,
                                   now ? *now : clock_.coarse_now(),
                                   {}});
    }
    return make_error_code(errc::circuit_open);
  }

  // --- outcomes ------------------------------------------------------------------------------

  void on_result(const Permit& permit, Verdict verdict, Duration elapsed) noexcept {
    if (verdict == Verdict::ignored) {
      on_ignored(permit);
      return;
    }
    const bool failed = verdict == Verdict::failure;
    const bool slow = slow_call_ns_ > 0 && elapsed.count() > slow_call_ns_;
    if (failed) failed_total_.fetch_add(1, std::memory_order_relaxed);
    if (slow) slow_total_.fetch_add(1, std::memory_order_relaxed);

    const std::uint64_t word = word_.load(std::memory_order_acquire);
    if (generation_of(word) == permit.generation) {
      if (state_of(word) == BreakerState::closed) {
        record(word, failed, slow);
        return;
      }
      if (state_of(word) == BreakerState::half_open && permit.probe) {
        probe_finished(word, failed, slow);
      }
    }
    // Outside the window (probe, DISABLED, stale generation): only the totals count it.
    if (!failed) off_window_successes_.fetch_add(1, std::memory_order_relaxed);
  }

  void on_ignored(const Permit& permit) noexcept {
    ignored_total_.fetch_add(1, std::memory_order_relaxed);
    if (!permit.probe) return;
    const std::uint64_t word = word_.load(std::memory_order_acquire);
    if (word != make_word(permit.generation, BreakerState::half_open)) return;
    std::uint64_t probes = probes_.load(std::memory_order_acquire);
    while (same_episode(probes, permit.generation) && probes_taken(probes) > 0) {
      if (probes_.compare_exchange_weak(probes, probes - probe_taken_one,
                                        std::memory_order_acq_rel)) {
        return;
      }
    }
  }

  // CLOSED, current generation.
  void record(std::uint64_t word, bool failed, bool slow) noexcept {
    if (!failed && !slow) {
      // The hot path: a fast success can never open the breaker, so nothing is evaluated.
      if (count_window_) {
        count_window_->record_success();
      } else {
        time_window_->record_at(detail::outcome_call, clock_.coarse_now());
      }
      // Load first: a stream of successes then never writes this shared line.
      if (consecutive_.load(std::memory_order_relaxed) != 0) {
        consecutive_.store(0, std::memory_order_relaxed);
      }
      return;
    }
    // Counted before the outcome enters the window, so that a reader of `stats()` that sees the
    // outcome in the window's total also sees it here (see `successful_total`).
    if (failed) window_failures_.fetch_add(1, std::memory_order_acq_rel);
    const std::uint8_t outcome = detail::make_outcome(failed, slow);
    std::optional<Clock::time_point> now;
    detail::WindowCounts counts;
    if (count_window_) {
      counts = count_window_->record(outcome);
    } else {
      now = clock_.coarse_now();
      counts = time_window_->record(outcome, *now);
    }
    std::uint32_t in_a_row = 0;
    if (failed) {
      in_a_row = consecutive_.fetch_add(1, std::memory_order_relaxed) + 1;
    } else if (consecutive_.load(std::memory_order_relaxed) != 0) {
      consecutive_.store(0, std::memory_order_relaxed);
    }
    evaluate(word, counts, in_a_row, now);
  }

  void evaluate(std::uint64_t word, const detail::WindowCounts& counts, std::uint32_t in_a_row,
                std::optional<Clock::time_point> now) noexcept {
    const auto open_because = [&](auto reason) {
      transition(word, BreakerState::open, now ? *now : clock_.coarse_now(), reason);
    };
    if (config_.consecutive_failures > 0 && in_a_row >= config_.consecutive_failures) {
      open_because([&] { return fmt::format("{} consecutive failures", in_a_row); });
      return;
    }
    if (counts.calls < minimum_calls_) return;
    const double calls = counts.calls;
    const double failure_rate = counts.failed / calls;
    if (config_.failure_rate_threshold > 0.0 && failure_rate >= config_.failure_rate_threshold) {
      open_because([&] {
        return fmt::format("failure rate {} >= {} over {} calls", percent(failure_rate),
                           percent(config_.failure_rate_threshold), counts.calls);
      });
      return;
    }
    const double slow_rate = counts.slow / calls;
    if (slow_call_ns_ > 0 && slow_rate >= config_.slow_call_rate_threshold) {
      open_because([&] {
        return fmt::format("slow-call rate {} >= {} over {} calls", percent(slow_rate),
                           percent(config_.slow_call_rate_threshold), counts.calls);
      });
    }
  }

  // HALF_OPEN, current generation, a probe permit.
  void probe_finished(std::uint64_t word, bool failed, bool slow) noexcept {
    if (failed || slow) {
      transition(word, BreakerState::open, clock_.coarse_now(),
                 [&] { return std::string(failed ? "probe failed" : "probe was slow"); });
      return;
    }
    std::uint64_t probes = probes_.load(std::memory_order_acquire);
    while (same_episode(probes, generation_of(word))) {
      if (probes_.compare_exchange_weak(probes, probes + 1, std::memory_order_acq_rel)) {
        const std::uint32_t succeeded = probes_succeeded(probes) + 1;
        if (succeeded >= config_.half_open_success_threshold) {
          transition(word, BreakerState::closed, clock_.coarse_now(), [&] {
            return fmt::format("{} probe{} succeeded", succeeded, succeeded == 1 ? "" : "s");
          });
        }
        return;
      }
    }
  }

  // --- lazy transitions ----------------------------------------------------------------------

  bool open_wait_over(Clock::time_point now) const noexcept {
    return now.time_since_epoch().count() >= open_until_ns_.load(std::memory_order_acquire);
  }

  bool probe_permitted() const noexcept { return !config_.probe_gate || config_.probe_gate(); }

  bool half_open_expired(Clock::time_point now) const noexcept {
    const Duration limit = config_.max_half_open_duration;
    if (limit <= Duration::zero()) return false;
    const std::int64_t since = half_open_since_ns_.load(std::memory_order_acquire);
    return now.time_since_epoch().count() - since > limit.count();
  }

  void to_half_open(std::uint64_t word, Clock::time_point now) noexcept {
    transition(word, BreakerState::half_open, now,
               [] { return std::string("recovery timeout elapsed"); });
  }

  void reopen_after_half_open_timeout(std::uint64_t word, Clock::time_point now) noexcept {
    transition(word, BreakerState::open, now, [&] {
      return fmt::format("half-open for longer than {}", spell(config_.max_half_open_duration));
    });
  }

  BreakerState current_state() noexcept {
    for (int round = 0;; ++round) {
      const std::uint64_t word = word_.load(std::memory_order_acquire);
      const BreakerState state = state_of(word);
      if (round >= max_transitions_per_call) return state;
      if (state == BreakerState::open) {
        const Clock::time_point now = clock_.coarse_now();
        if (!open_wait_over(now) || !probe_permitted()) return state;
        to_half_open(word, now);
        continue;
      }
      if (state == BreakerState::half_open) {
        const Clock::time_point now = clock_.coarse_now();
        if (!half_open_expired(now)) return state;
        reopen_after_half_open_timeout(word, now);
        continue;
      }
      return state;
    }
  }

  // --- transitions ---------------------------------------------------------------------------

  // Moves from exactly `expected` to `to`; does nothing when another thread changed the state
  // first. `reason` builds the event's text and is only called when someone listens.
  template <class Reason>
  bool transition(std::uint64_t expected, BreakerState to, Clock::time_point now, Reason&& reason,
                  Announce announce = Announce::when_changed) noexcept {
    std::lock_guard lock(transition_mutex_);
    if (word_.load(std::memory_order_acquire) != expected) return false;
    const BreakerState from = state_of(expected);
    const std::uint64_t generation = generation_of(expected) + 1;
    // Everything the new state's readers need is written before the word that announces it.
    switch (to) {
      case BreakerState::open:
        enter_open(from, now);
        break;
      case BreakerState::half_open:
        half_open_since_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
        probes_.store(probe_word(generation), std::memory_order_release);
        break;
      case BreakerState::closed:
        if (count_window_) count_window_->clear();
        if (time_window_) time_window_->clear();
        consecutive_.store(0, std::memory_order_relaxed);
        recovery_base_ns_.store(config_.recovery_timeout.count(), std::memory_order_relaxed);
        break;
      case BreakerState::disabled:
      case BreakerState::forced_open:
        break;
    }
    word_.store(make_word(generation, to), std::memory_order_release);
    if ((from != to || announce == Announce::always) && events_.has_listeners()) {
      events_.publish(
          BreakerEvent{BreakerEvent::Type::state_changed, config_.name, from, to, now, reason()});
    }
    return true;
  }

  void enter_open(BreakerState from, Clock::time_point now) noexcept {
    if (adopted_until_ns_) {
      open_until_ns_.store(*adopted_until_ns_, std::memory_order_relaxed);
      adopted_until_ns_.reset();
      if (from != BreakerState::open) times_opened_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::int64_t base = recovery_base_ns_.load(std::memory_order_relaxed);
    if (from == BreakerState::half_open) {
      const double grown = static_cast<double>(base) * config_.recovery_backoff;
      const auto cap = static_cast<double>(config_.max_recovery_timeout.count());
      base = static_cast<std::int64_t>(std::min(grown, cap));
      recovery_base_ns_.store(base, std::memory_order_relaxed);
    }
    std::int64_t wait = base;
    if (config_.recovery_jitter > 0.0) {
      const double factor = 1.0 + config_.recovery_jitter * (2.0 * config_.random->uniform() - 1.0);
      // Below 2^63 even at the largest base (a jitter factor < 2 on < 2^63 / 2 ns is not
      // guaranteed, hence the clamp).
      const double jittered = std::min(static_cast<double>(base) * factor, 9.2e18);
      wait = std::max<std::int64_t>(0, std::llround(jittered));
    }
    open_until_ns_.store(saturating_add(now.time_since_epoch().count(), wait),
                         std::memory_order_relaxed);
    times_opened_.fetch_add(1, std::memory_order_relaxed);
  }

  // A manual transition: from whatever the state is now.
  void force(BreakerState to, std::string_view reason, Announce announce) {
    std::lock_guard lock(transition_mutex_);
    const std::uint64_t word = word_.load(std::memory_order_acquire);
    // Re-entering the same state is a no-op, except CLOSED, which promises a fresh window.
    if (state_of(word) == to && to != BreakerState::closed) return;
    transition(
        word, to, clock_.coarse_now(), [&] { return std::string(reason); }, announce);
  }

  bool adopt_open(Duration wait, std::string_view reason) {
    std::lock_guard lock(transition_mutex_);
    const std::uint64_t word = word_.load(std::memory_order_acquire);
    const BreakerState state = state_of(word);
    if (state != BreakerState::closed && state != BreakerState::open &&
        state != BreakerState::half_open) {
      return false;
    }
    const Clock::time_point now = clock_.coarse_now();
    adopted_until_ns_ =
        saturating_add(now.time_since_epoch().count(), std::max<std::int64_t>(wait.count(), 0));
    // Also from OPEN: a new generation, so that a thread that found the old wait over cannot
    // move the breaker to HALF_OPEN with the stale word.
    transition(word, BreakerState::open, now, [&] { return std::string(reason); });
    adopted_until_ns_.reset();
    return true;
  }

  bool adopt_closed(std::string_view reason) {
    std::lock_guard lock(transition_mutex_);
    const std::uint64_t word = word_.load(std::memory_order_acquire);
    const BreakerState state = state_of(word);
    if (state != BreakerState::open && state != BreakerState::half_open) return false;
    return transition(word, BreakerState::closed, clock_.coarse_now(),
                      [&] { return std::string(reason); });
  }

  Duration remaining_open_time() const noexcept {
    const std::uint64_t word = word_.load(std::memory_order_acquire);
    if (state_of(word) != BreakerState::open) return Duration::zero();
    const std::int64_t left = open_until_ns_.load(std::memory_order_acquire) -
                              clock_.coarse_now().time_since_epoch().count();
    return Duration{std::max<std::int64_t>(left, 0)};
  }

  // --- statistics ----------------------------------------------------------------------------

  CircuitBreakerStats stats() noexcept {
    CircuitBreakerStats s{};
    s.state = current_state();
    detail::WindowCounts counts;
    std::uint64_t recorded = 0;
    if (count_window_) {
      recorded = count_window_->recorded_total();
      counts = count_window_->snapshot();
    } else {
      recorded = time_window_->recorded_total();
      counts = time_window_->snapshot(clock_.coarse_now());
    }
    s.calls_in_window = counts.calls;
    s.failed_in_window = counts.failed;
    s.slow_in_window = counts.slow;
    if (counts.calls > 0) {
      s.failure_rate = static_cast<double>(counts.failed) / counts.calls;
      s.slow_call_rate = static_cast<double>(counts.slow) / counts.calls;
    }
    s.consecutive_failures = consecutive_.load(std::memory_order_relaxed);
    s.successful_total = successful_total(recorded);
    s.failed_total = failed_total_.load(std::memory_order_relaxed);
    s.slow_total = slow_total_.load(std::memory_order_relaxed);
    s.ignored_total = ignored_total_.load(std::memory_order_relaxed);
    s.rejected_total = rejected_total_.load(std::memory_order_relaxed);
    s.times_opened = times_opened_.load(std::memory_order_relaxed);
    s.current_recovery_timeout = Duration{recovery_base_ns_.load(std::memory_order_relaxed)};
    return s;
  }

  // Successes are not counted on the hot path: the window already counts every outcome it
  // records, and failures are counted anyway, so the successes among them are the difference.
  // `recorded` is read first, with acquire; each failure is counted before it is recorded, so
  // the difference can only be short by failures still in flight, never too large. Reporting the
  // running maximum keeps the counter from stepping back after such a short read.
  std::uint64_t successful_total(std::uint64_t recorded) noexcept {
    const std::uint64_t failures = window_failures_.load(std::memory_order_acquire);
    const std::uint64_t estimate = (recorded >= failures ? recorded - failures : 0) +
                                   off_window_successes_.load(std::memory_order_relaxed);
    std::uint64_t reported = successful_reported_.load(std::memory_order_relaxed);
    while (estimate > reported && !successful_reported_.compare_exchange_weak(
                                      reported, estimate, std::memory_order_relaxed)) {
    }
    return std::max(reported, estimate);
  }

  const CircuitBreakerConfig config_;
  Clock& clock_;
  const std::int64_t slow_call_ns_;
  const std::uint32_t minimum_calls_;
  std::optional<detail::CountWindow> count_window_;
  std::optional<detail::TimeWindow> time_window_;
  EventPublisher<BreakerEvent> events_;

  // Read by every call; written only by transitions and by failures.
  alignas(64) std::atomic<std::uint64_t> word_{make_word(0, BreakerState::closed)};
  std::atomic<std::uint32_t> consecutive_{0};
  std::atomic<std::int64_t> open_until_ns_{0};
  std::atomic<std::int64_t> half_open_since_ns_{0};
  std::atomic<std::uint64_t> probes_{probe_word(0)};
  std::atomic<std::int64_t> recovery_base_ns_;

  // Written by rejections, at the rate calls arrive while OPEN.
  alignas(64) std::atomic<std::uint64_t> rejected_total_{0};
  // Written off the success path.
  alignas(64) std::atomic<std::uint64_t> failed_total_{0};
  std::atomic<std::uint64_t> window_failures_{0};
  std::atomic<std::uint64_t> slow_total_{0};
  std::atomic<std::uint64_t> ignored_total_{0};
  std::atomic<std::uint64_t> off_window_successes_{0};
  std::atomic<std::uint64_t> times_opened_{0};
  std::atomic<std::uint64_t> successful_reported_{0};

  // Serialises transitions (never taken by permitting, recording or rejecting). Recursive so a
  // listener may call back into the breaker from the event of a transition.
  std::recursive_mutex transition_mutex_;
  // The end of an adopted OPEN wait, for the transition in progress; guarded by the mutex.
  std::optional<std::int64_t> adopted_until_ns_;
};

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}
CircuitBreaker::~CircuitBreaker() = default;
CircuitBreaker::CircuitBreaker(CircuitBreaker&&) noexcept = default;
CircuitBreaker& CircuitBreaker::operator=(CircuitBreaker&&) noexcept = default;

Result<CircuitBreaker::Permit> CircuitBreaker::try_acquire() noexcept { return impl_->acquire(); }

void CircuitBreaker::on_result(const Permit& permit, Verdict verdict, Duration elapsed) noexcept {
  impl_->on_result(permit, verdict, elapsed);
}
void CircuitBreaker::on_success(const Permit& permit, Duration elapsed) noexcept {
  impl_->on_result(permit, Verdict::success, elapsed);
}
void CircuitBreaker::on_failure(const Permit& permit, Duration elapsed) noexcept {
  impl_->on_result(permit, Verdict::failure, elapsed);
}
void CircuitBreaker::on_ignored(const Permit& permit) noexcept { impl_->on_ignored(permit); }

Verdict CircuitBreaker::classify(const std::error_code& ec) const {
  return impl_->config_.classify ? impl_->config_.classify(ec) : default_failure_classifier(ec);
}

bool CircuitBreaker::measures_duration() const noexcept { return impl_->slow_call_ns_ > 0; }

BreakerState CircuitBreaker::state() const noexcept { return impl_->current_state(); }

Duration CircuitBreaker::remaining_open_time() const noexcept {
  return impl_->remaining_open_time();
}

void CircuitBreaker::force_open() {
  impl_->force(BreakerState::forced_open, "forced open", Announce::when_changed);
}
void CircuitBreaker::disable() {
  impl_->force(BreakerState::disabled, "disabled", Announce::when_changed);
}
void CircuitBreaker::close() {
  impl_->force(BreakerState::closed, "closed manually", Announce::when_changed);
}
void CircuitBreaker::reset() { impl_->force(BreakerState::closed, "reset", Announce::always); }

bool CircuitBreaker::adopt_open(Duration wait, std::string_view reason) {
  return impl_->adopt_open(wait, reason);
}
bool CircuitBreaker::adopt_closed(std::string_view reason) { return impl_->adopt_closed(reason); }

CircuitBreakerStats CircuitBreaker::stats() const noexcept { return impl_->stats(); }

Subscription CircuitBreaker::on_event(std::function<void(const BreakerEvent&)> listener) {
  return impl_->events_.subscribe(std::move(listener));
}

const CircuitBreakerConfig& CircuitBreaker::config() const noexcept { return impl_->config_; }

std::string_view CircuitBreaker::name() const noexcept { return impl_->config_.name; }

}  // namespace bulwark
