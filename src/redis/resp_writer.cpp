#include "bulwark/redis/resp_writer.hpp"

#include <algorithm>
#include <charconv>

#include "redis/detail/numbers.hpp"

namespace bulwark::redis {
namespace detail {
namespace {

// Writes "<prefix><number>\r\n".
void write_header(std::string& out, char prefix, std::uint64_t number) {
  NumberBuffer buffer;
  const std::string_view digits = format_unsigned(number, buffer);
  out += prefix;
  out += digits;
  out += "\r\n";
}

void write_line(std::string& out, char prefix, std::string_view text) {
  out += prefix;
  out += text;
  out += "\r\n";
}

}  // namespace

void write_array_header(std::string& out, std::size_t count) { write_header(out, '*', count); }

void write_bulk(std::string& out, std::string_view bytes) {
  NumberBuffer buffer;
  const std::string_view length = format_unsigned(bytes.size(), buffer);
  // One size computation, one growth at most.
  out.reserve(out.size() + 1 + length.size() + 2 + bytes.size() + 2);
  out += '$';
  out += length;
  out += "\r\n";
  out += bytes;
  out += "\r\n";
}

void write_bulk_integer(std::string& out, std::int64_t value) {
  NumberBuffer buffer;
  write_bulk(out, format_integer(value, buffer));
}

void write_bulk_unsigned(std::string& out, std::uint64_t value) {
  NumberBuffer buffer;
  write_bulk(out, format_unsigned(value, buffer));
}

void write_bulk_double(std::string& out, double value) {
  NumberBuffer buffer;
  write_bulk(out, format_double(value, buffer));
}

void write_bulk_float(std::string& out, float value) {
  NumberBuffer buffer;
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  write_bulk(out, {buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data())});
}

void write_value_to(std::string& out, const Value& value) {
  const std::span<const Value> attributes = value.attributes();
  if (!attributes.empty()) {
    write_header(out, '|', attributes.size() / 2);
    for (const Value& element : attributes) write_value_to(out, element);
  }
  NumberBuffer buffer;
  switch (value.type()) {
    case Type::null:
      out += "_\r\n";
      return;
    case Type::simple_string:
      write_line(out, '+', value.as_string());
      return;
    case Type::simple_error:
      write_line(out, '-', value.error_message());
      return;
    case Type::integer:
      write_line(out, ':', format_integer(value.as_integer(), buffer));
      return;
    case Type::boolean:
      out += value.as_bool() ? "#t\r\n" : "#f\r\n";
      return;
    case Type::double_number:
      write_line(out, ',', format_double(value.as_double(), buffer));
      return;
    case Type::big_number:
      write_line(out, '(', value.as_string());
      return;
    case Type::bulk_string:
      write_bulk(out, value.as_string());
      return;
    case Type::bulk_error:
      write_header(out, '!', value.error_message().size());
      out += value.error_message();
      out += "\r\n";
      return;
    case Type::verbatim_string: {
      const std::string_view format = value.verbatim_format();
      const std::string_view text = value.as_string();
      write_header(out, '=', format.size() + 1 + text.size());
      out += format;
      out += ':';
      out += text;
      out += "\r\n";
      return;
    }
    case Type::array:
    case Type::map:
    case Type::set:
    case Type::push: {
      const char prefix = value.type() == Type::array ? '*'
                          : value.type() == Type::map ? '%'
                          : value.type() == Type::set ? '~'
                                                      : '>';
      write_header(out, prefix, value.size());
      for (const Value& element : value.elements()) write_value_to(out, element);
      return;
    }
  }
}

}  // namespace detail

void write_value(std::string& out, const Value& value) { detail::write_value_to(out, value); }

Command::Command(std::string_view name) : name_(name), arg_count_(1) {
  // Classification compares against upper-case names; Redis itself ignores case. ASCII only,
  // on purpose: std::toupper would depend on the process locale.
  std::transform(name_.begin(), name_.end(), name_.begin(), [](char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  });
  detail::write_bulk(body_, name);
}

void Command::append_to(std::string& out) const {
  out.reserve(out.size() + encoded_size());
  detail::write_array_header(out, arg_count_);
  out += body_;
}

std::string Command::bytes() const {
  std::string out;
  append_to(out);
  return out;
}

std::size_t Command::encoded_size() const noexcept {
  detail::NumberBuffer buffer;
  return 1 + detail::format_unsigned(arg_count_, buffer).size() + 2 + body_.size();
}

std::vector<std::string_view> Command::arguments() const {
  // The body is only ever written by `write_bulk`: "$<length>\r\n<bytes>\r\n" per argument.
  std::vector<std::string_view> out;
  out.reserve(arg_count_);
  const std::string_view body = body_;
  std::size_t at = 0;
  while (at < body.size()) {
    const std::size_t line_end = body.find('\r', at);
    std::size_t length = 0;
    std::from_chars(body.data() + at + 1, body.data() + line_end, length);
    out.push_back(body.substr(line_end + 2, length));
    at = line_end + 2 + length + 2;
  }
  return out;
}

}  // namespace bulwark::redis
