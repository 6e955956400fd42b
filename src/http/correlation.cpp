#include "bulwark/http/correlation.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>

namespace bulwark::http {
namespace {

thread_local const CorrelationScope* innermost = nullptr;

}  // namespace

std::string new_correlation_id() {
  std::array<std::uint8_t, 16> bytes{};
  // IDs are sent to other services; a predictable generator would let one caller guess
  // another's IDs, so they come from OpenSSL's CSPRNG.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("correlation id: RAND_bytes failed");
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(hex[bytes[i] >> 4]);
    text.push_back(hex[bytes[i] & 0x0F]);
  }
  return text;
}

CorrelationScope::CorrelationScope(std::string id) : id_(std::move(id)), outer_(innermost) {
  innermost = this;
}

CorrelationScope::~CorrelationScope() { innermost = outer_; }

std::string_view CorrelationScope::current() noexcept {
  return innermost != nullptr ? std::string_view(innermost->id_) : std::string_view();
}

}  // namespace bulwark::http
