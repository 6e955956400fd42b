#pragma once
// Beast's HTTP/1.1 response parser, feeding what the client returns directly: the status and
// fields into an `ExchangeResult`, the body into its string (bounded by the body limit) or, piece
// by piece, to the caller's callback. No intermediate message object, no copy of the fields.

#include "bulwark/http/headers.hpp"
#include "bulwark/http/request.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstddef>
#include <exception>
#include <string>

namespace bulwark::http::detail {

// What one exchange learnt besides whether the connection can be reused.
struct ResponseHead {
  unsigned status = 0;
  std::string reason;
  Headers headers;
  std::string body;
};

class ResponseReader final : public boost::beast::http::basic_parser<false> {
 public:
  // `on_body`, when not null, receives the body (except a redirect's when `following_redirects`:
  // that one is kept, within `max_body_bytes`, for the client to read its Location).
  ResponseReader(ResponseHead& result, const BodyCallback* on_body, bool following_redirects,
                 std::size_t max_body_bytes, std::size_t max_header_bytes, bool head_request);

  // What the body callback threw, if it did (the parse then failed).
  [[nodiscard]] std::exception_ptr callback_error() const noexcept { return callback_error_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  void deliver(string_view piece, error_code& ec);

  ResponseHead& result_;
  const BodyCallback* on_body_;
  bool following_redirects_;
  bool streaming_ = false;
  std::size_t max_body_bytes_;
  std::exception_ptr callback_error_;
};

}  // namespace bulwark::http::detail
