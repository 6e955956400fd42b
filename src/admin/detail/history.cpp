#include "admin/detail/history.hpp"

#include <algorithm>

namespace bulwark::detail {
namespace {

const ClientSample* find(const Sample& sample, std::string_view client) {
  for (const ClientSample& entry : sample.clients) {
    if (entry.name == client) return &entry;
  }
  return nullptr;
}

std::optional<ClientRates> rates_between(const Sample& before, const Sample& after,
                                         std::string_view client) {
  const ClientSample* a = find(before, client);
  const ClientSample* b = find(after, client);
  const double seconds = std::chrono::duration<double>(after.at - before.at).count();
  if (a == nullptr || b == nullptr || seconds <= 0) return std::nullopt;
  // Counters only grow; a smaller value would mean another source, so it counts as no calls.
  const auto delta = [](std::uint64_t from, std::uint64_t to) {
    return to >= from ? static_cast<double>(to - from) : 0.0;
  };
  return ClientRates{delta(a->calls, b->calls) / seconds, delta(a->errors, b->errors) / seconds};
}

}  // namespace

Sample make_sample(std::chrono::steady_clock::time_point at, const HealthReport& report,
                   const std::vector<ClientCallStats>& calls) {
  Sample sample;
  sample.at = at;
  sample.clients.reserve(report.clients.size());
  for (const ClientHealth& client : report.clients) {
    ClientSample entry;
    entry.name = client.name;
    entry.latency = client.last_check == 0 ? Duration::zero() : client.latency;
    const auto counted = std::find_if(calls.begin(), calls.end(), [&](const ClientCallStats& s) {
      return s.name == client.name;
    });
    if (counted != calls.end()) {
      entry.calls = counted->calls;
      entry.errors = counted->errors;
    }
    sample.clients.push_back(std::move(entry));
  }
  return sample;
}

History::History(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 2)) {}

void History::add(Sample sample) {
  if (!samples_.empty() && sample.at <= samples_.back().at) return;
  if (samples_.size() == capacity_) samples_.pop_front();
  samples_.push_back(std::move(sample));
}

std::optional<ClientRates> History::last_rates(std::string_view client) const {
  if (samples_.size() < 2) return std::nullopt;
  return rates_between(samples_[samples_.size() - 2], samples_.back(), client);
}

std::vector<double> History::latency_ms(std::string_view client) const {
  std::vector<double> values;
  values.reserve(samples_.size());
  for (const Sample& sample : samples_) {
    if (const ClientSample* entry = find(sample, client)) {
      values.push_back(std::chrono::duration<double, std::milli>(entry->latency).count());
    }
  }
  return values;
}

std::vector<double> History::errors_per_second(std::string_view client) const {
  std::vector<double> values;
  for (std::size_t i = 1; i < samples_.size(); ++i) {
    if (auto rates = rates_between(samples_[i - 1], samples_[i], client)) {
      values.push_back(rates->errors);
    }
  }
  return values;
}

}  // namespace bulwark::detail
