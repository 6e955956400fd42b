// A declared length reserves no more than the bytes received could fill. Measured by replacing
// the global operator new of this test program with one that records the largest request while a
// test asks it to; every other allocation passes straight through to malloc.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "bulwark/core/error.hpp"
#include "bulwark/redis/resp_parser.hpp"

namespace {

std::atomic<bool> recording{false};
std::atomic<std::size_t> largest{0};

}  // namespace

// These replacements pair malloc with free by design; GCC cannot see that new and delete are
// replaced together once it inlines them into callers, and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  if (recording.load(std::memory_order_relaxed)) {
    std::size_t seen = largest.load(std::memory_order_relaxed);
    while (size > seen && !largest.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace bulwark::redis {
namespace {

class LargestAllocation {
 public:
  LargestAllocation() {
    largest = 0;
    recording = true;
  }
  ~LargestAllocation() { recording = false; }
  [[nodiscard]] std::size_t bytes() const { return largest.load(); }
};

constexpr std::size_t small = 64 * 1024;

TEST(ParserMemory, HugeArrayHeaderAllocatesNothingLarge) {
  Parser parser;
  const LargestAllocation allocation;
  ASSERT_FALSE(parser.feed("*16000000\r\n:1\r\n:2\r\n"));
  ASSERT_FALSE(parser.feed("%8000000\r\n~8000000\r\n>8000000\r\n|8000000\r\n"));
  EXPECT_LT(allocation.bytes(), small);
  EXPECT_FALSE(parser.failed());
}

TEST(ParserMemory, HugeBulkHeaderAllocatesOnlyWhatArrives) {
  Parser parser;
  const LargestAllocation allocation;
  ASSERT_FALSE(parser.feed("$536870912\r\nabc"));
  ASSERT_FALSE(parser.feed(std::string(1000, 'x')));
  EXPECT_LT(allocation.bytes(), small);
}

TEST(ParserMemory, ReservationFollowsTheBytesInHand) {
  // Proves the measurement works: a header followed by its elements in the same chunk does
  // reserve for them up front.
  std::string wire = "*20000\r\n";
  for (int i = 0; i < 20000; ++i) wire += "_\r\n";
  Parser parser;
  const LargestAllocation allocation;
  ASSERT_FALSE(parser.feed(wire));
  EXPECT_GE(allocation.bytes(), 20000 * sizeof(Value));
}

TEST(ParserMemory, LengthsBeyondTheLimitsFailBeforeAllocating) {
  Parser parser;
  const LargestAllocation allocation;
  EXPECT_EQ(parser.feed("*2000000000\r\n"), errc::limit_exceeded);
  EXPECT_LT(allocation.bytes(), small);
}

}  // namespace
}  // namespace bulwark::redis
