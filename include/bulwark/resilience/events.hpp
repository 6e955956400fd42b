#pragma once
/// @file
/// Publish/subscribe for the events of resilience primitives (state changes, rejections,
/// retries). Subscribing returns a `Subscription`; dropping it unsubscribes.
///
/// Thread-safety: `subscribe`, `publish` and destroying a `Subscription` may run concurrently
/// from any threads. Listeners run on the thread that publishes, outside any lock of the
/// publisher, so they may subscribe or unsubscribe; they must be quick and must not throw (an
/// exception from a listener is swallowed). A listener being removed may still receive an event
/// that was being published at the moment it was removed.
///
/// Cost: when nobody listens, `publish` is one relaxed atomic load; `has_listeners()` lets the
/// publisher skip building the event at all.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace bulwark {

/// Keeps a listener registered while it lives. Move-only; `reset()` unsubscribes early.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) noexcept : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  void reset() noexcept {
    if (auto cancel = std::exchange(cancel_, nullptr)) cancel();
  }
  [[nodiscard]] bool active() const noexcept { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

template <class Event>
class EventPublisher {
 public:
  using Listener = std::function<void(const Event&)>;

  EventPublisher() : state_(std::make_shared<State>()) {}
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  /// Registers `listener` until the returned `Subscription` is destroyed. The subscription may
  /// outlive the publisher.
  [[nodiscard]] Subscription subscribe(Listener listener) {
    std::lock_guard lock(state_->mutex);
    const std::uint64_t id = state_->next_id++;
    auto next = std::make_shared<Entries>(*state_->entries);
    next->emplace_back(id, std::move(listener));
    state_->entries = std::move(next);
    state_->count.store(state_->entries->size(), std::memory_order_release);
    return Subscription([weak = std::weak_ptr<State>(state_), id] {
      if (auto state = weak.lock()) state->remove(id);
    });
  }

  [[nodiscard]] bool has_listeners() const noexcept {
    return state_->count.load(std::memory_order_relaxed) != 0;
  }

  void publish(const Event& event) const noexcept {
    if (!has_listeners()) return;
    std::shared_ptr<const Entries> entries;
    {
      std::lock_guard lock(state_->mutex);
      entries = state_->entries;
    }
    for (const auto& entry : *entries) {
      try {
        entry.second(event);
      } catch (...) {  // NOLINT(bugprone-empty-catch): a listener must not break the caller.
      }
    }
  }

 private:
  using Entries = std::vector<std::pair<std::uint64_t, Listener>>;

  struct State {
    std::mutex mutex;
    std::shared_ptr<const Entries> entries = std::make_shared<Entries>();
    std::uint64_t next_id = 0;
    std::atomic<std::size_t> count{0};

    void remove(std::uint64_t id) {
      std::lock_guard lock(mutex);
      auto next = std::make_shared<Entries>();
      next->reserve(entries->size());
      for (const auto& entry : *entries) {
        if (entry.first != id) next->push_back(entry);
      }
      entries = std::move(next);
      count.store(entries->size(), std::memory_order_release);
    }
  };

  std::shared_ptr<State> state_;
};

}  // namespace bulwark
