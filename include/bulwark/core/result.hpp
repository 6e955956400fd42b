#pragma once
/// @file
/// `Result<T>`: a value or a `std::error_code`, for paths that must not throw (an open breaker's
/// rejection, a full bulkhead). It is Boost.System's `result`, which already gives the
/// expected-style interface (`has_value()`, `value()`, `error()`, `operator*`); `value()` on an
/// error throws `std::system_error`.

#include <boost/system/result.hpp>

#include <system_error>

namespace bulwark {

template <class T>
using Result = boost::system::result<T, std::error_code>;

/// Success of a `Result<void>`.
[[nodiscard]] inline Result<void> ok() noexcept { return {}; }

}  // namespace bulwark
