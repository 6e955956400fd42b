#include "bulwark/http/response.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

namespace bulwark::http {
namespace {

// The start of a body for an error message: enough to recognise the service's complaint,
// with control characters replaced so it stays on one line.
std::string excerpt(std::string_view body) {
  constexpr std::size_t limit = 200;
  std::string text(body.substr(0, limit));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > limit) text += "...";
  return text;
}

}  // namespace

boost::json::value Response::json() const {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec) {
    throw Error(make_error_code(errc::protocol_error), {},
                fmt::format("response of {} is not JSON: {}", url, ec.message()));
  }
  return value;
}

const Response& Response::raise_for_status() const {
  if (status < 400) return *this;
  const errc code = status >= 500 || status == 429 ? errc::server_error : errc::http_client_error;
  throw Error(make_error_code(code), {},
              fmt::format("{} answered {} {}: {}", url, status, reason, excerpt(body)));
}

}  // namespace bulwark::http
