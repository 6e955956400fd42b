#include "http/detail/response_reader.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/system/errc.hpp>

namespace bulwark::http::detail {

namespace bhttp = boost::beast::http;

ResponseReader::ResponseReader(ResponseHead& result, const BodyCallback* on_body,
                               bool following_redirects, std::size_t max_body_bytes,
                               std::size_t max_header_bytes, bool head_request)
    : result_(result),
      on_body_(on_body),
      following_redirects_(following_redirects),
      max_body_bytes_(max_body_bytes) {
  eager(true);
  header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(max_header_bytes, UINT32_MAX)));
  // A streamed body may be any size: only its pieces are held in memory. Otherwise the limit is
  // checked against Content-Length as soon as the header is complete, before reading the body.
  if (on_body_ != nullptr) {
    body_limit(boost::none);
  } else {
    body_limit(max_body_bytes_);
  }
  if (head_request) skip(true);
}

void ResponseReader::on_response_impl(int code, string_view reason, int, error_code&) {
  result_.status = static_cast<unsigned>(code);
  result_.reason.assign(reason.data(), reason.size());
  result_.headers = Headers();
  result_.body.clear();
}

void ResponseReader::on_field_impl(bhttp::field, string_view name_string, string_view value,
                                   error_code&) {
  result_.headers.add(std::string(name_string), std::string(value));
}

void ResponseReader::on_header_impl(error_code&) {
  const bool redirect = following_redirects_ && result_.status >= 300 && result_.status < 400 &&
                        result_.headers.contains("Location");
  streaming_ = on_body_ != nullptr && !redirect;
}

void ResponseReader::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                       error_code&) {
  if (!streaming_ && content_length && *content_length <= max_body_bytes_) {
    result_.body.reserve(static_cast<std::size_t>(*content_length));
  }
}

std::size_t ResponseReader::on_body_impl(string_view body, error_code& ec) {
  deliver(body, ec);
  return body.size();
}

std::size_t ResponseReader::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  deliver(body, ec);
  return body.size();
}

void ResponseReader::deliver(string_view piece, error_code& ec) {
  if (piece.empty()) return;
  if (streaming_) {
    // Not thrown through the parser, whose state it would leave undefined; the exchange
    // rethrows it once the parser has returned.
    try {
      (*on_body_)(std::string_view(piece.data(), piece.size()));
    } catch (...) {
      callback_error_ = std::current_exception();
      ec = boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
    }
    return;
  }
  if (result_.body.size() + piece.size() > max_body_bytes_) {
    ec = bhttp::error::body_limit;  // A redirect's body, read without the parser's limit.
    return;
  }
  result_.body.append(piece.data(), piece.size());
}

}  // namespace bulwark::http::detail
