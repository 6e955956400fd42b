#pragma once
/// @file
/// How an outcome counts for the policies: a circuit breaker needs to know whether an error is
/// the service's fault, retry whether another attempt could help. Both take predicates; these are
/// their defaults.

#include <functional>
#include <system_error>

namespace bulwark {

/// How one call's outcome counts in a circuit breaker's statistics.
enum class Verdict : unsigned char {
  success,  ///< Counts as a successful call.
  failure,  ///< Counts as a failed call.
  ignored,  ///< Not counted at all (e.g. the caller cancelled, a local policy rejected it).
};

/// Classifies an error for a circuit breaker.
using FailureClassifier = std::function<Verdict(const std::error_code&)>;
/// Decides whether an error is worth another attempt.
using RetryPredicate = std::function<bool(const std::error_code&)>;

/// The breaker's default: no error is success; local rejections (`condition::rejected`) and
/// cancellation are ignored, since they say nothing about the service; everything else is a
/// failure.
[[nodiscard]] Verdict default_failure_classifier(const std::error_code& ec) noexcept;

/// Retry's default: retry errors equivalent to `condition::transient` (timeouts, refused or
/// dropped connections, server errors, Redis LOADING/BUSY/TRYAGAIN/MASTERDOWN).
[[nodiscard]] bool default_retry_predicate(const std::error_code& ec) noexcept;

}  // namespace bulwark
