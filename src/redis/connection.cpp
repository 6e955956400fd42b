#include "bulwark/redis/connection.hpp"

#include "bulwark/resilience/timeout.hpp"
#include "redis/detail/connection_core.hpp"
#include "redis/detail/transport.hpp"

#include <fmt/format.h>
#include <boost/asio/this_coro.hpp>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;

// Request/response on a transport that has no loops yet: the handshake.
class Handshake {
 public:
  Handshake(detail::Transport& transport, Parser& parser, const ConnectionConfig& config)
      : transport_(transport), parser_(parser), config_(config) {}

  asio::awaitable<Value> roundtrip(const Command& command) {
    std::string out;
    command.append_to(out);
    boost::system::error_code error;
    co_await transport_.write(asio::buffer(out), error);
    if (error) fail(errc::connection_lost, fmt::format("{}: {}", command.name(), error.message()));
    std::array<char, 4096> buffer{};
    for (;;) {
      if (std::optional<Value> reply = parser_.next()) co_return std::move(*reply);
      const std::size_t n = co_await transport_.read_some(asio::buffer(buffer), error);
      if (error)
        fail(errc::connection_lost, fmt::format("{}: {}", command.name(), error.message()));
      if (std::error_code bad = parser_.feed(std::string_view(buffer.data(), n))) {
        fail(bad, fmt::format("{} reply: {}", command.name(), parser_.error_detail()));
      }
    }
  }

  // Turns an error reply into the exception the caller of connect() sees.
  void check(const Value& reply, std::string_view step) const {
    if (!reply.is_error()) return;
    const std::error_code code = reply.error_code();
    fail(code, fmt::format("{} refused: {}", step, reply.error_message()));
  }

  [[noreturn]] void fail(std::error_code code, std::string_view detail) const {
    throw Error(code, {}, fmt::format("{}: {}", describe_endpoint(config_), detail));
  }

 private:
  detail::Transport& transport_;
  Parser& parser_;
  const ConnectionConfig& config_;
};

bool is_unknown_command(const Value& reply) {
  const std::string_view message = reply.error_message();
  return reply.error_prefix() == "NOPROTO" ||
         message.find("unknown command") != std::string_view::npos;
}

// HELLO 3 (with AUTH and SETNAME); RESP2 servers get AUTH and CLIENT SETNAME instead.
asio::awaitable<Protocol> negotiate(Handshake& handshake, const ConnectionConfig& config) {
  const bool authenticate = !config.password.empty();
  const std::string user = config.username.empty() ? std::string("default") : config.username;
  if (config.protocol == Protocol::resp3) {
    Command hello("HELLO");
    hello.arg("3");
    if (authenticate) hello.arg("AUTH").arg(user).arg(config.password.reveal());
    if (!config.client_name.empty()) hello.arg("SETNAME").arg(config.client_name);
    const Value reply = co_await handshake.roundtrip(hello);
    if (!reply.is_error() || !is_unknown_command(reply)) {
      handshake.check(reply, "HELLO");
      co_return Protocol::resp3;
    }
  }
  if (authenticate) {
    Command auth("AUTH");
    if (!config.username.empty()) auth.arg(config.username);
    auth.arg(config.password.reveal());
    handshake.check(co_await handshake.roundtrip(auth), "AUTH");
  }
  if (!config.client_name.empty()) {
    handshake.check(
        co_await handshake.roundtrip(make_command("CLIENT", "SETNAME", config.client_name)),
        "CLIENT SETNAME");
  }
  co_return Protocol::resp2;
}

asio::awaitable<std::shared_ptr<detail::ConnectionCore>> open_core(asio::any_io_executor executor,
                                                                   ConnectionConfig config) {
  detail::Transport transport = co_await detail::Transport::open(executor, config);
  Parser parser(config.limits);
  Handshake handshake(transport, parser, config);
  const Protocol protocol = co_await negotiate(handshake, config);
  if (config.database != 0) {
    handshake.check(co_await handshake.roundtrip(make_command("SELECT", config.database)),
                    fmt::format("SELECT {}", config.database));
  }
  co_return std::make_shared<detail::ConnectionCore>(
      executor, std::move(config), std::move(transport), std::move(parser), protocol);
}

}  // namespace

asio::awaitable<std::shared_ptr<Connection>> Connection::connect(asio::any_io_executor executor,
                                                                 ConnectionConfig config) {
  std::vector<ConfigIssue> issues;
  validate(config, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  const Duration limit = config.connect_timeout;
  const std::string endpoint = describe_endpoint(config);
  std::shared_ptr<detail::ConnectionCore> core;
  try {
    core = co_await with_timeout(open_core(executor, std::move(config)), limit);
  } catch (const Error& error) {
    if (error.code() != errc::timeout) throw;
    throw Error(error.code(), {},
                fmt::format("{}: connect and handshake took longer than {}", endpoint,
                            format_duration(limit)));
  }
  core->start();
  co_return std::shared_ptr<Connection>(new Connection(std::move(core)));
}

Connection::Connection(std::shared_ptr<detail::ConnectionCore> core) noexcept
    : core_(std::move(core)) {}

Connection::~Connection() { core_->close(make_error_code(errc::connection_lost)); }

namespace {

std::chrono::steady_clock::time_point deadline_after(Duration timeout) {
  if (timeout <= Duration::zero()) return std::chrono::steady_clock::time_point::max();
  // The precise clock: the coarse one lags by a tick or more, which made a 200 ms timeout fire
  // a few ms early. A deadline may be late by the timer's slack, never early.
  return std::chrono::steady_clock::now() + timeout;
}

}  // namespace

asio::awaitable<Result<Value>> Connection::execute(Command command, Duration timeout) {
  auto request = std::make_shared<detail::ConnectionCore::Request>();
  request->commands.push_back(std::move(command));
  request->deadline = deadline_after(timeout);
  if (std::error_code failed = co_await core_->async_submit(request, asio::use_awaitable)) {
    co_return failed;
  }
  co_return std::move(request->replies.front());
}

asio::awaitable<Result<std::vector<Value>>> Connection::execute_batch(std::vector<Command> commands,
                                                                      Duration timeout) {
  if (commands.empty()) co_return std::vector<Value>{};
  auto request = std::make_shared<detail::ConnectionCore::Request>();
  request->commands = std::move(commands);
  request->deadline = deadline_after(timeout);
  if (std::error_code failed = co_await core_->async_submit(request, asio::use_awaitable)) {
    co_return failed;
  }
  co_return std::move(request->replies);
}

asio::awaitable<Result<void>> Connection::send(Command command) {
  if (core_->protocol() != Protocol::resp3) co_return make_error_code(errc::invalid_argument);
  auto request = std::make_shared<detail::ConnectionCore::Request>();
  request->commands.push_back(std::move(command));
  request->answer = detail::ConnectionCore::Answer::pushes;
  if (std::error_code failed = co_await core_->async_submit(request, asio::use_awaitable)) {
    co_return failed;
  }
  co_return ok();
}

void Connection::close() noexcept { core_->close(make_error_code(errc::connection_lost)); }
bool Connection::is_open() const noexcept { return core_->is_open(); }
Protocol Connection::protocol() const noexcept { return core_->protocol(); }
std::error_code Connection::close_reason() const noexcept { return core_->close_reason(); }
ConnectionStats Connection::stats() const noexcept { return core_->stats(); }
std::size_t Connection::pending() const noexcept { return core_->pending(); }
const ConnectionConfig& Connection::config() const noexcept { return core_->config(); }
void Connection::on_push(std::function<void(Value)> handler) { core_->on_push(std::move(handler)); }
void Connection::on_close(std::function<void(std::error_code)> handler) {
  core_->on_close(std::move(handler));
}

}  // namespace bulwark::redis
