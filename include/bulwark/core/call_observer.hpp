#pragma once
/// @file
/// A hook clients call once per completed call, for metrics and logs: the outcome, how long the
/// call took (retries and waits included) and which client made it.

#include "bulwark/core/duration.hpp"

#include <functional>
#include <string_view>
#include <system_error>

namespace bulwark {

struct CallRecord {
  /// The client's name.
  std::string_view client;
  /// Empty for a success. A failure: the error that ended the call, or the classifier's verdict
  /// on a reply that arrived (`server_error` for an HTTP 503, `redis_loading`, ...).
  std::error_code error;
  Duration elapsed;
};

/// Runs on the thread that completed the call; must be cheap and must not throw.
using CallObserver = std::function<void(const CallRecord&)>;

}  // namespace bulwark
