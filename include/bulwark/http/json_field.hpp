#pragma once
/// @file
/// `JsonField`: reads a service's JSON reply into typed structs, with errors that name the field
/// that was missing or of the wrong type. A typed client turns
///
///     {"result": [{"id": 7, "payload": {}}], "status": "ok"}
///
/// into `protocol_error` with the detail "reply field `result[0].score` is missing" instead of a
/// Boost.JSON "not a number" without a location.
///
///     const bulwark::JsonField reply(body, {"qdrant", "search"});
///     for (const bulwark::JsonField& hit : reply["result"].elements()) {
///       points.push_back({hit["id"].uint64(), hit["score"].number(),
///                         hit.find("payload") ? hit["payload"].object() : {}});
///     }
///
/// Errors: `bulwark::Error` with `errc::protocol_error`, the context given to the root (client
/// and operation), and a detail naming the field's path and what was wrong with it.
///
/// Lifetime: a `JsonField` refers to the value it reads; that value must outlive it.
/// Thread-safety: a `JsonField` is read-only; concurrent reads are safe.

#include "bulwark/core/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

class JsonField {
 public:
  /// The root of a reply; `context` names the client and operation in errors.
  explicit JsonField(const boost::json::value& value, ErrorContext context = {});

  /// The member `key` of this object; throws when this is not an object or `key` is absent.
  [[nodiscard]] JsonField operator[](std::string_view key) const;
  /// Element `index` of this array; throws when this is not an array or too short.
  [[nodiscard]] JsonField operator[](std::size_t index) const;
  /// The member `key` if present and not null; throws only when this is not an object.
  [[nodiscard]] std::optional<JsonField> find(std::string_view key) const;
  /// The elements of this array, each with its path (`data[3]`).
  [[nodiscard]] std::vector<JsonField> elements() const;

  /// The value converted, or an error naming the path and the JSON type found.
  [[nodiscard]] std::string string() const;
  /// Any JSON number (integers included).
  [[nodiscard]] double number() const;
  /// An integer that fits (`3.0` is accepted; `3.5` and negative values are not).
  [[nodiscard]] std::uint64_t uint64() const;
  [[nodiscard]] std::int64_t int64() const;
  [[nodiscard]] bool boolean() const;
  [[nodiscard]] const boost::json::object& object() const;
  [[nodiscard]] const boost::json::array& array() const;
  /// An array of numbers, as floats (embedding vectors).
  [[nodiscard]] std::vector<float> floats() const;

  [[nodiscard]] const boost::json::value& value() const noexcept { return *value_; }
  [[nodiscard]] bool is_null() const noexcept { return value_->is_null(); }
  /// `result[0].score`; empty for the root.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Throws the `protocol_error` this field reports, with `problem` ("must not be empty") after
  /// its path; for checks of a typed client beyond types.
  [[noreturn]] void fail(std::string_view problem) const;

 private:
  JsonField(const boost::json::value* value, std::shared_ptr<const ErrorContext> context,
            std::string path)
      : value_(value), context_(std::move(context)), path_(std::move(path)) {}
  [[noreturn]] void wrong_type(std::string_view expected) const;

  const boost::json::value* value_;
  std::shared_ptr<const ErrorContext> context_;  // shared: every field of a reply copies it
  std::string path_;
};

}  // namespace bulwark
