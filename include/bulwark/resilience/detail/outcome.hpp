#pragma once
// What one attempt produced, as the pipeline carries it between its stages: a value, an error, or
// both (a value that a result classifier marked as a failure), plus the callee's own exception so
// that it reaches the caller unchanged.

#include "bulwark/core/error.hpp"
#include "bulwark/core/result.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <optional>
#include <system_error>
#include <type_traits>
#include <variant>

namespace bulwark::detail {

/// `void` cannot be stored; `std::monostate` stands in for it.
template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
struct Outcome {
  std::optional<stored_t<T>> value;
  std::error_code error;
  std::exception_ptr exception;

  [[nodiscard]] bool succeeded() const noexcept { return !error; }

  static Outcome failure(std::error_code ec) {
    Outcome outcome;
    outcome.error = ec;
    return outcome;
  }
};

// Records the exception being handled into `outcome`: a std::system_error or Boost system_error
// keeps its code; any other exception counts as errc::exception. Call only from a catch block.
template <class T>
void capture_current_exception(Outcome<T>& outcome) noexcept {
  // A value produced before the exception (a result classifier threw) is not a result.
  outcome.value.reset();
  outcome.exception = std::current_exception();
  try {
    throw;
  } catch (const std::system_error& error) {
    outcome.error = error.code() ? error.code() : make_error_code(errc::exception);
  } catch (const boost::system::system_error& error) {
    // What Asio throws; not a std::system_error, but its code converts.
    outcome.error = error.code() ? std::error_code(error.code()) : make_error_code(errc::exception);
  } catch (...) {
    outcome.error = make_error_code(errc::exception);
  }
}

// Cancellation reaches the pipeline as Asio's operation_aborted, thrown or returned; the caller
// asked for it, so it is reported as errc::cancelled, without the incidental exception.
template <class T>
void normalize_cancellation(Outcome<T>& outcome) noexcept {
  if (outcome.error == std::errc::operation_canceled) {
    outcome.error = make_error_code(errc::cancelled);
    outcome.exception = nullptr;
  }
}

// Type traits over what a protected callable returns.
template <class X>
struct unwrap_result {
  using type = X;
  static constexpr bool is_result = false;
};
template <class X>
struct unwrap_result<boost::system::result<X, std::error_code>> {
  using type = X;
  static constexpr bool is_result = true;
};

template <class X>
struct unwrap_awaitable;
template <class X, class Executor>
struct unwrap_awaitable<boost::asio::awaitable<X, Executor>> {
  using type = X;
};

}  // namespace bulwark::detail
