#include "soak_faults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>

namespace bulwark::soak {

namespace {

using std::chrono::milliseconds;
using test::Blackhole;
using test::FaultProxy;
using test::GarbageMode;

// Bounds of the random intervals: long enough for breakers to open (a few hundred calls a second
// go through each proxy) and for health checks to notice, short enough for many switches in a
// minute.
constexpr milliseconds min_fault{500};
constexpr milliseconds max_fault{3000};
constexpr milliseconds min_quiet{300};
constexpr milliseconds max_quiet{2000};

}  // namespace

std::vector<Fault> network_faults() {
  // The clients' timeouts in the soak's configuration are 250 ms: the latency faults straddle
  // them, so some calls are slow but in time and others time out.
  return {
      {"latency_150ms", [](FaultProxy& p) { p.latency(milliseconds(150), milliseconds(100)); }},
      {"latency_400ms", [](FaultProxy& p) { p.latency(milliseconds(400), milliseconds(200)); }},
      {"bandwidth_8kBps", [](FaultProxy& p) { p.bandwidth(8 * 1024); }},
      {"refuse", [](FaultProxy& p) { p.refuse(true); }},
      {"reset_on_accept", [](FaultProxy& p) { p.reset_on_accept(true); }},
      {"reset_after_bytes",
       [](FaultProxy& p) {
         p.drop_connections();
         p.reset_after(40, 8);
       }},
      {"blackhole_traffic", [](FaultProxy& p) { p.blackhole(Blackhole::traffic); }},
      {"blackhole_connects",
       [](FaultProxy& p) {
         p.drop_connections();
         p.blackhole(Blackhole::connects);
       }},
      {"slow_close", [](FaultProxy& p) { p.slow_close(milliseconds(300)); }},
      {"slice_3_bytes", [](FaultProxy& p) { p.slice(3, std::chrono::microseconds(200)); }},
      {"garbage",
       [](FaultProxy& p) { p.inject_garbage("\x01\xffNOT A REPLY\r\n", GarbageMode::once); }},
      {"down_1s", [](FaultProxy& p) { p.down_for(milliseconds(1000)); }},
      {"drop_connections", [](FaultProxy& p) { p.drop_connections(); }},
  };
}

FaultSchedule::FaultSchedule(std::string target, FaultProxy& proxy, std::uint64_t seed,
                             std::vector<Fault> extra)
    : target_(std::move(target)), proxy_(proxy), seed_(seed), faults_(network_faults()) {
  for (Fault& fault : extra) faults_.push_back(std::move(fault));
}

FaultSchedule::~FaultSchedule() { stop(); }

void FaultSchedule::start() {
  thread_ = std::thread([this] { run(); });
}

void FaultSchedule::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, std::uint64_t> FaultSchedule::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

Duration FaultSchedule::faulty_time() const {
  std::lock_guard lock(mutex_);
  return faulty_;
}

void FaultSchedule::run() {
  std::mt19937_64 random(seed_);
  // Dealt from a shuffled deck, reshuffled once used up: random order, yet every fault comes up
  // within a minute or so.
  std::vector<std::size_t> deck(faults_.size());
  std::size_t dealt = deck.size();
  std::uniform_int_distribution<milliseconds::rep> fault_ms(min_fault.count(), max_fault.count());
  std::uniform_int_distribution<milliseconds::rep> quiet_ms(min_quiet.count(), max_quiet.count());
  // Waits `length` unless stopped first; returns false when stopped.
  const auto wait = [this](milliseconds length) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, length, [this] { return stopping_.load(); });
  };
  while (wait(milliseconds(quiet_ms(random)))) {
    if (dealt == deck.size()) {
      for (std::size_t i = 0; i < deck.size(); ++i) deck[i] = i;
      std::shuffle(deck.begin(), deck.end(), random);
      dealt = 0;
    }
    const Fault& fault = faults_[deck[dealt++]];
    const milliseconds length(fault_ms(random));
    std::printf("fault: %s %s for %lld ms\n", target_.c_str(), fault.name.c_str(),
                static_cast<long long>(length.count()));
    std::fflush(stdout);
    fault.apply(proxy_);
    const auto began = std::chrono::steady_clock::now();
    const bool go_on = wait(length);
    proxy_.clear();
    {
      std::lock_guard lock(mutex_);
      ++counts_[fault.name];
      faulty_ += std::chrono::steady_clock::now() - began;
    }
    if (!go_on) break;
  }
  proxy_.clear();
}

}  // namespace bulwark::soak
