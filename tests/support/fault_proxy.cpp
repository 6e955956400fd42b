#include "support/fault_proxy.hpp"

#include "support/run_on.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

namespace bulwark::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

// The faults in force; read by the proxy's thread at every chunk, written by test threads.
struct Faults {
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds jitter{0};
  std::size_t bandwidth = 0;
  bool reset_on_accept = false;
  std::size_t reset_after = 0;
  std::uint64_t reset_epoch = 0;  // bumped by every reset_after(): counts start again
  Blackhole blackhole = Blackhole::off;
  std::chrono::milliseconds slow_close{0};
  std::size_t slice = 0;
  std::chrono::microseconds slice_gap{0};
  std::string garbage{};
  GarbageMode garbage_mode = GarbageMode::once;
};

// A reset, not a FIN: SO_LINGER with a zero timeout makes close() send RST.
void reset(tcp::socket& socket) {
  boost::system::error_code ignored;
  if (!socket.is_open()) return;
  socket.set_option(net::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

void close(tcp::socket& socket) {
  boost::system::error_code ignored;
  if (socket.is_open()) socket.close(ignored);
}

// One accepted connection and its connection to the target.
struct Session {
  Session(std::uint64_t number, tcp::socket accepted)
      : id(number), client(std::move(accepted)), upstream(client.get_executor()) {}

  std::uint64_t id;
  tcp::socket client;
  tcp::socket upstream;
  bool upstream_connected = false;
  bool closed = false;
  bool reply_started = false;
  int directions_open = 2;      // a direction ends with the close it passes on
  std::size_t reply_bytes = 0;  // forwarded to the client since reset_epoch, for reset_after
  std::uint64_t reset_epoch = 0;
};

}  // namespace

struct FaultProxy::Impl {
  Impl(std::string host, std::uint16_t target_port, std::uint32_t seed)
      : target(net::ip::make_address(host), target_port), random(seed) {}

  // Declared first, destroyed last: coroutine frames still pending own sessions whose sockets
  // belong to it.
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io};
  tcp::socket filler{io};  // keeps the backlog full for Blackhole::connects
  net::steady_timer outage{io};
  tcp::endpoint target;
  std::atomic<std::uint16_t> port{0};

  mutable std::mutex mutex;
  Faults faults;                 // guarded by mutex
  bool garbage_pending = false;  // guarded by mutex: a GarbageMode::once injection not done yet
  std::size_t resets_left = 0;   // guarded by mutex: of reset_after's `times`; max = unbounded
  bool refusing = false;         // guarded by mutex

  // Proxy thread only.
  std::mt19937 random;
  std::uint64_t accept_generation = 0;
  std::uint64_t next_session = 0;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions;

  // An outage of `down_for` is on: `in_outage` decides the listener (proxy thread only); `down`
  // tells other threads, and is cleared only once the listener is back, so that a caller who
  // sees the outage over can connect at once.
  bool in_outage = false;
  std::atomic<bool> down{false};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> bytes_up{0};
  std::atomic<std::uint64_t> bytes_down{0};
  std::atomic<std::uint64_t> resets{0};
  std::atomic<std::uint64_t> upstream_failures{0};

  std::thread thread;

  Faults snapshot() const {
    std::lock_guard lock(mutex);
    return faults;
  }

  // --- listening -------------------------------------------------------------------------

  enum class Listening { closed, accepting, clogged };

  Listening wanted() const {
    std::lock_guard lock(mutex);
    if (refusing || in_outage) return Listening::closed;
    if (faults.blackhole == Blackhole::connects) return Listening::clogged;
    return Listening::accepting;
  }

  // Brings the listening socket to the state the faults ask for (proxy thread).
  void update_listener() {
    const Listening want = wanted();
    boost::system::error_code ignored;
    ++accept_generation;  // a running accept loop ends
    acceptor.close(ignored);
    close(filler);
    if (want == Listening::closed) return;
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port.load());
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    if (want == Listening::clogged) {
      // A backlog of 0 holds one connection nobody accepts; once the filler takes it the kernel
      // drops further SYNs, so a client's connect hangs until its own timeout.
      acceptor.listen(0);
      filler.connect(acceptor.local_endpoint());
      return;
    }
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    net::co_spawn(io, accept_loop(accept_generation), net::detached);
  }

  net::awaitable<void> accept_loop(std::uint64_t generation) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(tuple_awaitable);
      if (ec || generation != accept_generation) co_return;
      on_accept(std::move(socket));
    }
  }

  void on_accept(tcp::socket socket) {
    ++accepted;
    const Faults f = snapshot();
    if (f.reset_on_accept) {
      ++resets;  // Counted first: the peer may read the counter as soon as it sees the reset.
      reset(socket);
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(next_session++, std::move(socket));
    sessions[session->id] = session;
    ++open;
    if (f.blackhole == Blackhole::traffic) {
      // Never connected: the requests go nowhere, no reply ever comes.
      session->directions_open = 1;
      net::co_spawn(io, forward_requests(session), net::detached);
      return;
    }
    net::co_spawn(io, connect(session), net::detached);
  }

  // --- sessions --------------------------------------------------------------------------

  void end(Session& session, bool with_reset) {
    if (session.closed) return;
    session.closed = true;
    if (with_reset) {
      ++resets;  // Counted first: the peer may read the counter as soon as it sees the reset.
      reset(session.client);
    } else {
      close(session.client);
    }
    close(session.upstream);
    sessions.erase(session.id);
    --open;
  }

  // One direction saw an orderly close and passed it on; the session ends with the second.
  void direction_done(Session& session) {
    if (--session.directions_open <= 0) end(session, false);
  }

  net::awaitable<void> pause(std::chrono::microseconds delay) {
    if (delay <= 0us) co_return;
    net::steady_timer timer(io, delay);
    co_await timer.async_wait(tuple_awaitable);
  }

  net::awaitable<void> connect(std::shared_ptr<Session> session) {
    auto [ec] = co_await session->upstream.async_connect(target, tuple_awaitable);
    if (session->closed) co_return;
    if (ec) {
      ++upstream_failures;
      end(*session, true);
      co_return;
    }
    boost::system::error_code ignored;
    session->upstream.set_option(tcp::no_delay(true), ignored);
    session->upstream_connected = true;
    net::co_spawn(io, forward_requests(session), net::detached);
    net::co_spawn(io, forward_replies(session), net::detached);
  }

  // Passes an orderly close on to `to` after the slow-close delay.
  net::awaitable<void> pass_close(std::shared_ptr<Session> session, tcp::socket& to) {
    co_await pause(snapshot().slow_close);
    if (session->closed) co_return;
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
    direction_done(*session);
  }

  net::awaitable<void> forward_requests(std::shared_ptr<Session> session) {
    std::array<char, 16384> buffer{};
    for (;;) {
      auto [ec, n] = co_await session->client.async_read_some(net::buffer(buffer), tuple_awaitable);
      if (session->closed) co_return;
      if (ec == net::error::eof && session->upstream_connected) {
        co_await pass_close(session, session->upstream);
        co_return;
      }
      if (ec) {
        end(*session, false);
        co_return;
      }
      if (snapshot().blackhole == Blackhole::traffic) continue;
      if (!session->upstream_connected) {  // accepted into a blackhole that is gone now
        end(*session, true);
        co_return;
      }
      auto [write_ec, written] = co_await net::async_write(
          session->upstream, net::buffer(buffer.data(), n), tuple_awaitable);
      if (session->closed) co_return;
      if (write_ec) {
        end(*session, true);
        co_return;
      }
      bytes_up += written;
    }
  }

  // The garbage to put ahead of this session's next reply chunk, if any.
  std::string take_garbage(Session& session) {
    const bool first = !session.reply_started;
    session.reply_started = true;
    std::lock_guard lock(mutex);
    if (faults.garbage.empty()) return {};
    if (faults.garbage_mode == GarbageMode::once) {
      if (!garbage_pending) return {};
      garbage_pending = false;
      return faults.garbage;
    }
    return first ? faults.garbage : std::string{};
  }

  bool take_reset() {
    std::lock_guard lock(mutex);
    if (resets_left == 0) return false;
    if (resets_left != std::numeric_limits<std::size_t>::max()) --resets_left;
    return true;
  }

  std::chrono::microseconds reply_delay(const Faults& f) {
    if (f.latency <= 0ms && f.jitter <= 0ms) return 0us;
    auto delay = std::chrono::duration_cast<std::chrono::microseconds>(f.latency);
    if (f.jitter > 0ms) {
      const auto spread = std::chrono::duration_cast<std::chrono::microseconds>(f.jitter).count();
      std::uniform_int_distribution<std::int64_t> pick(-spread, spread);
      delay += std::chrono::microseconds(pick(random));
    }
    return std::max(delay, 0us);
  }

  // Writes `bytes` to the client, shaped by slicing and the bandwidth limit. False when the
  // session ended.
  net::awaitable<bool> write_reply(std::shared_ptr<Session> session, std::string_view bytes,
                                   const Faults& f, bool counted) {
    std::size_t piece = bytes.size();
    if (f.slice > 0) piece = std::min(piece, f.slice);
    // Pieces of ~1/50 s at the limited rate, so the rate holds over short replies too.
    if (f.bandwidth > 0) piece = std::min(piece, std::max<std::size_t>(1, f.bandwidth / 50));
    while (!bytes.empty()) {
      const std::size_t n = std::min(piece, bytes.size());
      auto [ec, written] =
          co_await net::async_write(session->client, net::buffer(bytes.data(), n), tuple_awaitable);
      if (session->closed) co_return false;
      if (ec) {
        end(*session, true);
        co_return false;
      }
      if (counted) {
        bytes_down += written;
        session->reply_bytes += written;
      }
      bytes.remove_prefix(n);
      std::chrono::microseconds wait = 0us;
      if (f.slice > 0 && !bytes.empty()) wait = f.slice_gap;
      if (f.bandwidth > 0) {
        wait =
            std::max(wait, std::chrono::microseconds(static_cast<std::int64_t>(
                               static_cast<double>(n) * 1e6 / static_cast<double>(f.bandwidth))));
      }
      co_await pause(wait);
      if (session->closed) co_return false;
    }
    co_return true;
  }

  net::awaitable<void> forward_replies(std::shared_ptr<Session> session) {
    std::array<char, 16384> buffer{};
    for (;;) {
      auto [ec, n] =
          co_await session->upstream.async_read_some(net::buffer(buffer), tuple_awaitable);
      if (session->closed) co_return;
      if (ec == net::error::eof) {
        co_await pass_close(session, session->client);
        co_return;
      }
      if (ec) {  // the server reset: so does the proxy
        end(*session, true);
        co_return;
      }
      const Faults f = snapshot();
      if (f.blackhole == Blackhole::traffic) continue;
      co_await pause(reply_delay(f));
      if (session->closed) co_return;
      const std::string garbage = take_garbage(*session);
      if (!garbage.empty() && !co_await write_reply(session, garbage, f, false)) co_return;
      std::string_view chunk(buffer.data(), n);
      if (session->reset_epoch != f.reset_epoch) {
        session->reset_epoch = f.reset_epoch;
        session->reply_bytes = 0;
      }
      bool reset_now = false;
      if (f.reset_after > 0) {
        const std::size_t allowed =
            f.reset_after > session->reply_bytes ? f.reset_after - session->reply_bytes : 0;
        if (chunk.size() >= allowed && take_reset()) {
          chunk = chunk.substr(0, allowed);
          reset_now = true;
        }
      }
      if (!co_await write_reply(session, chunk, f, true)) co_return;
      if (reset_now) {
        end(*session, true);
        co_return;
      }
    }
  }

  void drop_all() {
    std::vector<std::shared_ptr<Session>> live;
    for (auto& [id, weak] : sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    for (auto& session : live) end(*session, true);
    sessions.clear();
  }
};

FaultProxy::FaultProxy(std::string target_host, std::uint16_t target_port, std::uint32_t seed)
    : impl_(std::make_unique<Impl>(std::move(target_host), target_port, seed)) {
  impl_->update_listener();  // before the thread starts: nothing else touches it yet
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FaultProxy::~FaultProxy() {
  run_on(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    ++impl->accept_generation;
    impl->acceptor.close(ignored);
    close(impl->filler);
    impl->outage.cancel();
    impl->drop_all();
  });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t FaultProxy::port() const noexcept { return impl_->port.load(); }

std::string FaultProxy::url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port(), path);
}

void FaultProxy::latency(std::chrono::milliseconds mean, std::chrono::milliseconds jitter) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.latency = mean;
  impl_->faults.jitter = jitter;
}

void FaultProxy::bandwidth(std::size_t bytes_per_second) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.bandwidth = bytes_per_second;
}

void FaultProxy::refuse(bool on) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->refusing = on;
  }
  run_on(impl_->io, [impl = impl_.get()] { impl->update_listener(); });
}

void FaultProxy::reset_on_accept(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.reset_on_accept = on;
}

void FaultProxy::reset_after(std::size_t bytes, std::size_t times) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.reset_after = bytes;
  ++impl_->faults.reset_epoch;
  impl_->resets_left = times == 0 ? std::numeric_limits<std::size_t>::max() : times;
}

void FaultProxy::blackhole(Blackhole mode) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->faults.blackhole = mode;
  }
  run_on(impl_->io, [impl = impl_.get()] { impl->update_listener(); });
}

void FaultProxy::slow_close(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.slow_close = delay;
}

void FaultProxy::slice(std::size_t max_segment_bytes, std::chrono::microseconds gap) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.slice = max_segment_bytes;
  impl_->faults.slice_gap = gap;
}

void FaultProxy::inject_garbage(std::string bytes, GarbageMode mode) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.garbage = std::move(bytes);
  impl_->faults.garbage_mode = mode;
  impl_->garbage_pending = mode == GarbageMode::once;
}

void FaultProxy::down_for(std::chrono::milliseconds duration) {
  run_on(impl_->io, [impl = impl_.get(), duration] {
    impl->in_outage = true;
    impl->down = true;
    impl->drop_all();
    impl->update_listener();
    impl->outage.expires_after(duration);
    impl->outage.async_wait([impl](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: clear() or the destructor took over
      impl->in_outage = false;
      impl->update_listener();
      impl->down = false;
    });
  });
}

bool FaultProxy::is_down() const { return impl_->down.load(); }

void FaultProxy::drop_connections() {
  run_on(impl_->io, [impl = impl_.get()] { impl->drop_all(); });
}

void FaultProxy::clear() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->faults = Faults{.reset_epoch = impl_->faults.reset_epoch + 1};
    impl_->garbage_pending = false;
    impl_->refusing = false;
  }
  run_on(impl_->io, [impl = impl_.get()] {
    impl->outage.cancel();
    impl->in_outage = false;
    impl->update_listener();
    impl->down = false;
  });
}

FaultProxyStats FaultProxy::stats() const {
  return FaultProxyStats{.accepted = impl_->accepted.load(),
                         .open = impl_->open.load(),
                         .bytes_up = impl_->bytes_up.load(),
                         .bytes_down = impl_->bytes_down.load(),
                         .resets = impl_->resets.load(),
                         .upstream_failures = impl_->upstream_failures.load()};
}

bool FaultProxy::wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return done();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

}  // namespace bulwark::test
