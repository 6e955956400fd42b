// Value::to_string(): the debug rendering, kept apart from the accessors because only logs,
// error messages and tests need it.

#include <fmt/format.h>

#include "bulwark/redis/value.hpp"
#include "redis/detail/escape.hpp"
#include "redis/detail/numbers.hpp"

namespace bulwark::redis {
namespace {

class Renderer {
 public:
  explicit Renderer(std::size_t max_length) : max_length_(max_length) {}

  void render(const Value& value) {
    if (full()) return;
    const std::span<const Value> attributes = value.attributes();
    if (!attributes.empty()) {
      out_ += "(attributes ";
      render_pairs(attributes);
      out_ += ") ";
    }
    switch (value.type()) {
      case Type::null:
        out_ += "(nil)";
        return;
      case Type::simple_string:
      case Type::bulk_string:
        quoted(value.as_string());
        return;
      case Type::simple_error:
      case Type::bulk_error:
        out_ += "(error) ";
        quoted(value.error_message());
        return;
      case Type::integer: {
        detail::NumberBuffer buffer;
        out_ += detail::format_integer(value.as_integer(), buffer);
        return;
      }
      case Type::boolean:
        out_ += value.as_bool() ? "true" : "false";
        return;
      case Type::double_number: {
        detail::NumberBuffer buffer;
        out_ += "(double) ";
        out_ += detail::format_double(value.as_double(), buffer);
        return;
      }
      case Type::big_number:
        out_ += "(big number) ";
        out_ += value.as_string();
        return;
      case Type::verbatim_string:
        out_ += "(verbatim ";
        quoted(value.verbatim_format());
        out_ += ") ";
        quoted(value.as_string());
        return;
      case Type::map:
        render_pairs(value.elements());
        return;
      case Type::array:
      case Type::set:
      case Type::push:
        out_ += value.type() == Type::set ? "~[" : value.type() == Type::push ? ">[" : "[";
        for (std::size_t i = 0; i < value.elements().size() && !full(); ++i) {
          if (i != 0) out_ += ", ";
          render(value.elements()[i]);
        }
        out_ += ']';
        return;
    }
  }

  std::string take() && {
    if (full()) {
      out_.resize(max_length_);
      out_ += "...";
    }
    return std::move(out_);
  }

 private:
  [[nodiscard]] bool full() const noexcept { return out_.size() > max_length_; }

  void quoted(std::string_view text) {
    // Never quote more than could still be shown.
    const std::size_t room = max_length_ - std::min(max_length_, out_.size());
    detail::append_quoted(out_, text, room);
  }

  void render_pairs(std::span<const Value> flat) {
    out_ += '{';
    for (std::size_t i = 0; i + 1 < flat.size() && !full(); i += 2) {
      if (i != 0) out_ += ", ";
      render(flat[i]);
      out_ += ": ";
      render(flat[i + 1]);
    }
    out_ += '}';
  }

  std::size_t max_length_;
  std::string out_{};
};

}  // namespace

std::string Value::to_string(std::size_t max_length) const {
  Renderer renderer(max_length);
  renderer.render(*this);
  return std::move(renderer).take();
}

}  // namespace bulwark::redis
