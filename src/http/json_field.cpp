#include "bulwark/http/json_field.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

namespace bulwark {
namespace {

std::string_view kind_name(boost::json::kind kind) {
  switch (kind) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "unknown";
}

std::string describe(const std::string& path) {
  return path.empty() ? std::string("the reply") : fmt::format("reply field `{}`", path);
}

}  // namespace

JsonField::JsonField(const boost::json::value& value, ErrorContext context)
    : value_(&value), context_(std::make_shared<const ErrorContext>(std::move(context))) {}

void JsonField::fail(std::string_view problem) const {
  throw Error(make_error_code(errc::protocol_error), *context_,
              fmt::format("{} {}", describe(path_), problem));
}

void JsonField::wrong_type(std::string_view expected) const {
  fail(fmt::format("is {}, expected {}", kind_name(value_->kind()), expected));
}

JsonField JsonField::operator[](std::string_view key) const {
  const boost::json::object& members = object();
  const std::string path = path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  const boost::json::value* member = members.if_contains(key);
  if (member == nullptr) {
    throw Error(make_error_code(errc::protocol_error), *context_,
                fmt::format("{} is missing", describe(path)));
  }
  return JsonField(member, context_, path);
}

JsonField JsonField::operator[](std::size_t index) const {
  const boost::json::array& items = array();
  const std::string path = fmt::format("{}[{}]", path_, index);
  if (index >= items.size()) {
    throw Error(
        make_error_code(errc::protocol_error), *context_,
        fmt::format("{} is missing (the array has {} elements)", describe(path), items.size()));
  }
  return JsonField(&items[index], context_, path);
}

std::optional<JsonField> JsonField::find(std::string_view key) const {
  const boost::json::value* member = object().if_contains(key);
  if (member == nullptr || member->is_null()) return std::nullopt;
  return JsonField(member, context_,
                   path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key));
}

std::vector<JsonField> JsonField::elements() const {
  const boost::json::array& items = array();
  std::vector<JsonField> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(JsonField(&items[i], context_, fmt::format("{}[{}]", path_, i)));
  }
  return out;
}

std::string JsonField::string() const {
  if (!value_->is_string()) wrong_type("a string");
  return std::string(value_->get_string());
}

double JsonField::number() const {
  if (!value_->is_number()) wrong_type("a number");
  return value_->to_number<double>();
}

std::uint64_t JsonField::uint64() const {
  if (!value_->is_number()) wrong_type("a non-negative integer");
  boost::system::error_code ec;
  const auto out = value_->to_number<std::uint64_t>(ec);
  if (ec)
    fail(fmt::format("is {}, expected a non-negative integer", boost::json::serialize(*value_)));
  return out;
}

std::int64_t JsonField::int64() const {
  if (!value_->is_number()) wrong_type("an integer");
  boost::system::error_code ec;
  const auto out = value_->to_number<std::int64_t>(ec);
  if (ec) fail(fmt::format("is {}, expected an integer", boost::json::serialize(*value_)));
  return out;
}

bool JsonField::boolean() const {
  if (!value_->is_bool()) wrong_type("a boolean");
  return value_->get_bool();
}

const boost::json::object& JsonField::object() const {
  if (!value_->is_object()) wrong_type("an object");
  return value_->get_object();
}

const boost::json::array& JsonField::array() const {
  if (!value_->is_array()) wrong_type("an array");
  return value_->get_array();
}

std::vector<float> JsonField::floats() const {
  const boost::json::array& items = array();
  std::vector<float> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_number()) (*this)[i].wrong_type("a number");
    out.push_back(static_cast<float>(items[i].to_number<double>()));
  }
  return out;
}

}  // namespace bulwark
