#include "bulwark/core/runtime.hpp"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

namespace bulwark {
namespace {

// The runtime whose thread this is, so block_on can refuse to deadlock.
thread_local const Runtime* current_runtime = nullptr;

int concurrency_hint(const RuntimeOptions& options) {
  if (options.threads == 0) {
    throw ConfigError("runtime.threads", "must be >= 1, got 0");
  }
  return static_cast<int>(options.threads);
}

}  // namespace

Runtime::Runtime(RuntimeOptions options)
    : context_(concurrency_hint(options)), work_(context_.get_executor()) {
  // spdlog's registry is a function-local static created on first use. Created here, before the
  // threads exist, its construction happens-before everything they log, in the eyes of
  // ThreadSanitizer too (which cannot see the static's guard inside the uninstrumented libspdlog
  // when a runtime thread and the caller's thread both make the first use).
  (void)spdlog::default_logger_raw();
  threads_.reserve(options.threads);
  for (std::size_t i = 0; i < options.threads; ++i) {
    threads_.emplace_back([this] {
      current_runtime = this;
      context_.run();
      current_runtime = nullptr;
    });
  }
}

Runtime::~Runtime() { stop(); }

bool Runtime::running_in_this_thread() const noexcept { return current_runtime == this; }

void Runtime::stop() noexcept {
  work_.reset();
  context_.stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }
  threads_.clear();
}

}  // namespace bulwark
