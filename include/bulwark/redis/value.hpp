#pragma once
/// @file
/// `redis::Value`: one decoded RESP2/RESP3 reply, as a tree.
///
/// Representation choices a user needs to know:
/// - RESP2 nulls (`$-1`, `*-1`) and the RESP3 null (`_`) are all `Type::null`.
/// - Maps are stored flattened: `elements()` of a map is `key0, value0, key1, value1, ...`, so
///   every aggregate shares one storage and one accessor; `size()` of a map counts entries
///   (pairs), `find(key)` looks a key up, and `Value::map()` builds one from pairs.
/// - Attributes (`|`) are not values of their own: the parser attaches the attribute pairs to
///   the value that follows them, where `attributes()` returns them (flattened like a map).
/// - A verbatim string (`=`) keeps its 3-letter format (`verbatim_format()`, e.g. "txt") apart
///   from its text (`as_string()`).
///
/// Thread-safety: a `Value` is a plain value type; const members may be called from any number of
/// threads at once, mutation needs exclusive access.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace bulwark::redis {

class Parser;

/// Every RESP type, named after the RESP3 specification. The RESP type byte of each is given.
enum class Type : std::uint8_t {
  null,             ///< `_`, and RESP2's `$-1` / `*-1`.
  simple_string,    ///< `+`: a short status text such as "OK"; never contains CR or LF.
  simple_error,     ///< `-`: an error reply such as "ERR unknown command".
  integer,          ///< `:`: a signed 64-bit integer.
  bulk_string,      ///< `$`: binary-safe bytes.
  boolean,          ///< `#`: `t` or `f`.
  double_number,    ///< `,`: an IEEE double, including inf, -inf and nan.
  big_number,       ///< `(`: an integer of any size, kept as its decimal text.
  bulk_error,       ///< `!`: a binary-safe error reply.
  verbatim_string,  ///< `=`: text with a 3-letter format ("txt", "mkd").
  array,            ///< `*`: ordered elements.
  map,              ///< `%`: key/value pairs, stored flattened.
  set,              ///< `~`: unordered distinct elements, kept in wire order.
  push,             ///< `>`: out-of-band data (pub/sub messages, invalidations).
};

/// The name of a type ("bulk_string"), for messages.
[[nodiscard]] std::string_view type_name(Type type) noexcept;

class Value {
 public:
  /// A null value.
  Value() noexcept = default;
  Value(const Value& other);
  Value(Value&& other) noexcept = default;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept = default;
  ~Value() = default;

  // Factories. Those that take text validate it so that every Value can be written back as
  // valid RESP; they throw `bulwark::Error` with `errc::invalid_argument` when it is not.

  [[nodiscard]] static Value null() noexcept { return Value(); }
  /// Throws when `text` contains CR or LF.
  [[nodiscard]] static Value simple_string(std::string text);
  /// `-` error. Throws when `text` contains CR or LF.
  [[nodiscard]] static Value simple_error(std::string text);
  [[nodiscard]] static Value bulk_string(std::string bytes);
  [[nodiscard]] static Value bulk_error(std::string bytes);
  [[nodiscard]] static Value integer(std::int64_t number) noexcept;
  [[nodiscard]] static Value boolean(bool flag) noexcept;
  [[nodiscard]] static Value double_number(double number) noexcept;
  /// Throws unless `digits` is an optional sign followed by at least one decimal digit.
  [[nodiscard]] static Value big_number(std::string digits);
  /// Throws unless `format` is exactly 3 bytes (RESP3 requires it).
  [[nodiscard]] static Value verbatim_string(std::string_view format, std::string_view text);
  [[nodiscard]] static Value array(std::vector<Value> elements);
  [[nodiscard]] static Value set(std::vector<Value> elements);
  [[nodiscard]] static Value push(std::vector<Value> elements);
  [[nodiscard]] static Value map(std::vector<std::pair<Value, Value>> entries);

  /// Returns this value with `pairs` as its attributes (replacing any it had).
  [[nodiscard]] Value with_attributes(std::vector<std::pair<Value, Value>> pairs) &&;

  [[nodiscard]] Type type() const noexcept { return type_; }
  [[nodiscard]] bool is_null() const noexcept { return type_ == Type::null; }
  /// True for `simple_error` and `bulk_error`.
  [[nodiscard]] bool is_error() const noexcept {
    return type_ == Type::simple_error || type_ == Type::bulk_error;
  }
  /// True for the types `as_string()` accepts.
  [[nodiscard]] bool is_string() const noexcept;
  /// True for array, map, set and push.
  [[nodiscard]] bool is_aggregate() const noexcept;

  // Typed access. Each throws `bulwark::Error` with `errc::invalid_argument` (the detail names
  // the expected and the actual type) when the value is of another type: a reply of an
  // unexpected type is the caller's mistake or a server mismatch, never silently converted.

  /// The text of a simple string, bulk string, verbatim string (without its format) or big
  /// number. Error replies are refused here so that an error is never mistaken for data; their
  /// text is `error_message()`. The view lives as long as this value is not modified.
  [[nodiscard]] std::string_view as_string() const;
  [[nodiscard]] std::int64_t as_integer() const;
  /// A double; an integer reply is converted too, since RESP3 servers send integral scores as
  /// either.
  [[nodiscard]] double as_double() const;
  /// A boolean; an integer reply counts as true when non-zero, since most commands that answer
  /// yes/no (EXISTS, SISMEMBER, EXPIRE) send `:1`/`:0` even over RESP3.
  [[nodiscard]] bool as_bool() const;
  /// The 3-letter format of a verbatim string ("txt").
  [[nodiscard]] std::string_view verbatim_format() const;

  /// Elements of an array, set or push; of a map, keys and values alternating. A null gives an
  /// empty span (a RESP2 null array is "no elements"); any other type throws as above.
  [[nodiscard]] std::span<const Value> elements() const;
  /// Number of elements; for a map, of entries (pairs). 0 for null; throws like `elements()`.
  [[nodiscard]] std::size_t size() const;
  /// Element `index` of an array, set or push. Throws `invalid_argument` when out of range.
  [[nodiscard]] const Value& at(std::size_t index) const;
  /// The value of the first map entry whose key is a string equal to `key`; nullptr when there
  /// is none or this is not a map.
  [[nodiscard]] const Value* find(std::string_view key) const noexcept;

  /// Attribute pairs sent before this value, flattened like a map; usually empty.
  [[nodiscard]] std::span<const Value> attributes() const noexcept;

  // Error replies.

  /// The text of an error reply ("ERR unknown command 'FOO'"); empty for other types.
  [[nodiscard]] std::string_view error_message() const noexcept;
  /// The first word of an error reply ("ERR", "WRONGTYPE", "NOSCRIPT", "MOVED"); empty for other
  /// types.
  [[nodiscard]] std::string_view error_prefix() const noexcept;
  /// How an error reply is classified: LOADING → `errc::redis_loading`, BUSY → `redis_busy`,
  /// TRYAGAIN → `redis_tryagain`, MASTERDOWN → `redis_masterdown`, any other error →
  /// `redis_error`. An empty code for values that are not errors.
  [[nodiscard]] std::error_code error_code() const noexcept;

  /// Deep equality: same type, same payload, same elements and attributes. Doubles compare
  /// equal when both are NaN, so that every value equals itself and a decoded copy of itself.
  friend bool operator==(const Value& a, const Value& b) noexcept;

  /// A one-line rendering for logs, error messages and test failures, e.g.
  /// `["OK", 42, (double) 1.5, (nil), {"k": true}]`. Strings are quoted with non-printable bytes
  /// escaped; the output stops with "..." once it exceeds `max_length` characters, so a huge
  /// reply cannot blow up an error message.
  [[nodiscard]] std::string to_string(std::size_t max_length = std::string::npos) const;

 private:
  friend class Parser;
  explicit Value(Type type) noexcept : type_(type) {}
  [[noreturn]] void throw_type_mismatch(std::string_view expected) const;

  Type type_ = Type::null;
  // Integer, or boolean as 0/1.
  std::int64_t integer_ = 0;
  double double_ = 0.0;
  // Text of strings, errors and big numbers; for a verbatim string "fmt:text" as on the wire.
  std::string string_{};
  // Elements of aggregates; maps flattened.
  std::vector<Value> elements_{};
  // Attributes are rare, so they cost one pointer when absent.
  std::unique_ptr<std::vector<Value>> attributes_{};
};

/// Writes `value.to_string()`; lets test frameworks print values.
std::ostream& operator<<(std::ostream& out, const Value& value);
std::ostream& operator<<(std::ostream& out, Type type);

}  // namespace bulwark::redis

template <>
struct fmt::formatter<bulwark::redis::Value> : fmt::formatter<std::string_view> {
  auto format(const bulwark::redis::Value& value, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(value.to_string(), ctx);
  }
};

template <>
struct fmt::formatter<bulwark::redis::Type> : fmt::formatter<std::string_view> {
  auto format(bulwark::redis::Type type, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(bulwark::redis::type_name(type), ctx);
  }
};
