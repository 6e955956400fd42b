#pragma once
/// @file
/// `batch(items, fn, max_concurrency)`: runs `fn` on every item with at most `max_concurrency`
/// calls in flight, as coroutines on the caller's executor (no threads), and returns one
/// `Result` per item in the order of `items`. A failing item is reported in its `Result` and
/// does not stop the others.
///
///     std::vector<std::string> texts = ...;
///     auto vectors = co_await bulwark::batch(
///         texts, [&](const std::string& text) { return embeddings.embed_one(text); }, 4);
///     for (std::size_t i = 0; i < texts.size(); ++i) {
///       if (!vectors[i]) log("{}: {}", texts[i], vectors[i].error().message());
///     }
///
/// `fn(const Item&)` returns `awaitable<T>` (the item's result is `Result<T>`, or `Result<void>`)
/// or `awaitable<Result<T>>` (returned as is). An exception from it becomes the item's error:
/// the code of a `std::system_error` (so of every `bulwark::Error`) or of a
/// `boost::system::system_error` (Asio's), `errc::exception` for anything else.
///
/// Scheduling: `min(max_concurrency, items.size())` workers each take the next item not yet
/// started, so items start in order and a slow item holds only its own slot.
///
/// Cancellation: cancelling the `co_await` of the batch cancels the calls in flight (they fail
/// with whatever their operations report) and starts no more; items never started report
/// `errc::cancelled`.
///
/// GCC 12: a lambda that captures by value (a string, a shared_ptr) written inside the `co_await`
/// expression is destroyed twice (a compiler bug). Capture by reference, as above, or declare
/// the lambda in a statement of its own before the `co_await`.
///
/// Thread-safety: on a multi-threaded executor the calls of `fn` may run on several threads at
/// once; `fn` must allow that. Lifetime: `items` are moved into the batch, and each call gets a
/// reference to its item that stays valid until that call completes. `fn` is moved into the
/// batch and must not be invalidated by being moved.

#include "bulwark/core/error.hpp"
#include "bulwark/core/result.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace bulwark {
namespace detail {

template <class X>
struct awaitable_value;
template <class X, class Executor>
struct awaitable_value<boost::asio::awaitable<X, Executor>> {
  using type = X;
};

template <class X>
struct batch_result {
  using type = X;
};
template <class X>
struct batch_result<boost::system::result<X, std::error_code>> {
  using type = X;
};

/// The `T` of `batch`'s `Result<T>` for `fn(item)`.
template <class Fn, class Item>
using batch_value_t = typename batch_result<
    typename awaitable_value<std::decay_t<std::invoke_result_t<Fn&, const Item&>>>::type>::type;

template <class T, class Item, class Fn>
struct BatchState {
  std::vector<Item> items;
  Fn fn;
  std::vector<Result<T>> results;
  std::atomic<std::size_t> next{0};
};

template <class T, class Item, class Fn>
boost::asio::awaitable<void> run_one(BatchState<T, Item, Fn>& state, std::size_t index) {
  using Returned =
      typename awaitable_value<std::decay_t<std::invoke_result_t<Fn&, const Item&>>>::type;
  try {
    if constexpr (std::is_void_v<Returned>) {
      co_await std::invoke(state.fn, std::as_const(state.items[index]));
      state.results[index] = Result<void>();
    } else {
      state.results[index] = co_await std::invoke(state.fn, std::as_const(state.items[index]));
    }
  } catch (const std::system_error& error) {
    state.results[index] = error.code();
  } catch (const boost::system::system_error& error) {
    // What Asio's own operations throw (a cancelled timer, a refused connection).
    state.results[index] = std::error_code(error.code());
  } catch (...) {
    state.results[index] = make_error_code(errc::exception);
  }
}

// One of the batch's workers: takes items until none is left or the batch was cancelled.
// A named function rather than a lambda, so the coroutine frame owns its parameters.
template <class T, class Item, class Fn>
boost::asio::awaitable<void> batch_worker(BatchState<T, Item, Fn>& state) {
  for (;;) {
    const auto cancellation = co_await boost::asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != boost::asio::cancellation_type::none) co_return;
    const std::size_t index = state.next.fetch_add(1, std::memory_order_relaxed);
    if (index >= state.items.size()) co_return;
    co_await run_one(state, index);
  }
}

}  // namespace detail

/// Runs `fn` on every item with at most `max_concurrency` calls at once; see the file comment.
/// Throws `Error` (`invalid_argument`) when `max_concurrency` is 0.
template <class Item, class Fn, class T = detail::batch_value_t<Fn, Item>>
boost::asio::awaitable<std::vector<Result<T>>> batch(std::vector<Item> items, Fn fn,
                                                     std::size_t max_concurrency) {
  if (max_concurrency == 0) {
    throw Error(make_error_code(errc::invalid_argument), {}, "batch: max_concurrency must be >= 1");
  }
  detail::BatchState<T, Item, Fn> state{std::move(items), std::move(fn), {}};
  const std::size_t count = state.items.size();
  state.results.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    state.results.emplace_back(boost::system::in_place_error, make_error_code(errc::cancelled));
  }
  if (count == 0) co_return std::move(state.results);

  const auto executor = co_await boost::asio::this_coro::executor;
  using Operation =
      decltype(boost::asio::co_spawn(executor, detail::batch_worker(state), boost::asio::deferred));
  std::vector<Operation> workers;
  const std::size_t worker_count = std::min(max_concurrency, count);
  workers.reserve(worker_count);
  for (std::size_t i = 0; i < worker_count; ++i) {
    workers.push_back(
        boost::asio::co_spawn(executor, detail::batch_worker(state), boost::asio::deferred));
  }
  // Every worker is awaited, even after a cancellation, so none outlives `state`.
  auto [order, errors] =
      co_await boost::asio::experimental::make_parallel_group(std::move(workers))
          .async_wait(boost::asio::experimental::wait_for_all(), boost::asio::use_awaitable);
  (void)order;
  // Workers catch what the items throw; only a failure of the batch itself (an allocation)
  // arrives here.
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  co_return std::move(state.results);
}

}  // namespace bulwark
