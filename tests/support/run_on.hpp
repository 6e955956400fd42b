#pragma once
// Running a piece of code on the thread of a test server (HttpServer, FaultProxy), whose state
// only that thread touches.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <future>

namespace bulwark::test {

/// Runs `fn` on the thread that runs `io` and waits for it; rethrows what it throws. Must not be
/// called from that thread.
template <class Fn>
void run_on(boost::asio::io_context& io, Fn fn) {
  std::promise<void> done;
  boost::asio::post(io, [&] {
    try {
      fn();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  done.get_future().get();
}

}  // namespace bulwark::test
