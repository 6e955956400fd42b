#include "bulwark/redis/script.hpp"

#include "bulwark/core/error.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <utility>

namespace bulwark::redis {

std::string sha1_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest is the one-shot form of the EVP interface; the low-level SHA1() is deprecated in
  // OpenSSL 3.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) {
    throw Error(make_error_code(errc::invalid_argument), {}, "SHA1 of a script failed in OpenSSL");
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string text;
  text.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    text.push_back(hex[digest[i] >> 4U]);
    text.push_back(hex[digest[i] & 0x0FU]);
  }
  return text;
}

Script::Script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

}  // namespace bulwark::redis
