#pragma once
// Helpers shared by the RESP tests.

#include <string_view>
#include <vector>

#include "bulwark/redis/resp_parser.hpp"
#include "bulwark/redis/value.hpp"

namespace bulwark::redis::test {

inline std::vector<Value> drain(Parser& parser) {
  std::vector<Value> values;
  while (auto value = parser.next()) values.push_back(std::move(*value));
  return values;
}

/// Every value in `wire`, fed in one piece; fails the calling test if the parser fails or is left
/// mid-reply.
std::vector<Value> parse_all(std::string_view wire, ParserLimits limits = {});

/// The single value in `wire`.
Value parse_one(std::string_view wire);

}  // namespace bulwark::redis::test
