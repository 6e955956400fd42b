// The /status page: rows, states, rates from the samples, sparklines, and escaping of whatever
// came from outside (names, error messages).
#include "admin/detail/status_page.hpp"

#include "admin/detail/html.hpp"

#include <gtest/gtest.h>

namespace bulwark::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ClientHealth client(std::string name, HealthState state) {
  ClientHealth health;
  health.name = std::move(name);
  health.kind = "http";
  health.state = state;
  health.last_check = 1'700'000'000;
  health.latency = 12ms;
  health.circuit_breaker_state = "closed";
  health.pool = {.active = 1, .idle = 2, .max = 10, .wait_timeouts = 0};
  return health;
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HtmlEscape, EscapesEveryCharacterThatEndsTextOrAnAttribute) {
  EXPECT_EQ(html_escape(R"(<script>alert("x&y")</script> it's)"),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s");
  EXPECT_EQ(html_escape("plain text"), "plain text");
}

TEST(Sparkline, ScalesToTheMaximumAndMarksTheLastValue) {
  const std::string svg = sparkline_svg({0, 5, 10}, {.width = 104, .height = 24, .label = "l"});
  EXPECT_EQ(svg.rfind("<svg", 0), 0U);
  EXPECT_NE(svg.find(R"(points="2.0,22.0 52.0,12.0 102.0,2.0")"), std::string::npos) << svg;
  EXPECT_NE(svg.find(R"(<circle cx="102.0" cy="2.0")"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>l: max 10, last 10</title>"), std::string::npos) << svg;
}

TEST(Sparkline, AllZeroIsAFlatLineAndTooFewValuesAnEmptyFrame) {
  const std::string flat = sparkline_svg({0, 0}, {.width = 104, .height = 24});
  EXPECT_NE(flat.find(R"(points="2.0,22.0 102.0,22.0")"), std::string::npos) << flat;
  EXPECT_EQ(sparkline_svg({1}, {}).find("polyline"), std::string::npos);
  EXPECT_EQ(sparkline_svg({}, {}).find("polyline"), std::string::npos);
  const std::string odd = sparkline_svg({-1, std::nan(""), 2}, {.width = 104, .height = 24});
  EXPECT_NE(odd.find(R"(points="2.0,22.0 52.0,22.0 102.0,2.0")"), std::string::npos) << odd;
}

TEST(History, RatesAreDifferencesOverTheLastInterval) {
  History history(3);
  const auto t0 = Clock::time_point(1h);
  EXPECT_FALSE(history.last_rates("a"));
  history.add({t0, {{"a", 10, 1, 5ms}}});
  EXPECT_FALSE(history.last_rates("a")) << "one sample has no rate";
  history.add({t0 + 2s, {{"a", 30, 5, 7ms}}});
  ASSERT_TRUE(history.last_rates("a"));
  EXPECT_DOUBLE_EQ(history.last_rates("a")->calls, 10.0);
  EXPECT_DOUBLE_EQ(history.last_rates("a")->errors, 2.0);
  EXPECT_FALSE(history.last_rates("b"));
  history.add({t0 + 2s, {{"a", 99, 99, 0ms}}});
  EXPECT_EQ(history.size(), 2U) << "a sample at the same time is ignored";
  history.add({t0 + 4s, {{"a", 30, 5, 9ms}}});
  history.add({t0 + 5s, {{"a", 40, 5, 11ms}}});
  EXPECT_EQ(history.size(), 3U) << "bounded";
  EXPECT_EQ(history.latency_ms("a"), (std::vector<double>{7, 9, 11}));
  EXPECT_EQ(history.errors_per_second("a"), (std::vector<double>{0, 0}));
  EXPECT_DOUBLE_EQ(history.last_rates("a")->calls, 10.0);
}

TEST(History, SamplesTakeCountsByNameAndNoLatencyBeforeTheFirstCheck) {
  HealthReport report;
  report.clients.push_back(client("a", HealthState::healthy));
  report.clients.push_back(client("b", HealthState::healthy));
  report.clients[1].last_check = 0;
  const Sample sample = make_sample(Clock::time_point(1h), report, {{"b", 4, 1}, {"a", 7, 2}});
  ASSERT_EQ(sample.clients.size(), 2U);
  EXPECT_EQ(sample.clients[0].calls, 7U);
  EXPECT_EQ(sample.clients[0].errors, 2U);
  EXPECT_EQ(sample.clients[0].latency, 12ms);
  EXPECT_EQ(sample.clients[1].calls, 4U);
  EXPECT_EQ(sample.clients[1].latency, 0ms);
}

class StatusPageTest : public ::testing::Test {
 protected:
  std::string render() {
    return render_status_page({.report = report_,
                               .history = history_,
                               .refresh = 5s,
                               .sample_interval = 5s,
                               .now_unix = 1'700'000'003});
  }
  HealthReport report_;
  History history_{121};
};

TEST_F(StatusPageTest, OneRowPerClientWithItsState) {
  report_.clients.push_back(client("qdrant", HealthState::healthy));
  report_.clients.push_back(client("cache", HealthState::degraded));
  report_.clients.push_back(client("search", HealthState::failed));
  ClientHealth openai = client("openai", HealthState::healthy);
  openai.available = false;
  openai.optional = true;
  report_.clients.push_back(openai);
  report_.state = HealthState::failed;
  const std::string html = render();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_EQ(count(html, "<tr id=\"client-"), 4U);
  EXPECT_NE(html.find(R"(<tr id="client-qdrant" data-client="qdrant" data-state="healthy">)"),
            std::string::npos);
  EXPECT_NE(html.find(R"(data-client="cache" data-state="degraded")"), std::string::npos);
  EXPECT_NE(html.find(R"(data-client="search" data-state="failed")"), std::string::npos);
  EXPECT_NE(html.find(R"(data-client="openai" data-state="unavailable")"), std::string::npos);
  EXPECT_NE(html.find(R"(id="overall" class="badge state-failed" data-state="failed")"),
            std::string::npos);
  EXPECT_NE(html.find(R"(<meta http-equiv="refresh" content="5">)"), std::string::npos);
  EXPECT_NE(html.find("1 / 2 / 10"), std::string::npos) << "pool active / idle / max";
  EXPECT_NE(html.find("3 s ago"), std::string::npos);
  EXPECT_NE(html.find("12.0 ms"), std::string::npos);
  EXPECT_NE(html.find("rates over the last 5s, charts over up to 10m"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "no scripts";
  EXPECT_EQ(html.find("http://"), std::string::npos) << "nothing from outside";
  EXPECT_EQ(html.find("https://"), std::string::npos) << "nothing from outside";
}

TEST_F(StatusPageTest, ErrorsAndNamesAreEscaped) {
  ClientHealth evil = client("svc\"><b>x", HealthState::failed);
  evil.last_error = "GET /health answered <script>alert('pwned')</script>";
  report_.clients.push_back(evil);
  const std::string html = render();
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<b>x"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find(R"(data-client="svc&quot;&gt;&lt;b&gt;x")"), std::string::npos);
  EXPECT_NE(
      html.find(
          R"(<tr class="detail" data-error-for="svc&quot;&gt;&lt;b&gt;x"><td colspan="10">GET /health answered &lt;script&gt;)"),
      std::string::npos)
      << "the error on a line of its own under its row";
}

TEST_F(StatusPageTest, RatesAndSparklinesComeFromTheSamples) {
  report_.clients.push_back(client("svc", HealthState::healthy));
  const auto t0 = Clock::time_point(1h);
  history_.add({t0, {{"svc", 0, 0, 2ms}}});
  history_.add({t0 + 5s, {{"svc", 50, 5, 4ms}}});
  history_.add({t0 + 10s, {{"svc", 100, 20, 8ms}}});
  const std::string html = render();
  EXPECT_NE(html.find(R"(<td class="num">10.00</td><td class="num">3.00</td>)"), std::string::npos)
      << html;
  EXPECT_EQ(count(html, "<polyline"), 2U) << "latency and errors";
  EXPECT_NE(html.find("check latency: max 8 ms"), std::string::npos);
  EXPECT_NE(html.find("errors per second: max 3/s"), std::string::npos);
}

TEST_F(StatusPageTest, NoSamplesYetShowsDashes) {
  report_.clients.push_back(client("svc", HealthState::healthy));
  report_.clients[0].last_check = 0;
  const std::string html = render();
  EXPECT_NE(html.find(R"(<td class="num">&ndash;</td><td class="num">&ndash;</td>)"),
            std::string::npos);
  EXPECT_NE(html.find("never"), std::string::npos);
}

TEST_F(StatusPageTest, NoClientsSaysSo) {
  EXPECT_NE(render().find("No clients are configured."), std::string::npos);
}

}  // namespace
}  // namespace bulwark::detail
