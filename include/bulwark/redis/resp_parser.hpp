#pragma once
/// @file
/// `redis::Parser`: an incremental RESP2/RESP3 decoder that does no I/O.
///
/// The connection feeds it bytes as they arrive, split anywhere (inside a length, between `\r`
/// and `\n`, between an aggregate's elements), and takes complete replies out in order. The
/// parser never re-reads bytes it has consumed: a partial line, a partial bulk payload and a
/// stack of partially built aggregates are all it keeps between calls.
///
/// Errors: the first malformed byte puts the parser in a failed state for good. `error()` is
/// then `errc::protocol_error` when the bytes break the protocol (bad type byte, malformed
/// length/integer/double/boolean, missing CRLF, a negative length other than RESP2's null
/// `$-1` / `*-1`), or
/// `errc::limit_exceeded` when well-formed input exceeds a `ParserLimits` value.
/// `error_detail()` says what was wrong and where: the stream offset (bytes since construction)
/// of the offending byte, or of the type byte of the element whose line, length or limit failed.
/// Replies that were complete before the offending byte stay available from `next()`: they
/// answer earlier commands and are valid. Nothing is parsed after a failure; the connection must
/// be closed, since the stream can no longer be trusted to line up with commands.
///
/// Memory: bounded by the limits and by the bytes actually received. A declared length or
/// element count reserves at most what the bytes already in hand could fill, so a header like
/// `*2000000000\r\n` or `$500000000\r\n` allocates nothing large until the data arrives.
///
/// Thread-safety: none. A parser belongs to one connection and is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bulwark/redis/value.hpp"

namespace bulwark::redis {

/// Bounds on what one parser accepts. Exceeding any fails the parser with
/// `errc::limit_exceeded`. Every limit must be > 0.
struct ParserLimits {
  /// Largest bulk string, bulk error or verbatim string payload, in bytes. The default matches
  /// Redis's own `proto-max-bulk-len` (512 MiB).
  std::size_t max_bulk_length = std::size_t{512} * 1024 * 1024;
  /// Deepest nesting of aggregates (array, map, set, push, attribute); a top-level array of
  /// scalars has depth 1. Real replies rarely exceed 4. Values are copied, compared, rendered
  /// and destroyed recursively, so this also bounds the call stack those need: raise it with
  /// care.
  std::size_t max_depth = 128;
  /// Most elements in one aggregate; for maps and attributes, most pairs.
  std::size_t max_aggregate_elements = std::size_t{16} * 1024 * 1024;
  /// Longest line of a simple string, simple error, number or header, in bytes without CRLF.
  std::size_t max_line_length = std::size_t{64} * 1024;
};

class Parser {
 public:
  explicit Parser(ParserLimits limits = {});

  /// Consumes every byte of `data`. Complete replies are queued for `next()`. Returns the
  /// parser's error: empty while the stream is valid, the failure otherwise (also when the
  /// parser had already failed, in which case `data` is ignored).
  [[nodiscard]] std::error_code feed(std::string_view data);

  /// The oldest complete reply not yet taken, or nothing.
  [[nodiscard]] std::optional<Value> next();
  /// Number of complete replies waiting for `next()`.
  [[nodiscard]] std::size_t available() const noexcept { return ready_.size() - ready_head_; }

  /// True when no reply is partially received (no partial line, payload, aggregate or pending
  /// attribute): the stream is at a reply boundary. Never true once failed.
  [[nodiscard]] bool idle() const noexcept;

  [[nodiscard]] bool failed() const noexcept { return static_cast<bool>(error_); }
  /// `protocol_error` or `limit_exceeded` once failed; empty before.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
  /// What was wrong and where, e.g. "invalid bulk length \"x\" at offset 17"; empty before.
  [[nodiscard]] const std::string& error_detail() const noexcept { return detail_; }

  /// Bytes consumed since construction (the stream offset of the next byte).
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] const ParserLimits& limits() const noexcept { return limits_; }

 private:
  enum class State : std::uint8_t { type, line, payload, payload_cr, payload_lf };

  // An aggregate being filled. Attributes are parsed as aggregates too, then handed to the
  // value that follows them.
  struct Frame {
    Value value{};
    std::size_t remaining = 0;  // elements still expected
    bool attribute = false;
    std::uint64_t start = 0;                  // stream offset of its type byte
    std::vector<Value> pending_attributes{};  // for the next element of this frame
  };

  void handle_line(std::string_view line, std::size_t available_after);
  void handle_length(std::string_view line, std::size_t available_after);
  void start_aggregate(Type type, std::size_t count, bool attribute, std::size_t available_after);
  void finish_payload();
  void complete(Value value);
  void attach_pending(std::vector<Value>& pending, Value& value);
  void fail(std::error_code ec, std::string detail);

  ParserLimits limits_;
  State state_ = State::type;
  char type_byte_ = 0;            // of the value being parsed
  std::uint64_t start_ = 0;       // stream offset of that value's type byte
  std::uint64_t offset_ = 0;      // stream offset of the next byte
  std::string line_{};            // a line split across feeds, without CR
  bool line_cr_ = false;          // that line's CR arrived, its LF has not
  std::string payload_{};         // a bulk payload split across feeds
  std::size_t payload_left_ = 0;  // payload bytes still expected
  std::vector<Frame> stack_{};
  std::vector<Value> top_attributes_{};  // for the next top-level reply
  bool top_attributes_pending_ = false;
  std::vector<Value> ready_{};
  std::size_t ready_head_ = 0;
  std::error_code error_{};
  std::string detail_{};
};

}  // namespace bulwark::redis
