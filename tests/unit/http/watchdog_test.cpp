#include "http/detail/watchdog.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>

namespace bulwark::http::detail {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// A connected pair of local sockets (no network), closed on the way out.
struct SocketPair {
  std::array<int, 2> fds{-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds.data()), 0); }
  ~SocketPair() {
    for (const int fd : fds) ::close(fd);
  }
};

TEST(Watchdog, ADeadlineInThePastShutsTheSocketDown) {
  boost::asio::io_context io;
  SocketPair pair;
  auto watchdog = std::make_shared<Watchdog>(io.get_executor(), pair.fds[0]);
  watchdog->arm(SteadyClock::now() - 1ms);
  io.run();  // The timer is already due: no waiting.
  EXPECT_TRUE(watchdog->disarm());
  char byte = 0;
  EXPECT_EQ(::recv(pair.fds[0], &byte, 1, MSG_DONTWAIT), 0) << "the socket was not shut down";
  watchdog->stop();
}

TEST(Watchdog, AFiredDeadlineStaysFiredWhenTheNextOneIsArmed) {
  // A read that completed with data just as the deadline passed re-arms the watchdog for the next
  // read, which then fails on the shut-down socket: that failure is the deadline's, not the
  // peer's (found by http_response_fuzz: a timeout reported as a connection closed mid-response).
  boost::asio::io_context io;
  SocketPair pair;
  auto watchdog = std::make_shared<Watchdog>(io.get_executor(), pair.fds[0]);
  watchdog->arm(SteadyClock::now() - 1ms);
  io.run();
  watchdog->arm(SteadyClock::now() + 1h);
  EXPECT_TRUE(watchdog->disarm());
  watchdog->stop();
}

TEST(Watchdog, DisarmedBeforeItsDeadlineItHasNotFired) {
  boost::asio::io_context io;
  SocketPair pair;
  auto watchdog = std::make_shared<Watchdog>(io.get_executor(), pair.fds[0]);
  watchdog->arm(SteadyClock::now() + 1h);
  EXPECT_FALSE(watchdog->disarm());
  watchdog->stop();
  io.run();  // The cancelled wait completes at once.
  EXPECT_FALSE(watchdog->disarm());
}

}  // namespace
}  // namespace bulwark::http::detail
