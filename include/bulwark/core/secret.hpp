#pragma once
/// @file
/// `Secret` holds an API key, password or token. It prints as `***` everywhere (`fmt`, spdlog,
/// `std::ostream`), so a secret cannot leak into a log line, an error message or a metric by
/// accident; the only way to read it is the explicit `reveal()`.
///
/// Thread-safety: a `Secret` is a value; concurrent reads are safe.

#include <fmt/format.h>

#include <iosfwd>
#include <string>
#include <string_view>

namespace bulwark {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) noexcept : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  /// Overwrites the memory that held the value before releasing it.
  ~Secret();

  /// The secret itself, for the one place that must send it (an AUTH command, a header).
  [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  /// Compares in time independent of where the values first differ.
  friend bool operator==(const Secret& a, const Secret& b) noexcept;

  /// What every printing path shows instead of the value.
  static constexpr std::string_view redacted = "***";

 private:
  void wipe() noexcept;
  std::string value_;
};

std::ostream& operator<<(std::ostream& out, const Secret& secret);

/// `https://user:pass@host/path?x=1` → `https://user:***@host/path?x=1`; any other text is
/// returned unchanged. Use it before printing a URL that came from configuration.
[[nodiscard]] std::string redact_url(std::string_view url);

}  // namespace bulwark

template <>
struct fmt::formatter<bulwark::Secret> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const bulwark::Secret&, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(bulwark::Secret::redacted, ctx);
  }
};
