// "host:port" for the admin endpoint: IP literals only, IPv6 in brackets, every error named.
#include "admin/detail/listen_address.hpp"

#include "bulwark/core/error.hpp"

#include <gtest/gtest.h>

namespace bulwark::detail {
namespace {

TEST(ListenAddress, ParsesIpv4AndBracketedIpv6) {
  const auto v4 = parse_listen_address("127.0.0.1:9090");
  EXPECT_EQ(v4.address().to_string(), "127.0.0.1");
  EXPECT_EQ(v4.port(), 9090);
  const auto any = parse_listen_address("0.0.0.0:0");
  EXPECT_EQ(any.port(), 0);
  const auto v6 = parse_listen_address("[::1]:8080");
  EXPECT_TRUE(v6.address().is_v6());
  EXPECT_EQ(v6.port(), 8080);
}

TEST(ListenAddress, RejectsWhatItCannotUseAndSaysWhy) {
  const auto why = [](std::string_view text) {
    try {
      (void)parse_listen_address(text);
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), errc::invalid_argument);
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(why("9090").find("expected host:port"), std::string::npos);
  EXPECT_NE(why("127.0.0.1:").find("port must be a number"), std::string::npos);
  EXPECT_NE(why("127.0.0.1:65536").find("port must be a number"), std::string::npos);
  EXPECT_NE(why("127.0.0.1:80x").find("port must be a number"), std::string::npos);
  EXPECT_NE(why("localhost:9090").find("must be an IP address"), std::string::npos);
  EXPECT_NE(why("::1:9090").find("in brackets"), std::string::npos);
  EXPECT_NE(why("localhost:9090").find("'localhost:9090'"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::detail
