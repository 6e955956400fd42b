#include "bulwark/redis/resp_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "bulwark/core/error.hpp"
#include "redis/detail/escape.hpp"
#include "redis/detail/numbers.hpp"

namespace bulwark::redis {
namespace {

// The smallest encoding of an element is 3 bytes ("_\r\n", "+\r\n"), so a chunk of n bytes can
// fill at most n / 3 elements. Reserving more would let a short header claim memory for data that
// has not arrived (and may never arrive).
constexpr std::size_t min_element_bytes = 3;

// Shown in error details: enough of a bad line to recognise it, never all of a huge one.
constexpr std::size_t quoted_bytes = 32;

std::string quote(std::string_view text) { return detail::quote(text, quoted_bytes); }

std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return fmt::format("'{}' (0x{:02x})", c, byte);
  return fmt::format("0x{:02x}", byte);
}

bool is_type_byte(char c) noexcept {
  switch (c) {
    case '+':
    case '-':
    case ':':
    case '$':
    case '*':
    case '_':
    case '#':
    case ',':
    case '(':
    case '!':
    case '=':
    case '%':
    case '~':
    case '>':
    case '|':
      return true;
    default:
      return false;
  }
}

const char* element_name(char type_byte) noexcept {
  switch (type_byte) {
    case '$':
      return "bulk string";
    case '!':
      return "bulk error";
    case '=':
      return "verbatim string";
    case '*':
      return "array";
    case '%':
      return "map";
    case '~':
      return "set";
    case '>':
      return "push";
    case '|':
      return "attribute";
    case '+':
      return "simple string";
    case '-':
      return "simple error";
    case ':':
      return "integer";
    case '_':
      return "null";
    case '#':
      return "boolean";
    case ',':
      return "double";
    case '(':
      return "big number";
    default:
      return "value";
  }
}

void validate(const ParserLimits& limits) {
  std::vector<ConfigIssue> issues;
  const auto positive = [&](std::size_t value, const char* name) {
    if (value == 0) issues.push_back({fmt::format("redis.parser.{}", name), "must be >= 1, got 0"});
  };
  positive(limits.max_bulk_length, "max_bulk_length");
  positive(limits.max_depth, "max_depth");
  positive(limits.max_aggregate_elements, "max_aggregate_elements");
  positive(limits.max_line_length, "max_line_length");
  if (!issues.empty()) throw ConfigError(std::move(issues));
}

}  // namespace

Parser::Parser(ParserLimits limits) : limits_(limits) { validate(limits_); }

bool Parser::idle() const noexcept {
  return !error_ && state_ == State::type && stack_.empty() && !top_attributes_pending_;
}

std::optional<Value> Parser::next() {
  if (ready_head_ == ready_.size()) return std::nullopt;
  std::optional<Value> value(std::move(ready_[ready_head_++]));
  // Reuse the queue's storage once drained instead of shifting it.
  if (ready_head_ == ready_.size()) {
    ready_.clear();
    ready_head_ = 0;
  }
  return value;
}

std::error_code Parser::feed(std::string_view data) {
  const char* p = data.data();
  const char* const end = p + data.size();
  while (p != end && !error_) {
    switch (state_) {
      case State::type: {
        if (!is_type_byte(*p)) {
          fail(errc::protocol_error,
               fmt::format("invalid type byte {} at offset {}", describe_byte(*p), offset_));
          break;
        }
        type_byte_ = *p;
        start_ = offset_;
        ++p;
        ++offset_;
        state_ = State::line;
        break;
      }
      case State::line: {
        if (line_cr_) {
          if (*p != '\n') {
            fail(errc::protocol_error, fmt::format("expected LF after CR at offset {}", offset_));
            break;
          }
          ++p;
          ++offset_;
          line_cr_ = false;
          // Taken out of line_, which a failure inside handle_line() releases.
          const std::string line = std::move(line_);
          line_.clear();
          handle_line(line, static_cast<std::size_t>(end - p));
          break;
        }
        const auto left = static_cast<std::size_t>(end - p);
        // Look no further than one byte past the longest allowed line, so that a long line costs
        // no long scan, and so that whichever fault comes first in the stream (a bare LF or the
        // line growing too long) is the one reported, however the bytes were split.
        const std::size_t window = std::min(left, limits_.max_line_length - line_.size() + 1);
        const auto* cr = static_cast<const char*>(std::memchr(p, '\r', window));
        const char* stop = cr != nullptr ? cr : p + window;
        const auto length = static_cast<std::size_t>(stop - p);
        if (const auto* lf = static_cast<const char*>(std::memchr(p, '\n', length))) {
          fail(errc::protocol_error, fmt::format("LF without CR at offset {}",
                                                 offset_ + static_cast<std::uint64_t>(lf - p)));
          break;
        }
        if (line_.size() + length > limits_.max_line_length) {
          fail(errc::limit_exceeded,
               fmt::format("{} line longer than {} bytes at offset {}", element_name(type_byte_),
                           limits_.max_line_length, start_));
          break;
        }
        if (cr == nullptr || cr + 1 == end) {
          // The line continues in a later feed; keep what arrived.
          line_.append(p, length);
          line_cr_ = cr != nullptr;
          offset_ += left;
          p = end;
          break;
        }
        if (cr[1] != '\n') {
          fail(errc::protocol_error,
               fmt::format("expected LF after CR at offset {}", offset_ + length + 1));
          break;
        }
        offset_ += length + 2;
        p = cr + 2;
        if (line_.empty()) {
          // The common case: the whole line is in this chunk; parse it in place.
          handle_line({stop - length, length}, static_cast<std::size_t>(end - p));
        } else {
          line_.append(stop - length, length);
          const std::string line = std::move(line_);
          line_.clear();
          handle_line(line, static_cast<std::size_t>(end - p));
        }
        break;
      }
      case State::payload: {
        const auto left = static_cast<std::size_t>(end - p);
        if (payload_.empty() && left >= payload_left_ + 2 && p[payload_left_] == '\r' &&
            p[payload_left_ + 1] == '\n') {
          // The whole payload and its CRLF are here: build the string once, straight from the
          // input.
          payload_.assign(p, payload_left_);
          p += payload_left_ + 2;
          offset_ += payload_left_ + 2;
          payload_left_ = 0;
          finish_payload();
          break;
        }
        // std::string grows geometrically, so a payload arriving in many pieces costs amortised
        // linear copying, and its capacity never runs ahead of the bytes received.
        const std::size_t take = std::min(payload_left_, left);
        payload_.append(p, take);
        p += take;
        offset_ += take;
        payload_left_ -= take;
        if (payload_left_ == 0) state_ = State::payload_cr;
        break;
      }
      case State::payload_cr:
      case State::payload_lf: {
        const char expected = state_ == State::payload_cr ? '\r' : '\n';
        if (*p != expected) {
          fail(errc::protocol_error,
               fmt::format("expected CRLF after {} payload at offset {}, got {}",
                           element_name(type_byte_), offset_, describe_byte(*p)));
          break;
        }
        ++p;
        ++offset_;
        if (state_ == State::payload_cr) {
          state_ = State::payload_lf;
        } else {
          finish_payload();
        }
        break;
      }
    }
  }
  return error_;
}

void Parser::handle_line(std::string_view line, std::size_t available_after) {
  state_ = State::type;
  switch (type_byte_) {
    case '+':
    case '-': {
      Value value(type_byte_ == '+' ? Type::simple_string : Type::simple_error);
      value.string_.assign(line);
      complete(std::move(value));
      return;
    }
    case ':': {
      Value value(Type::integer);
      if (!detail::parse_integer(line, value.integer_)) {
        fail(errc::protocol_error,
             fmt::format("invalid integer {} at offset {}", quote(line), start_));
        return;
      }
      complete(std::move(value));
      return;
    }
    case '_':
      if (!line.empty()) {
        fail(errc::protocol_error,
             fmt::format("null with content {} at offset {}", quote(line), start_));
        return;
      }
      complete(Value());
      return;
    case '#': {
      if (line != "t" && line != "f") {
        fail(errc::protocol_error,
             fmt::format("invalid boolean {} at offset {} (expected t or f)", quote(line), start_));
        return;
      }
      Value value(Type::boolean);
      value.integer_ = line == "t" ? 1 : 0;
      complete(std::move(value));
      return;
    }
    case ',': {
      Value value(Type::double_number);
      if (!detail::parse_double(line, value.double_)) {
        fail(errc::protocol_error,
             fmt::format("invalid double {} at offset {}", quote(line), start_));
        return;
      }
      complete(std::move(value));
      return;
    }
    case '(': {
      if (!detail::is_big_number(line)) {
        fail(errc::protocol_error,
             fmt::format("invalid big number {} at offset {}", quote(line), start_));
        return;
      }
      Value value(Type::big_number);
      value.string_.assign(line);
      complete(std::move(value));
      return;
    }
    default:
      handle_length(line, available_after);
      return;
  }
}

void Parser::handle_length(std::string_view line, std::size_t available_after) {
  const bool bulk = type_byte_ == '$' || type_byte_ == '!' || type_byte_ == '=';
  std::int64_t length = 0;
  if (!detail::parse_length(line, length)) {
    fail(errc::protocol_error, fmt::format("invalid {} length {} at offset {}",
                                           element_name(type_byte_), quote(line), start_));
    return;
  }
  if (length < 0) {
    // RESP2 spells null as a bulk string or array of length -1; nothing else may be negative.
    if (type_byte_ == '$' || type_byte_ == '*') {
      complete(Value());
      return;
    }
    fail(errc::protocol_error,
         fmt::format("negative {} length at offset {}", element_name(type_byte_), start_));
    return;
  }
  const auto count = static_cast<std::uint64_t>(length);
  if (bulk) {
    if (count > limits_.max_bulk_length) {
      fail(errc::limit_exceeded,
           fmt::format("{} of {} bytes exceeds the limit of {} at offset {}",
                       element_name(type_byte_), count, limits_.max_bulk_length, start_));
      return;
    }
    payload_left_ = static_cast<std::size_t>(count);
    state_ = State::payload;
    return;
  }
  if (count > limits_.max_aggregate_elements) {
    fail(errc::limit_exceeded,
         fmt::format("{} of {} elements exceeds the limit of {} at offset {}",
                     element_name(type_byte_), count, limits_.max_aggregate_elements, start_));
    return;
  }
  Type type = Type::array;
  switch (type_byte_) {
    case '%':
    case '|':
      type = Type::map;
      break;
    case '~':
      type = Type::set;
      break;
    case '>':
      type = Type::push;
      break;
    default:
      break;
  }
  start_aggregate(type, static_cast<std::size_t>(count), type_byte_ == '|', available_after);
}

void Parser::start_aggregate(Type type, std::size_t count, bool attribute,
                             std::size_t available_after) {
  if (stack_.size() >= limits_.max_depth) {
    fail(errc::limit_exceeded, fmt::format("{} nested deeper than {} levels at offset {}",
                                           element_name(type_byte_), limits_.max_depth, start_));
    return;
  }
  if (count == 0) {
    if (attribute) {
      // An empty attribute annotates nothing, but the value it precedes is still to come.
      if (stack_.empty()) top_attributes_pending_ = true;
      return;
    }
    complete(Value(type));
    return;
  }
  const std::size_t elements = type == Type::map ? count * 2 : count;
  Frame& frame = stack_.emplace_back();
  frame.value.type_ = type;
  frame.remaining = elements;
  frame.attribute = attribute;
  frame.start = start_;
  frame.value.elements_.reserve(std::min(elements, available_after / min_element_bytes));
}

void Parser::finish_payload() {
  state_ = State::type;
  Value value(type_byte_ == '$'   ? Type::bulk_string
              : type_byte_ == '!' ? Type::bulk_error
                                  : Type::verbatim_string);
  if (value.type_ == Type::verbatim_string && (payload_.size() < 4 || payload_[3] != ':')) {
    fail(errc::protocol_error,
         fmt::format("verbatim string without a 3-letter format and ':' at offset {}", start_));
    return;
  }
  value.string_ = std::move(payload_);
  payload_.clear();
  complete(std::move(value));
}

void Parser::attach_pending(std::vector<Value>& pending, Value& value) {
  if (pending.empty()) return;
  value.attributes_ = std::make_unique<std::vector<Value>>(std::move(pending));
  pending.clear();
}

void Parser::complete(Value value) {
  while (true) {
    if (stack_.empty()) {
      attach_pending(top_attributes_, value);
      top_attributes_pending_ = false;
      ready_.push_back(std::move(value));
      return;
    }
    Frame& frame = stack_.back();
    attach_pending(frame.pending_attributes, value);
    frame.value.elements_.push_back(std::move(value));
    if (--frame.remaining != 0) return;

    Frame done = std::move(frame);
    stack_.pop_back();
    if (!done.attribute) {
      value = std::move(done.value);
      continue;
    }
    // An attribute annotates the next value at its own level, not a value of its own.
    std::vector<Value>& target =
        stack_.empty() ? top_attributes_ : stack_.back().pending_attributes;
    if (stack_.empty()) top_attributes_pending_ = true;
    std::vector<Value>& pairs = done.value.elements_;
    // Consecutive attributes merge; the merged set obeys the same bound as one attribute.
    if ((target.size() + pairs.size()) / 2 > limits_.max_aggregate_elements) {
      fail(errc::limit_exceeded,
           fmt::format("consecutive attributes of more than {} pairs at offset {}",
                       limits_.max_aggregate_elements, done.start));
      return;
    }
    if (target.empty()) {
      target = std::move(pairs);
    } else {
      target.insert(target.end(), std::make_move_iterator(pairs.begin()),
                    std::make_move_iterator(pairs.end()));
    }
    return;
  }
}

void Parser::fail(std::error_code ec, std::string detail) {
  error_ = ec;
  detail_ = std::move(detail);
  // Partial state is useless now; give its memory back.
  stack_ = {};
  line_ = {};
  payload_ = {};
  top_attributes_ = {};
  top_attributes_pending_ = false;
}

}  // namespace bulwark::redis
