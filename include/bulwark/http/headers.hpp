#pragma once
/// @file
/// `http::Headers`: an ordered list of header fields with case-insensitive lookup.
///
/// Order is kept and repeated names are allowed (`add`), as HTTP permits; `set` replaces every
/// field of a name. Names and values are checked when a request is sent, not here: a value with
/// CR or LF, or a name that is not an HTTP token, fails the request with `invalid_argument`.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::http {

/// ASCII case-insensitive equality, as header names compare.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  /// Appends a field, keeping any other field of the same name.
  Headers& add(std::string name, std::string value);
  /// Replaces every field named `name` with one field.
  Headers& set(std::string_view name, std::string value);
  /// Removes every field named `name`; returns how many.
  std::size_t remove(std::string_view name);

  /// The first field named `name`.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
  [[nodiscard]] bool contains(std::string_view name) const noexcept {
    return get(name).has_value();
  }

  [[nodiscard]] const std::vector<Field>& fields() const noexcept { return fields_; }
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }
  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

}  // namespace bulwark::http
