#include "manager/detail/yaml_limits.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace bulwark::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Whether `line` (comments already cut) ends with a block scalar header: `|`, `>`, with
// optional chomping and indentation indicators (`|-`, `>+2`).
bool opens_block_scalar(std::string_view line) {
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  while (!line.empty() &&
         (line.back() == '+' || line.back() == '-' || (line.back() >= '1' && line.back() <= '9'))) {
    line.remove_suffix(1);
  }
  if (line.empty() || (line.back() != '|' && line.back() != '>')) return false;
  line.remove_suffix(1);
  return line.empty() || is_space(line.back());
}

class DepthScanner {
 public:
  // Returns the depth reached on `line` (1-based line number for errors).
  std::size_t scan(std::string_view line) {
    if (in_block_scalar_) {
      const std::size_t indent = line.find_first_not_of(' ');
      if (indent == std::string_view::npos || indent > block_scalar_indent_) return 0;
      in_block_scalar_ = false;
    }
    std::size_t at = 0;
    std::size_t indent = 0;
    if (flow_depth_ == 0 && !in_double_ && !in_single_) {
      indent = line.find_first_not_of(' ');
      if (indent == std::string_view::npos || line[indent] == '#') return 0;
      while (!indents_.empty() && indents_.back() > indent) indents_.pop_back();
      if (indents_.empty() || indents_.back() < indent) indents_.push_back(indent);
      at = indent;
      std::size_t compact = 0;
      // "- - x" and "? x" nest a level each on one line.
      while (at < line.size() && (line[at] == '-' || line[at] == '?') &&
             (at + 1 == line.size() || is_space(line[at + 1]))) {
        ++compact;
        ++at;
        while (at < line.size() && is_space(line[at])) ++at;
      }
      base_ = indents_.size() + compact;
    }
    std::size_t deepest = base_ + flow_depth_;
    std::size_t end = line.size();
    for (std::size_t i = at; i < line.size(); ++i) {
      const char c = line[i];
      if (in_double_) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_double_ = false;
        }
        continue;
      }
      if (in_single_) {
        if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else if (c == '\'') {
          in_single_ = false;
        }
        continue;
      }
      const bool starts_token = i == 0 || is_space(line[i - 1]) || line[i - 1] == '[' ||
                                line[i - 1] == '{' || line[i - 1] == ',' || line[i - 1] == ':';
      if (c == '#' && (i == 0 || is_space(line[i - 1]))) {
        end = i;
        break;
      }
      if (c == '"' && starts_token) {
        in_double_ = true;
      } else if (c == '\'' && starts_token) {
        in_single_ = true;
      } else if (c == '[' || c == '{') {
        ++flow_depth_;
        deepest = std::max(deepest, base_ + flow_depth_);
      } else if ((c == ']' || c == '}') && flow_depth_ > 0) {
        --flow_depth_;
      }
    }
    if (flow_depth_ == 0 && !in_double_ && !in_single_ && opens_block_scalar(line.substr(0, end))) {
      in_block_scalar_ = true;
      block_scalar_indent_ = indent;
    }
    return deepest;
  }

 private:
  std::vector<std::size_t> indents_{};
  std::size_t base_ = 0;
  std::size_t flow_depth_ = 0;
  bool in_double_ = false;
  bool in_single_ = false;
  // A plain flag and value rather than std::optional: GCC 12 at -O3 misreads the optional as
  // maybe uninitialized.
  bool in_block_scalar_ = false;
  std::size_t block_scalar_indent_ = 0;
};

}  // namespace

bool check_yaml_limits(std::string_view text, std::string_view source,
                       std::vector<ConfigIssue>& issues) {
  if (text.size() > max_config_bytes) {
    issues.push_back({std::string(source),
                      fmt::format("is larger than {} bytes, the most a configuration may have",
                                  max_config_bytes)});
    return false;
  }
  DepthScanner scanner;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (scanner.scan(line) > max_config_depth) {
      issues.push_back(
          {std::string(source),
           fmt::format("line {} is nested more than {} levels deep", number, max_config_depth)});
      return false;
    }
  }
  return true;
}

}  // namespace bulwark::detail
