#pragma once
// Where the demo writes: a terminal gets a block of lines redrawn in place (ANSI cursor
// movement, lines cut to the terminal's width so that none wraps and breaks the redraw);
// anything else gets plain lines appended, never escape sequences.
//
// Not thread-safe: the demo's main thread owns it.

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::cli {

class Screen {
 public:
  /// Looks at whether `out` is a terminal.
  explicit Screen(std::FILE* out);
  /// Shows the cursor again if it was hidden.
  ~Screen();
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  [[nodiscard]] bool terminal() const noexcept { return terminal_; }

  /// Terminal: replaces the block drawn last with `lines`. Otherwise: does nothing.
  void redraw(const std::vector<std::string>& lines);
  /// Terminal: leaves the block as it is and moves on below it. Otherwise: does nothing.
  void keep();
  /// Appends text (a terminal's block is kept first).
  void print(std::string_view text);

 private:
  [[nodiscard]] std::size_t width() const;

  std::FILE* out_;
  bool terminal_;
  std::size_t drawn_ = 0;  // lines of the block on screen
};

/// `line` cut to `width` visible characters; ANSI escape sequences do not count and are kept.
[[nodiscard]] std::string fit_line(std::string_view line, std::size_t width);

}  // namespace bulwark::cli
