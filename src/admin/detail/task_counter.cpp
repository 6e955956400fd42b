#include "admin/detail/task_counter.hpp"

namespace bulwark::detail {

TaskCounter::Token TaskCounter::enter() {
  std::lock_guard lock(mutex_);
  ++running_;
  return Token(shared_from_this());
}

bool TaskCounter::wait_idle(Duration limit) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, limit, [this] { return running_ == 0; });
}

std::size_t TaskCounter::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void TaskCounter::leave() noexcept {
  std::lock_guard lock(mutex_);
  if (--running_ == 0) idle_.notify_all();
}

}  // namespace bulwark::detail
