#include "bulwark/core/random.hpp"

#include <random>

namespace bulwark {

Random::Random() : state_(0) {
  std::random_device device;
  state_.store((static_cast<std::uint64_t>(device()) << 32) ^ device(), std::memory_order_relaxed);
}

std::uint64_t Random::next() noexcept {
  constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state_.fetch_add(golden_gamma, std::memory_order_relaxed) + golden_gamma;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Random::uniform() noexcept {
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::chrono::nanoseconds Random::between(std::chrono::nanoseconds lo,
                                         std::chrono::nanoseconds hi) noexcept {
  if (hi <= lo) return lo;
  const auto span = static_cast<std::uint64_t>((hi - lo).count()) + 1;
  return lo + std::chrono::nanoseconds{static_cast<std::int64_t>(next() % span)};
}

}  // namespace bulwark
