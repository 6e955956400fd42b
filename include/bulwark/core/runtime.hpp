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
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace bulwark {

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
  /// value or rethrows its exception.
  template <class T>
  T block_on(boost::asio::awaitable<T> work) {
    if (running_in_this_thread()) {
      throw Error(make_error_code(errc::invalid_argument), {},
                  "block_on called from a runtime thread; co_await the operation instead");
    }
    return boost::asio::co_spawn(context_, std::move(work), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace bulwark
