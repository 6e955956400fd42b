#include "bulwark/shared/breaker_message.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <chrono>

namespace bulwark::shared {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::string_view to_string(SharedBreakerState state) noexcept {
  return state == SharedBreakerState::open ? "open" : "closed";
}

std::string encode(const BreakerMessage& message) {
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(message.wait).count();
  return fmt::format("v1|{}|{}|{}|{}", to_string(message.state), message.epoch, wait_ms,
                     message.instance);
}

std::optional<BreakerMessage> decode_breaker_message(std::string_view payload) {
  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  std::size_t start = 0;
  while (count < fields.size()) {
    const std::size_t bar =
        count + 1 < fields.size() ? payload.find('|', start) : std::string_view::npos;
    if (bar == std::string_view::npos && count + 1 < fields.size()) return std::nullopt;
    fields[count++] = payload.substr(start, bar == std::string_view::npos ? bar : bar - start);
    start = bar + 1;
  }
  if (fields[0] != "v1") return std::nullopt;
  BreakerMessage message;
  if (fields[1] == "open") {
    message.state = SharedBreakerState::open;
  } else if (fields[1] == "closed") {
    message.state = SharedBreakerState::closed;
  } else {
    return std::nullopt;
  }
  const auto epoch = number(fields[2]);
  const auto wait_ms = number(fields[3]);
  // An epoch is at least 1 (INCR); a wait beyond a year is not a wait this protocol sends.
  constexpr std::uint64_t max_wait_ms = 366ULL * 24 * 3600 * 1000;
  if (!epoch || *epoch == 0 || !wait_ms || *wait_ms > max_wait_ms) return std::nullopt;
  if (fields[4].empty() || fields[4].find('|') != std::string_view::npos) return std::nullopt;
  message.epoch = *epoch;
  message.wait = std::chrono::milliseconds(static_cast<std::int64_t>(*wait_ms));
  message.instance = std::string(fields[4]);
  return message;
}

Admission EpochFilter::admit(const BreakerMessage& message) noexcept {
  if (message.instance == instance_) return Admission::own;
  return raise_to(message.epoch) ? Admission::apply : Admission::stale;
}

void EpochFilter::published(std::uint64_t epoch) noexcept { (void)raise_to(epoch); }

void EpochFilter::restart_from(std::uint64_t epoch) noexcept {
  last_.store(epoch, std::memory_order_release);
}

bool EpochFilter::raise_to(std::uint64_t epoch) noexcept {
  std::uint64_t seen = last_.load(std::memory_order_acquire);
  while (epoch > seen) {
    if (last_.compare_exchange_weak(seen, epoch, std::memory_order_acq_rel)) return true;
  }
  return false;
}

}  // namespace bulwark::shared
