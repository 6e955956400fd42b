#include "http/detail/error_window.hpp"

#include "resilience/detail/time_window.hpp"

namespace bulwark::detail {

static_assert(ErrorWindow::max_buckets == TimeWindow::max_buckets);

ErrorWindow::ErrorWindow(Clock::duration length, std::uint32_t buckets)
    : window_(std::make_unique<TimeWindow>(length, buckets)) {}

ErrorWindow::~ErrorWindow() = default;

void ErrorWindow::record(bool failed, Clock::time_point now) noexcept {
  window_->record_at(make_outcome(failed, false), now);
}

ErrorWindow::Counts ErrorWindow::snapshot(Clock::time_point now) const noexcept {
  const WindowCounts counts = window_->snapshot(now);
  return {counts.calls, counts.failed};
}

}  // namespace bulwark::detail
