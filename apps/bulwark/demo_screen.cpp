#include "demo_screen.hpp"

#include <fmt/format.h>

#include <sys/ioctl.h>
#include <unistd.h>

namespace bulwark::cli {

std::string fit_line(std::string_view line, std::size_t width) {
  std::string out;
  std::size_t visible = 0;
  bool cut = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\033') {
      // CSI sequence: ESC [ parameters final-byte; kept whole, even after the cut, so that a
      // colour is always reset.
      const std::size_t end = line.find_first_of("ABCDEFGHJKSTfmhl", i + 2);
      const std::size_t stop = end == std::string_view::npos ? line.size() - 1 : end;
      out.append(line.substr(i, stop - i + 1));
      i = stop;
      continue;
    }
    if (cut) continue;
    // UTF-8 continuation bytes take no column of their own.
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) {
      if (visible == width) {
        cut = true;
        continue;
      }
      ++visible;
    }
    out.push_back(line[i]);
  }
  return out;
}

Screen::Screen(std::FILE* out) : out_(out), terminal_(::isatty(::fileno(out)) != 0) {
  if (terminal_) fmt::print(out_, "\033[?25l");  // no cursor blinking through the redraws
}

Screen::~Screen() {
  if (terminal_) {
    fmt::print(out_, "\033[?25h");
    std::fflush(out_);
  }
}

std::size_t Screen::width() const {
  winsize size{};
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col - 1;
  return 100;
}

void Screen::redraw(const std::vector<std::string>& lines) {
  if (!terminal_) return;
  std::string frame;
  // Back to the first line of the previous block, and clear from there down.
  if (drawn_ > 0) frame += fmt::format("\033[{}F\033[J", drawn_);
  const std::size_t columns = width();
  for (const std::string& line : lines) {
    frame += fit_line(line, columns);
    frame += '\n';
  }
  std::fwrite(frame.data(), 1, frame.size(), out_);
  std::fflush(out_);
  drawn_ = lines.size();
}

void Screen::keep() { drawn_ = 0; }

void Screen::print(std::string_view text) {
  keep();
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace bulwark::cli
