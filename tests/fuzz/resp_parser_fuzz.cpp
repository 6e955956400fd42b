// libFuzzer target for redis::Parser.
//
// Input layout: byte 0 picks the limits (bit 0: small limits, so that every limit is reachable
// with short inputs) and how many of the following bytes are a chunk plan (bits 1-4); the plan's
// bytes are the sizes of the pieces the payload is fed in, cycled; an empty plan feeds it byte by
// byte. The rest is the payload.
//
// Invariants checked:
// - feeding in pieces gives exactly what one feed of the whole payload gives: the same values in
//   the same order, the same error code and detail, the same offset when the stream is valid;
// - after a failure, further bytes change nothing: no new value, the same error;
// - every value written back with write_value() parses, alone, to an equal value, and the parser
//   is then idle;
// - the debug rendering and accessors of every value run cleanly.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/redis/resp_parser.hpp"
#include "bulwark/redis/resp_writer.hpp"
#include "bulwark/redis/value.hpp"

namespace {

using bulwark::redis::Parser;
using bulwark::redis::ParserLimits;
using bulwark::redis::Value;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

ParserLimits small_limits() {
  ParserLimits limits;
  limits.max_bulk_length = 64;
  limits.max_depth = 4;
  limits.max_aggregate_elements = 8;
  limits.max_line_length = 32;
  return limits;
}

void drain(Parser& parser, std::vector<Value>& out) {
  while (auto value = parser.next()) out.push_back(std::move(*value));
}

void exercise(const Value& value) {
  const std::string rendered = value.to_string(256);
  check(rendered.size() <= 256 + 3, "to_string respects its length bound");
  (void)value.error_code();
  (void)value.error_prefix();
  if (value.is_string()) (void)value.as_string();
  if (value.is_aggregate()) {
    for (const Value& element : value.elements()) exercise(element);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const ParserLimits limits = (control & 1) != 0 ? small_limits() : ParserLimits{};
  const std::size_t plan_size = std::min<std::size_t>((control >> 1) & 0x0f, size - 1);
  const std::uint8_t* plan = data + 1;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1 + plan_size),
                                 size - 1 - plan_size);

  Parser whole(limits);
  const std::error_code whole_error = whole.feed(payload);
  std::vector<Value> expected;
  drain(whole, expected);
  check(whole_error == whole.error(), "feed returns the parser's error");
  check(whole.failed() || whole.offset() == payload.size(), "a valid stream is consumed whole");

  Parser pieces(limits);
  std::vector<Value> got;
  std::size_t position = 0;
  for (std::size_t step = 0; position < payload.size(); ++step) {
    const std::size_t piece = plan_size == 0 ? 1 : std::max<std::size_t>(1, plan[step % plan_size]);
    const std::string_view chunk = payload.substr(position, piece);
    position += chunk.size();
    const bool failed_before = pieces.failed();
    const std::size_t values_before = got.size() + pieces.available();
    const std::uint64_t offset_before = pieces.offset();
    const std::error_code error = pieces.feed(chunk);
    if (failed_before) {
      check(error == pieces.error(), "a failed parser keeps its error");
      check(got.size() + pieces.available() == values_before, "no value after a failure");
      check(pieces.offset() == offset_before, "a failed parser consumes nothing");
    }
    drain(pieces, got);
  }
  check(pieces.error() == whole.error(), "same error whether fed whole or in pieces");
  check(pieces.error_detail() == whole.error_detail(), "same error detail");
  // A line split across feeds is consumed before its end can show it is too long, so after a
  // failure the offsets may differ; the detail (which names the element's offset) may not.
  check(whole.failed() || pieces.offset() == whole.offset(), "same offset");
  check(pieces.idle() == whole.idle(), "same idleness");
  check(got.size() == expected.size(), "same number of values");
  for (std::size_t i = 0; i < got.size(); ++i) check(got[i] == expected[i], "same values");
  check(whole.failed() == !whole.error_detail().empty(), "a failure always has a detail");

  for (const Value& value : expected) {
    exercise(value);
    check(value == value, "a value equals itself");
    const Value copy = value;
    check(copy == value, "a copy equals its original");

    std::string encoded;
    bulwark::redis::write_value(encoded, value);
    Parser again(limits);
    check(!again.feed(encoded), "a written value parses");
    const auto reparsed = again.next();
    check(reparsed.has_value() && *reparsed == value, "a written value parses back equal");
    check(again.available() == 0 && again.idle(), "a written value is exactly one reply");
  }
  return 0;
}
