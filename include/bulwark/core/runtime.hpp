#pragma once
/// @file
/// `Runtime`: the library's own `io_context` and the threads that run it. Asynchronous clients
/// run on it (or on an executor the application hands in), and the blocking facades (`SyncClient`)
/// run their coroutines on it and wait for the result.
///
/// Thread-safety: every member may be called from any thread, except that `block_on` must not be
/// called from one of the runtime's own threads (it would wait for work that this very thread
/// should run); doing so throws `Error(errc::invalid_argument)` instead of deadlocking.
///
/// Lifetime: the destructor stops the `io_context` and joins its threads. Work still pending is
/// abandoned: stop clients before destroying the runtime they run on.

#include "bulwark/core/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace bulwark {
namespace detail {

// What `Runtime::block_on` hands from the runtime's thread to the blocked one. The exception
// travels as an `exception_ptr` moved under the mutex, and the runtime's thread drops every
// reference of its own before it signals: the waiting thread is then the only owner, and the
// exception's lifetime is ordered by the mutex alone (the reference count inside libstdc++ is
// invisible to ThreadSanitizer, and `std::future` left the last release to either thread).
template <class T>
class BlockingOutcome {
 public:
  using Value = std::conditional_t<std::is_void_v<T>, bool, T>;

  void set(std::optional<Value> value, std::exception_ptr error) {
    {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
      error_ = std::move(error);
      done_ = true;
    }
    ready_.notify_one();
  }

  T wait() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return done_; });
    if (error_) {
      const std::exception_ptr error = std::move(error_);
      lock.unlock();
      std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  bool done_ = false;
  std::optional<Value> value_;
  std::exception_ptr error_;
};

// Sets its outcome exactly once: with the result, or, when the coroutine holding it is
// destroyed without having run to its end (its runtime went away), with `shutting_down`.
template <class T>
class OutcomeSetter {
 public:
  explicit OutcomeSetter(std::shared_ptr<BlockingOutcome<T>> outcome)
      : outcome_(std::move(outcome)) {}
  OutcomeSetter(OutcomeSetter&&) noexcept = default;
  OutcomeSetter& operator=(OutcomeSetter&&) = delete;
  OutcomeSetter(const OutcomeSetter&) = delete;
  OutcomeSetter& operator=(const OutcomeSetter&) = delete;
  ~OutcomeSetter() {
    if (outcome_) {
      set({}, std::make_exception_ptr(Error(make_error_code(errc::shutting_down), {},
                                            "the runtime stopped before the call completed")));
    }
  }

  void set(std::optional<typename BlockingOutcome<T>::Value> value, std::exception_ptr error) {
    std::exchange(outcome_, nullptr)->set(std::move(value), std::move(error));
  }

 private:
  std::shared_ptr<BlockingOutcome<T>> outcome_;
};

template <class T>
boost::asio::awaitable<void> run_to_outcome(boost::asio::awaitable<T> work,
                                            OutcomeSetter<T> setter) {
  std::optional<typename BlockingOutcome<T>::Value> value;
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(work);
      value.emplace(true);
    } else {
      value.emplace(co_await std::move(work));
    }
  } catch (...) {
    error = std::current_exception();
  }
  setter.set(std::move(value), std::move(error));
}

// Runs `work` on `executor` and blocks until it completes: `Runtime::block_on` without the
// check that the calling thread is not one that runs `executor`.
template <class T, class Executor>
T block_on(const Executor& executor, boost::asio::awaitable<T> work) {
  auto outcome = std::make_shared<BlockingOutcome<T>>();
  boost::asio::co_spawn(executor, run_to_outcome(std::move(work), OutcomeSetter<T>(outcome)),
                        boost::asio::detached);
  return outcome->wait();
}

}  // namespace detail

struct RuntimeOptions {
  /// Threads running the io_context; >= 1. One thread needs no locking in handlers and is usually
  /// enough for a client process; more help when many connections are busy at once.
  std::size_t threads = 1;
};

class Runtime {
 public:
  /// Starts the threads. Throws `ConfigError` for `threads == 0`.
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] boost::asio::io_context& context() noexcept { return context_; }
  [[nodiscard]] boost::asio::any_io_executor executor() noexcept { return context_.get_executor(); }
  [[nodiscard]] std::size_t thread_count() const noexcept { return threads_.size(); }

  /// True when called from one of this runtime's threads.
  [[nodiscard]] bool running_in_this_thread() const noexcept;

  /// Stops the io_context and joins the threads; idempotent. Called by the destructor.
  void stop() noexcept;

  /// Runs `work` on the runtime and blocks the calling thread until it completes; returns its
  /// value or rethrows its exception. When the runtime is destroyed before `work` ran to its end,
  /// throws `Error(errc::shutting_down)`.
  template <class T>
  T block_on(boost::asio::awaitable<T> work) {
    if (running_in_this_thread()) {
      throw Error(make_error_code(errc::invalid_argument), {},
                  "block_on called from a runtime thread; co_await the operation instead");
    }
    return detail::block_on(context_.get_executor(), std::move(work));
  }

 private:
  boost::asio::io_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace bulwark
