// The resilience pipeline around a plain function, without any client: retry, circuit breaker
// and a fallback guarding `lookup_price`, a stand-in for any call that can fail — a database
// query, a file on a network share, a library that talks to a device.
//
// For a longer walk through a service that degrades and recovers, see resilience_tour.cpp.

#include <bulwark/resilience/pipeline.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;

// Fails every second call while `flaky`, and every call while `down`.
struct PriceService {
  bool flaky = false;
  bool down = false;
  int calls = 0;

  bulwark::Result<double> lookup_price(const std::string& sku) {
    ++calls;
    if (down || (flaky && calls % 2 == 1)) {
      return bulwark::make_error_code(bulwark::errc::connection_lost);
    }
    return sku == "book" ? 12.5 : 3.0;
  }
};

}  // namespace

int main() {
  bulwark::PipelineConfig config;
  config.name = "prices";
  config.retry = bulwark::RetryConfig{};  // 3 attempts, exponential backoff with jitter
  config.retry->backoff.initial = 10ms;
  config.circuit_breaker = bulwark::CircuitBreakerConfig{};
  config.circuit_breaker->consecutive_failures = 3;  // open after 3 failed attempts in a row
  config.circuit_breaker->recovery_timeout = 30s;
  bulwark::Pipeline pipeline(config);
  PriceService service;

  // 1. A transient failure: the retry absorbs it and the caller sees a value.
  service.flaky = true;
  const double price = pipeline.execute([&] { return service.lookup_price("book"); });
  fmt::print("flaky:  price {} after {} calls of the service\n", price, service.calls);

  // 2. The service is down: every attempt fails, then the breaker opens and the next calls are
  //    rejected at once, without calling the service. try_execute returns the error instead of
  //    throwing.
  service.flaky = false;
  service.down = true;
  for (int i = 0; i < 3; ++i) {
    const int before = service.calls;
    const bulwark::Result<double> result =
        pipeline.try_execute([&] { return service.lookup_price("book"); });
    fmt::print("down:   {} (the service was called {} times)\n",
               result ? fmt::format("{}", *result) : bulwark::error_name(result.error()),
               service.calls - before);
  }

  // 3. A fallback answers while the breaker is open.
  bulwark::CallOptions<double> options;
  options.operation = "lookup_price";
  options.fallback = bulwark::fallback_value(0.0);
  fmt::print("open:   price {} from the fallback; breaker {}\n",
             pipeline.execute([&] { return service.lookup_price("book"); }, options),
             bulwark::to_string(pipeline.circuit_breaker()->state()));

  // 4. execute() throws when there is no fallback: ServiceUnavailable for an open breaker.
  try {
    (void)pipeline.execute([&] { return service.lookup_price("book"); },
                           {.operation = "lookup_price"});
  } catch (const bulwark::ServiceUnavailable& error) {
    fmt::print("throws: {}\n", error.what());
  }

  const bulwark::RetryStats retries = pipeline.retry()->stats();
  const bulwark::CircuitBreakerStats breaker = pipeline.circuit_breaker()->stats();
  fmt::print("retries {}, calls rescued by a retry {}, breaker opened {} time(s), rejected {}\n",
             retries.retries, retries.succeeded_after_retry, breaker.times_opened,
             breaker.rejected_total);
  return 0;
}
