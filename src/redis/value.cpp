#include "bulwark/redis/value.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "bulwark/core/error.hpp"
#include "redis/detail/numbers.hpp"

namespace bulwark::redis {
namespace {

[[noreturn]] void invalid(std::string detail) {
  throw Error(errc::invalid_argument, {"redis", "Value"}, detail);
}

void require_single_line(std::string_view text, const char* what) {
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    invalid(fmt::format("a {} cannot contain CR or LF", what));
  }
}

std::vector<Value> flatten(std::vector<std::pair<Value, Value>> pairs) {
  std::vector<Value> flat;
  flat.reserve(pairs.size() * 2);
  for (auto& [key, value] : pairs) {
    flat.push_back(std::move(key));
    flat.push_back(std::move(value));
  }
  return flat;
}

}  // namespace

std::string_view type_name(Type type) noexcept {
  switch (type) {
    case Type::null:
      return "null";
    case Type::simple_string:
      return "simple_string";
    case Type::simple_error:
      return "simple_error";
    case Type::integer:
      return "integer";
    case Type::bulk_string:
      return "bulk_string";
    case Type::boolean:
      return "boolean";
    case Type::double_number:
      return "double";
    case Type::big_number:
      return "big_number";
    case Type::bulk_error:
      return "bulk_error";
    case Type::verbatim_string:
      return "verbatim_string";
    case Type::array:
      return "array";
    case Type::map:
      return "map";
    case Type::set:
      return "set";
    case Type::push:
      return "push";
  }
  return "unknown";
}

Value::Value(const Value& other)
    : type_(other.type_),
      integer_(other.integer_),
      double_(other.double_),
      string_(other.string_),
      elements_(other.elements_),
      attributes_(other.attributes_ ? std::make_unique<std::vector<Value>>(*other.attributes_)
                                    : nullptr) {}

Value& Value::operator=(const Value& other) {
  if (this != &other) *this = Value(other);
  return *this;
}

Value Value::simple_string(std::string text) {
  require_single_line(text, "simple string");
  Value value(Type::simple_string);
  value.string_ = std::move(text);
  return value;
}

Value Value::simple_error(std::string text) {
  require_single_line(text, "simple error");
  Value value(Type::simple_error);
  value.string_ = std::move(text);
  return value;
}

Value Value::bulk_string(std::string bytes) {
  Value value(Type::bulk_string);
  value.string_ = std::move(bytes);
  return value;
}

Value Value::bulk_error(std::string bytes) {
  Value value(Type::bulk_error);
  value.string_ = std::move(bytes);
  return value;
}

Value Value::integer(std::int64_t number) noexcept {
  Value value(Type::integer);
  value.integer_ = number;
  return value;
}

Value Value::boolean(bool flag) noexcept {
  Value value(Type::boolean);
  value.integer_ = flag ? 1 : 0;
  return value;
}

Value Value::double_number(double number) noexcept {
  Value value(Type::double_number);
  value.double_ = number;
  return value;
}

Value Value::big_number(std::string digits) {
  if (!detail::is_big_number(digits)) {
    invalid("a big number must be an optional sign and decimal digits");
  }
  Value value(Type::big_number);
  value.string_ = std::move(digits);
  return value;
}

Value Value::verbatim_string(std::string_view format, std::string_view text) {
  if (format.size() != 3) invalid("a verbatim string format must be exactly 3 bytes");
  Value value(Type::verbatim_string);
  value.string_.reserve(4 + text.size());
  value.string_.append(format).append(1, ':').append(text);
  return value;
}

Value Value::array(std::vector<Value> elements) {
  Value value(Type::array);
  value.elements_ = std::move(elements);
  return value;
}

Value Value::set(std::vector<Value> elements) {
  Value value(Type::set);
  value.elements_ = std::move(elements);
  return value;
}

Value Value::push(std::vector<Value> elements) {
  Value value(Type::push);
  value.elements_ = std::move(elements);
  return value;
}

Value Value::map(std::vector<std::pair<Value, Value>> entries) {
  Value value(Type::map);
  value.elements_ = flatten(std::move(entries));
  return value;
}

Value Value::with_attributes(std::vector<std::pair<Value, Value>> pairs) && {
  if (pairs.empty()) {
    attributes_.reset();
  } else {
    attributes_ = std::make_unique<std::vector<Value>>(flatten(std::move(pairs)));
  }
  return std::move(*this);
}

bool Value::is_string() const noexcept {
  switch (type_) {
    case Type::simple_string:
    case Type::bulk_string:
    case Type::verbatim_string:
    case Type::big_number:
      return true;
    default:
      return false;
  }
}

bool Value::is_aggregate() const noexcept {
  switch (type_) {
    case Type::array:
    case Type::map:
    case Type::set:
    case Type::push:
      return true;
    default:
      return false;
  }
}

void Value::throw_type_mismatch(std::string_view expected) const {
  invalid(fmt::format("expected {}, got {}", expected, type_name(type_)));
}

std::string_view Value::as_string() const {
  if (type_ == Type::verbatim_string) return std::string_view(string_).substr(4);
  if (!is_string()) throw_type_mismatch("a string");
  return string_;
}

std::int64_t Value::as_integer() const {
  if (type_ != Type::integer) throw_type_mismatch("an integer");
  return integer_;
}

double Value::as_double() const {
  if (type_ == Type::double_number) return double_;
  if (type_ == Type::integer) return static_cast<double>(integer_);
  throw_type_mismatch("a double");
}

bool Value::as_bool() const {
  if (type_ != Type::boolean && type_ != Type::integer) throw_type_mismatch("a boolean");
  return integer_ != 0;
}

std::string_view Value::verbatim_format() const {
  if (type_ != Type::verbatim_string) throw_type_mismatch("a verbatim string");
  return std::string_view(string_).substr(0, 3);
}

std::span<const Value> Value::elements() const {
  if (type_ == Type::null) return {};
  if (!is_aggregate()) throw_type_mismatch("an aggregate");
  return elements_;
}

std::size_t Value::size() const {
  const std::size_t count = elements().size();
  return type_ == Type::map ? count / 2 : count;
}

const Value& Value::at(std::size_t index) const {
  const std::span<const Value> all = elements();
  if (index >= all.size()) {
    invalid(fmt::format("index {} out of range for {} of {} elements", index, type_name(type_),
                        all.size()));
  }
  return all[index];
}

const Value* Value::find(std::string_view key) const noexcept {
  if (type_ != Type::map) return nullptr;
  for (std::size_t i = 0; i + 1 < elements_.size(); i += 2) {
    const Value& candidate = elements_[i];
    if (candidate.is_string() && candidate.as_string() == key) return &elements_[i + 1];
  }
  return nullptr;
}

std::span<const Value> Value::attributes() const noexcept {
  if (!attributes_) return {};
  return *attributes_;
}

std::string_view Value::error_message() const noexcept {
  if (!is_error()) return {};
  return string_;
}

std::string_view Value::error_prefix() const noexcept {
  const std::string_view message = error_message();
  return message.substr(0, message.find(' '));
}

std::error_code Value::error_code() const noexcept {
  if (!is_error()) return {};
  const std::string_view prefix = error_prefix();
  if (prefix == "LOADING") return errc::redis_loading;
  if (prefix == "BUSY") return errc::redis_busy;
  if (prefix == "TRYAGAIN") return errc::redis_tryagain;
  if (prefix == "MASTERDOWN") return errc::redis_masterdown;
  return errc::redis_error;
}

bool operator==(const Value& a, const Value& b) noexcept {
  if (a.type_ != b.type_) return false;
  if (a.attributes().size() != b.attributes().size() ||
      !std::equal(a.attributes().begin(), a.attributes().end(), b.attributes().begin())) {
    return false;
  }
  switch (a.type_) {
    case Type::null:
      return true;
    case Type::integer:
    case Type::boolean:
      return a.integer_ == b.integer_;
    case Type::double_number:
      return a.double_ == b.double_ || (std::isnan(a.double_) && std::isnan(b.double_));
    case Type::array:
    case Type::map:
    case Type::set:
    case Type::push:
      return a.elements_ == b.elements_;
    default:
      return a.string_ == b.string_;
  }
}

std::ostream& operator<<(std::ostream& out, const Value& value) { return out << value.to_string(); }

std::ostream& operator<<(std::ostream& out, Type type) { return out << type_name(type); }

}  // namespace bulwark::redis
