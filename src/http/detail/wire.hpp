#pragma once
// A request as it goes on the wire: its head (request line and fields) formatted once into one
// buffer, written with its body in one gather write.

#include "bulwark/http/config.hpp"
#include "bulwark/http/request.hpp"
#include "http/detail/url.hpp"

#include <string>
#include <string_view>

namespace bulwark::http::detail {

struct WireRequest {
  std::string head;          // "GET /path HTTP/1.1\r\n" ... "\r\n"
  std::string_view body;     // The request's own body, which outlives this.
  bool head_method = false;  // A HEAD: the response has a header and no body.
  bool keep_alive = true;    // Neither the client nor the request asked to close afterwards.
};

// The client's defaults, then the request's own fields (a field the request sets replaces the
// default of that name). `send_auth`: the client's credentials go to this target's origin.
// Header names and values were checked before (see fields.hpp).
[[nodiscard]] WireRequest make_wire(const ClientConfig& config, const Request& request,
                                    const Target& target, std::string_view correlation_id,
                                    bool send_auth);

}  // namespace bulwark::http::detail
