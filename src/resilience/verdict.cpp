#include "bulwark/resilience/verdict.hpp"

#include "bulwark/core/error.hpp"

namespace bulwark {

Verdict default_failure_classifier(const std::error_code& ec) noexcept {
  if (!ec) return Verdict::success;
  if (ec == condition::rejected || ec == errc::cancelled || ec == std::errc::operation_canceled) {
    return Verdict::ignored;
  }
  return Verdict::failure;
}

bool default_retry_predicate(const std::error_code& ec) noexcept {
  return ec == condition::transient;
}

}  // namespace bulwark
