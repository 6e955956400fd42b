#include "bulwark/http/request.hpp"

#include <boost/json/serialize.hpp>

#include <array>

namespace bulwark::http {

Request& Request::text(std::string content, std::string content_type) & {
  body = std::move(content);
  headers.set("Content-Type", std::move(content_type));
  return *this;
}

Request& Request::json(const boost::json::value& value) & {
  body = boost::json::serialize(value);
  headers.set("Content-Type", "application/json");
  return *this;
}

bool Request::is_replayable() const noexcept {
  // RFC 9110 §9.2.2: idempotent methods may be retried automatically.
  static constexpr std::array<std::string_view, 6> idempotent = {"GET", "HEAD",   "OPTIONS",
                                                                 "PUT", "DELETE", "TRACE"};
  for (std::string_view name : idempotent) {
    if (method == name) return true;
  }
  return headers.contains("Idempotency-Key");
}

}  // namespace bulwark::http
