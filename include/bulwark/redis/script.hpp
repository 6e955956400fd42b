#pragma once
/// @file
/// `redis::Script`: a Lua script and its SHA1, the name Redis caches it under.
///
/// Create scripts once (as constants or members) and run them with `Client::eval`, which sends
/// only the SHA1 (`EVALSHA`) and the source only when the server does not know it yet:
///
///     static const redis::Script release_lock(R"(
///         if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
///         return 0)");
///     Value removed = co_await client.eval(release_lock, {&key, 1}, {&token, 1});
///
/// Thread-safety: immutable after construction; share it freely.

#include <string>
#include <string_view>

namespace bulwark::redis {

class Script {
 public:
  /// Computes the SHA1 of `source` (no I/O; the server is told about the script on first use).
  explicit Script(std::string source);

  /// The Lua source, as given.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  /// SHA1 of the source as 40 lower-case hex digits, as `SCRIPT LOAD` answers it.
  [[nodiscard]] const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

/// SHA1 of `bytes` as 40 lower-case hex digits.
[[nodiscard]] std::string sha1_hex(std::string_view bytes);

}  // namespace bulwark::redis
