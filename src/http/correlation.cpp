#include "bulwark/http/correlation.hpp"

#include <openssl/rand.h>

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace bulwark::http {
namespace {

thread_local const CorrelationScope* innermost = nullptr;

// Random bytes drawn from OpenSSL's CSPRNG a batch at a time: one RAND_bytes call costs about
// as much as generating a few hundred bytes, and every request may need an ID.
class RandomBatch {
 public:
  std::array<std::uint8_t, 16> next16() {
    // A forked child must not hand out the IDs its parent will.
    const auto generation = fork_generation.load(std::memory_order_relaxed);
    if (used_ + 16 > bytes_.size() || generation != generation_) {
      if (RAND_bytes(bytes_.data(), static_cast<int>(bytes_.size())) != 1) {
        throw std::runtime_error("correlation id: RAND_bytes failed");
      }
      used_ = 0;
      generation_ = generation;
    }
    std::array<std::uint8_t, 16> out{};
    std::memcpy(out.data(), bytes_.data() + used_, out.size());
    // Bytes handed out are not kept.
    std::memset(bytes_.data() + used_, 0, out.size());
    used_ += out.size();
    return out;
  }

  static void after_fork() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }

 private:
  static inline std::atomic<std::uint64_t> fork_generation{0};
  std::array<std::uint8_t, 512> bytes_{};
  std::size_t used_ = 512;
  std::uint64_t generation_ = 0;
};

thread_local RandomBatch random_batch;
const int fork_handler = ::pthread_atfork(nullptr, nullptr, &RandomBatch::after_fork);

}  // namespace

std::string new_correlation_id() {
  (void)fork_handler;
  // IDs are sent to other services; a predictable generator would let one caller guess
  // another's IDs, so they come from OpenSSL's CSPRNG.
  std::array<std::uint8_t, 16> bytes = random_batch.next16();
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
