// What http::Client puts on the wire, seen by the test server's /echo and its records:
// correlation IDs (on every attempt, from a CorrelationScope, or new UUID v4s), authentication
// (never leaked into errors), User-Agent, default headers, JSON bodies, query encoding and
// relative URLs resolved against base_url.
#include "bulwark/http/client.hpp"
#include "bulwark/http/correlation.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/redis_server.hpp"  // free_port()
#include "support/run.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <regex>
#include <set>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::HttpServer;
using test::run;
using ::testing::HasSubstr;
using ::testing::Not;

bool is_uuid_v4(const std::string& id) {
  static const std::regex uuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(id, uuid);
}

struct HttpHeadersTest : ::testing::Test {
  asio::io_context io;
  HttpServer server;

  Result<Response> send(Client& client, Request request) {
    return run(io, client.execute(std::move(request)));
  }
  // The request as /echo saw it.
  json::object echo(Client& client, Request request) {
    const Result<Response> reply = send(client, std::move(request));
    EXPECT_TRUE(reply) << test::describe(reply);
    if (!reply || reply->status != 200) return {};
    boost::system::error_code ec;
    json::value parsed = json::parse(reply->body, ec);
    if (ec || !parsed.is_object()) {
      const auto seen = server.requests();
      ADD_FAILURE() << "not an /echo answer: " << reply->body << "; the server saw "
                    << (seen.empty() ? std::string("nothing") : seen.back().target);
      return {};
    }
    return std::move(parsed.as_object());
  }
  // A top-level string of the /echo answer ("target", "path", "method", "body").
  static std::string part(const json::object& echoed, std::string_view name) {
    const json::value* value = echoed.if_contains(name);
    return value && value->is_string() ? std::string(value->as_string()) : "<no echo>";
  }
  static std::string header(const json::object& echoed, std::string_view name) {
    if (!echoed.contains("headers")) return "<no echo>";
    const json::value* value = echoed.at("headers").as_object().if_contains(name);
    return value ? std::string(value->as_string()) : std::string("<absent>");
  }
};

TEST_F(HttpHeadersTest, TheCorrelationIdIsOnEveryAttempt) {
  ClientConfig config = test::http_config(server);
  config.retry = RetryConfig{.max_attempts = 3, .backoff = {.initial = 1ms, .max = 5ms}};
  Client client(io.get_executor(), config);
  server.fail_next("/flaky", 2, 503);
  const Result<Response> reply = send(client, Request::get(server.url("/flaky")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->attempts, 3);
  EXPECT_TRUE(is_uuid_v4(reply->correlation_id)) << reply->correlation_id;
  const auto attempts = server.requests_to("/flaky");
  ASSERT_EQ(attempts.size(), 3u);
  for (const test::RecordedRequest& attempt : attempts) {
    EXPECT_EQ(attempt.header("X-Correlation-ID"), reply->correlation_id);
    EXPECT_EQ(attempt.header_count("X-Correlation-ID"), 1u);
  }
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, EachRequestGetsANewUuidV4) {
  Client client(io.get_executor(), test::http_config(server));
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const Result<Response> reply = send(client, Request::get(server.url("/echo")));
    ASSERT_TRUE(reply) << test::describe(reply);
    EXPECT_TRUE(is_uuid_v4(reply->correlation_id)) << reply->correlation_id;
    ids.insert(reply->correlation_id);
  }
  EXPECT_EQ(ids.size(), 5u);
  std::set<std::string> sent;
  for (const auto& request : server.requests())
    sent.insert(request.header("X-Correlation-ID").value_or(""));
  EXPECT_EQ(sent, ids);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, TheCorrelationIdComesFromTheCurrentScope) {
  Client client(io.get_executor(), test::http_config(server));
  {
    CorrelationScope outer("outer-id");
    {
      CorrelationScope inner("inner-id");
      EXPECT_EQ(header(echo(client, Request::get(server.url("/echo"))), "x-correlation-id"),
                "inner-id");
    }
    EXPECT_EQ(header(echo(client, Request::get(server.url("/echo"))), "x-correlation-id"),
              "outer-id");
    // The request's own ID wins over the scope's.
    Request own = Request::get(server.url("/echo"));
    own.correlation_id = "own-id";
    EXPECT_EQ(header(echo(client, std::move(own)), "x-correlation-id"), "own-id");
  }
  EXPECT_TRUE(
      is_uuid_v4(header(echo(client, Request::get(server.url("/echo"))), "x-correlation-id")));
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, TheCorrelationHeaderNameIsConfigurableAndCanBeOff) {
  ClientConfig config = test::http_config(server);
  config.correlation_header = "X-Request-ID";
  Client renamed(io.get_executor(), config);
  const json::object echoed = echo(renamed, Request::get(server.url("/echo")));
  EXPECT_TRUE(is_uuid_v4(header(echoed, "x-request-id")));
  EXPECT_EQ(header(echoed, "x-correlation-id"), "<absent>");
  test::close_and_expect_clean(io, renamed, &server);

  config.correlation_header.clear();
  Client none(io.get_executor(), config);
  const json::object plain = echo(none, Request::get(server.url("/echo")));
  EXPECT_EQ(header(plain, "x-request-id"), "<absent>");
  EXPECT_EQ(header(plain, "x-correlation-id"), "<absent>");
  test::close_and_expect_clean(io, none, &server);
}

TEST_F(HttpHeadersTest, BearerAuthIsSent) {
  ClientConfig config = test::http_config(server);
  config.auth = {.scheme = AuthScheme::bearer, .token = Secret("s3cr3t-bearer")};
  Client client(io.get_executor(), config);
  EXPECT_EQ(header(echo(client, Request::get(server.url("/echo"))), "authorization"),
            "Bearer s3cr3t-bearer");
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, NamedHeaderAuthIsSent) {
  ClientConfig config = test::http_config(server);
  config.auth = {
      .scheme = AuthScheme::header, .header_name = "api-key", .token = Secret("s3cr3t-key")};
  Client client(io.get_executor(), config);
  const json::object echoed = echo(client, Request::get(server.url("/echo")));
  EXPECT_EQ(header(echoed, "api-key"), "s3cr3t-key");
  EXPECT_EQ(header(echoed, "authorization"), "<absent>");
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, TheTokenNeverAppearsInErrorMessages) {
  ClientConfig config = test::http_config(server);
  config.auth = {.scheme = AuthScheme::bearer, .token = Secret("s3cr3t-bearer")};
  config.timeouts.read = 100ms;
  Client client(io.get_executor(), config);
  const std::string nobody = "http://127.0.0.1:" + std::to_string(test::free_port());
  const std::vector<std::string> failing = {nobody + "/x", server.url("/status/200?delay_ms=400"),
                                            server.url("/garbage"), server.url("/reset-mid-body")};
  for (const std::string& url : failing) {
    try {
      (void)run(io, client.send(Request::get(url)));
      ADD_FAILURE() << url << " did not fail";
    } catch (const std::exception& error) {
      EXPECT_THAT(error.what(), Not(HasSubstr("s3cr3t"))) << url;
    }
  }
  // A status error too (raise_for_status quotes the body, which here echoes nothing secret).
  server.fail_next("/echo", 1, 500);
  const Response failed = run(io, client.send(Request::get(server.url("/echo"))));
  try {
    failed.raise_for_status();
    ADD_FAILURE() << "no error for 500";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), Not(HasSubstr("s3cr3t")));
  }
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, UserAgentDefaultCustomAndNone) {
  ClientConfig config = test::http_config(server);
  Client standard(io.get_executor(), config);
  EXPECT_EQ(header(echo(standard, Request::get(server.url("/echo"))), "user-agent"),
            "bulwark-http/1");
  test::close_and_expect_clean(io, standard, &server);

  config.user_agent = "search-indexer/2.1";
  Client custom(io.get_executor(), config);
  EXPECT_EQ(header(echo(custom, Request::get(server.url("/echo"))), "user-agent"),
            "search-indexer/2.1");
  test::close_and_expect_clean(io, custom, &server);

  config.user_agent.clear();
  Client none(io.get_executor(), config);
  EXPECT_EQ(header(echo(none, Request::get(server.url("/echo"))), "user-agent"), "<absent>");
  test::close_and_expect_clean(io, none, &server);
}

TEST_F(HttpHeadersTest, DefaultHeadersAreSentAndARequestHeaderReplacesThem) {
  ClientConfig config = test::http_config(server);
  config.headers = {{"X-Tenant", "acme"}, {"Accept", "application/json"}};
  Client client(io.get_executor(), config);
  const json::object plain = echo(client, Request::get(server.url("/echo")));
  EXPECT_EQ(header(plain, "x-tenant"), "acme");
  EXPECT_EQ(header(plain, "accept"), "application/json");

  const json::object overridden =
      echo(client, Request::get(server.url("/echo")).header("x-tenant", "globex"));
  EXPECT_EQ(header(overridden, "x-tenant"), "globex") << "sent twice or not replaced";
  const auto last = server.requests().back();
  EXPECT_EQ(last.header_count("X-Tenant"), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, HostHeaderNamesTheOrigin) {
  Client client(io.get_executor(), test::http_config(server));
  EXPECT_EQ(header(echo(client, Request::get(server.url("/echo"))), "host"),
            "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.requests().back().header_count("Host"), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, JsonBodiesAreSentWithTheirContentType) {
  Client client(io.get_executor(), test::http_config(server));
  const json::value document = {{"vector", {0.5, 0.25}}, {"limit", 5}, {"name", "caf\u00e9"}};
  const Response reply = run(io, client.post_json(server.url("/echo"), document));
  ASSERT_EQ(reply.status, 200u);
  const json::object echoed = reply.json().as_object();
  EXPECT_EQ(echoed.at("method").as_string(), "POST");
  EXPECT_EQ(header(echoed, "content-type"), "application/json");
  EXPECT_EQ(json::parse(echoed.at("body").as_string()), document);
  EXPECT_EQ(header(echoed, "content-length"), std::to_string(echoed.at("body").as_string().size()));

  const Response put = run(io, client.put_json(server.url("/echo"), document));
  EXPECT_EQ(put.json().at("method").as_string(), "PUT");
  const Response del = run(io, client.del(server.url("/echo")));
  EXPECT_EQ(del.json().at("method").as_string(), "DELETE");
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, JsonHelperParsesAndRaisesForStatus) {
  Client client(io.get_executor(), test::http_config(server));
  const json::value echoed = run(io, client.json(Request::get(server.url("/echo"))));
  EXPECT_EQ(echoed.at("path").as_string(), "/echo");
  try {
    (void)run(io, client.json(Request::get(server.url("/status/404"))));
    ADD_FAILURE() << "no error for 404";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::http_client_error);
  }
  try {
    (void)run(io, client.json(Request::get(server.url("/bytes/10"))));
    ADD_FAILURE() << "no error for a body that is not JSON";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::protocol_error);
  }
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, QueryParametersArePercentEncoded) {
  Client client(io.get_executor(), test::http_config(server));
  const std::string tricky = "a b&c=d/e?f#g%h\u00e9";
  const json::object echoed =
      echo(client, Request::get(server.url("/echo?fixed=1")).query("q", tricky).query("n", ""));
  ASSERT_TRUE(echoed.contains("query"));
  const json::object& query = echoed.at("query").as_object();
  EXPECT_EQ(query.at("fixed").as_string(), "1");
  ASSERT_TRUE(query.contains("q")) << echoed.at("target").as_string();
  EXPECT_EQ(query.at("q").as_string(), tricky) << echoed.at("target").as_string();
  EXPECT_TRUE(query.contains("n"));
  const std::string target(echoed.at("target").as_string());
  EXPECT_THAT(target, Not(HasSubstr(" ")));
  EXPECT_THAT(target, Not(HasSubstr("#")));
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, APlusInAQueryValueIsEncoded) {
  // Most servers decode queries as application/x-www-form-urlencoded, where a bare '+' is a
  // space: a value such as a time zone offset must arrive with its plus sign.
  Client client(io.get_executor(), test::http_config(server));
  const json::object echoed =
      echo(client, Request::get(server.url("/echo")).query("at", "2024-05-01T10:00:00+02:00"));
  ASSERT_TRUE(echoed.contains("query"));
  EXPECT_EQ(echoed.at("query").as_object().at("at").as_string(), "2024-05-01T10:00:00+02:00")
      << echoed.at("target").as_string();
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, RelativeUrlsKeepTheirPathAndQuery) {
  Client client(io.get_executor(), test::http_config(server));
  // Long enough that the URL text lives on the heap, not in a small-string buffer.
  const std::string path = "/echo/" + std::string(200, 'p');
  const json::object echoed = echo(client, Request::get(path + "?x=1&y=two").query("z", "3"));
  EXPECT_EQ(part(echoed, "path"), path);
  EXPECT_EQ(part(echoed, "target"), path + "?x=1&y=two&z=3");
  const json::object shortened = echo(client, Request::get("/echo?k=v"));
  EXPECT_EQ(part(shortened, "target"), "/echo?k=v");
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, RelativeUrlsExtendTheBaseUrlPath) {
  ClientConfig config = test::http_config(server);
  config.base_url = server.url("/api/v1/");
  Client client(io.get_executor(), config);
  EXPECT_EQ(part(echo(client, Request::get("/echo?a=1")), "target"), "/api/v1/echo?a=1");
  EXPECT_EQ(part(echo(client, Request::get("echo")), "target"), "/api/v1/echo");
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpHeadersTest, RelativeUrlWithoutBaseUrlIsInvalid) {
  ClientConfig config = test::http_config(server);
  config.base_url.clear();
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get("/echo"));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), errc::invalid_argument) << test::describe(reply);
  const Result<Response> ftp = send(client, Request::get("ftp://127.0.0.1/file"));
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error(), errc::invalid_argument) << test::describe(ftp);
  EXPECT_EQ(server.connections_accepted(), 0u);
  test::close_and_expect_clean(io, client, &server);
}

}  // namespace
}  // namespace bulwark::http
