#pragma once
/// @file
/// Encoding to RESP: commands (an array of bulk strings, which is all a client sends) and, for
/// tests and fake servers, any `Value`.
///
/// Everything appends to a caller's `std::string`, so that many commands can be written into one
/// buffer and sent with one write (pipelining). Arguments are binary-safe: a bulk string carries
/// its length, so CR, LF and NUL inside an argument need no escaping. Numbers are formatted with
/// `std::to_chars` into a stack buffer, never through a temporary string.
///
/// Accepted arguments (`CommandArgument`):
/// - anything convertible to `std::string_view`: `std::string`, `std::string_view`, string
///   literals, `const char*` (which must not be null);
/// - integers, except `bool` and the character types, whose meaning as an argument is ambiguous
///   (write `1`/`0`, or a one-byte string);
/// - floating-point numbers, in the shortest form that reads back exactly in their own type
///   (`1.5`, `1e+300`, `inf`, `-inf`; Redis accepts these for scores and increments);
///   `long double` is narrowed to `double`;
/// - sized ranges of any of these (`std::vector<std::string>`, `std::array<int, 3>`, a
///   `std::span`), one argument per element.
///
/// Thread-safety: the functions are reentrant; a `Command` is a plain value type.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bulwark/redis/value.hpp"

namespace bulwark::redis {

template <class T>
concept StringArgument = std::convertible_to<const T&, std::string_view>;

template <class T>
concept IntegerArgument =
    std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool> &&
    !std::same_as<std::remove_cv_t<T>, char> && !std::same_as<std::remove_cv_t<T>, signed char> &&
    !std::same_as<std::remove_cv_t<T>, unsigned char> &&
    !std::same_as<std::remove_cv_t<T>, wchar_t> && !std::same_as<std::remove_cv_t<T>, char8_t> &&
    !std::same_as<std::remove_cv_t<T>, char16_t> && !std::same_as<std::remove_cv_t<T>, char32_t>;

template <class T>
concept ScalarArgument = StringArgument<T> || IntegerArgument<T> || std::floating_point<T>;

template <class T>
concept RangeArgument = !StringArgument<T> && std::ranges::sized_range<const T> &&
                        ScalarArgument<std::ranges::range_value_t<const T>>;

template <class T>
concept CommandArgument = ScalarArgument<T> || RangeArgument<T>;

namespace detail {

void write_array_header(std::string& out, std::size_t count);
void write_bulk(std::string& out, std::string_view bytes);
void write_bulk_integer(std::string& out, std::int64_t value);
void write_bulk_unsigned(std::string& out, std::uint64_t value);
void write_bulk_double(std::string& out, double value);
void write_bulk_float(std::string& out, float value);

template <ScalarArgument T>
void write_scalar(std::string& out, const T& value) {
  if constexpr (StringArgument<T>) {
    write_bulk(out, std::string_view(value));
  } else if constexpr (std::same_as<std::remove_cv_t<T>, float>) {
    // Formatted as a float, so that 0.1f is sent as "0.1", not as the double it widens to.
    write_bulk_float(out, value);
  } else if constexpr (std::floating_point<T>) {
    write_bulk_double(out, static_cast<double>(value));
  } else if constexpr (std::is_signed_v<T>) {
    write_bulk_integer(out, static_cast<std::int64_t>(value));
  } else {
    write_bulk_unsigned(out, static_cast<std::uint64_t>(value));
  }
}

template <CommandArgument T>
std::size_t argument_count(const T& value) {
  if constexpr (RangeArgument<T>) {
    return static_cast<std::size_t>(std::ranges::size(value));
  } else {
    return 1;
  }
}

template <CommandArgument T>
void write_argument(std::string& out, const T& value) {
  if constexpr (RangeArgument<T>) {
    for (const auto& element : value) write_scalar(out, element);
  } else {
    write_scalar(out, value);
  }
}

}  // namespace detail

/// Appends one command (`*N\r\n` then a bulk string per argument) to `out`. The first argument
/// is the command name.
template <CommandArgument... Args>
void write_command(std::string& out, const Args&... args) {
  detail::write_array_header(out, (std::size_t{0} + ... + detail::argument_count(args)));
  (detail::write_argument(out, args), ...);
}

/// Appends `value` in RESP3 (nulls as `_`, attributes as a `|` before the value). Parsing the
/// output gives back a value equal to `value`.
void write_value(std::string& out, const Value& value);

/// One command, built argument by argument, that owns its encoded bytes:
///
///     Command cmd("SET");
///     cmd.arg(key).arg(value).arg("EX").arg(30);
///     cmd.append_to(buffer);  // "*5\r\n$3\r\nSET\r\n..."
///
/// Arguments are encoded as they are added, so a command is built with one growing buffer and
/// written out with one append (plus its tiny `*N` header, which is only known at the end).
class Command {
 public:
  /// `name` is the command's first word ("GET", "client"); it is sent as given and kept
  /// upper-cased for `name()`. Subcommands ("SETNAME" of CLIENT) are ordinary arguments.
  explicit Command(std::string_view name);

  /// Adds one argument, or one per element of a range.
  template <CommandArgument T>
  Command& arg(const T& value) & {
    arg_count_ += detail::argument_count(value);
    detail::write_argument(body_, value);
    return *this;
  }
  template <CommandArgument T>
  Command&& arg(const T& value) && {
    return std::move(arg(value));
  }

  /// The command name, upper-cased ("GET"), for classification (read-only or write,
  /// idempotent or not).
  [[nodiscard]] std::string_view name() const noexcept { return name_; }
  /// Number of RESP array elements, the name included (Redis's argc).
  [[nodiscard]] std::size_t arg_count() const noexcept { return arg_count_; }
  /// Appends the encoded command to `out`.
  void append_to(std::string& out) const;
  /// The encoded command, as `append_to` writes it.
  [[nodiscard]] std::string bytes() const;
  /// Size of the encoded command in bytes.
  [[nodiscard]] std::size_t encoded_size() const noexcept;
  /// Every argument as sent, the name first (as given, not upper-cased): views into this
  /// command, valid while it lives unmodified. Used to find a command's keys (Redis Cluster).
  [[nodiscard]] std::vector<std::string_view> arguments() const;

  friend bool operator==(const Command& a, const Command& b) noexcept {
    return a.arg_count_ == b.arg_count_ && a.body_ == b.body_;
  }

 private:
  std::string name_{};
  std::string body_{};  // the bulk strings, name first
  std::size_t arg_count_ = 0;
};

/// `make_command("SET", key, value, "EX", 30)`.
template <CommandArgument... Args>
[[nodiscard]] Command make_command(std::string_view name, const Args&... args) {
  Command command(name);
  (command.arg(args), ...);
  return command;
}

}  // namespace bulwark::redis
