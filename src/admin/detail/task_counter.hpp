#pragma once
// Counts the coroutines a server has running (accept loop, sampler, sessions) so that stop() can
// wait for them: each holds a token for its whole life.
//
// Thread-safety: every member may be called from any thread.

#include "bulwark/core/duration.hpp"

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

namespace bulwark::detail {

class TaskCounter : public std::enable_shared_from_this<TaskCounter> {
 public:
  /// Held by one running task; counts it until destroyed. Keeps the counter alive.
  class Token {
   public:
    Token() = default;
    explicit Token(std::shared_ptr<TaskCounter> counter) noexcept : counter_(std::move(counter)) {}
    Token(Token&&) noexcept = default;
    Token& operator=(Token&& other) noexcept {
      if (this != &other) {
        release();
        counter_ = std::move(other.counter_);
      }
      return *this;
    }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() { release(); }

   private:
    void release() noexcept {
      if (counter_) counter_->leave();
      counter_.reset();
    }
    std::shared_ptr<TaskCounter> counter_;
  };

  /// Counts one more task until the token is destroyed.
  [[nodiscard]] Token enter();
  /// Waits until no task runs, or `limit` passed; true when none runs.
  [[nodiscard]] bool wait_idle(Duration limit);
  [[nodiscard]] std::size_t running() const;

 private:
  void leave() noexcept;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t running_ = 0;
};

}  // namespace bulwark::detail
