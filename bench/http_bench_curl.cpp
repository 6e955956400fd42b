// libcurl, the reference client of bench_http, with connection reuse, driven two ways:
//
//   multi    one thread: a curl multi handle driven by curl_multi_socket_action and epoll (the
//            event-driven interface, libcurl's fastest single-threaded form), `concurrency` easy
//            handles, each removed when its transfer completes and added again for the next one;
//            connections are reused through the multi handle's connection cache
//            (CURLMOPT_MAXCONNECTS = concurrency).
//   threads  `concurrency` threads, each looping curl_easy_perform on its own easy handle, which
//            keeps its connection alive between transfers.
//
// Both count connections libcurl opened (CURLINFO_NUM_CONNECTS), so reuse is visible.

#include "http_bench.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bulwark::bench {
namespace {

void global_init() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) {
    throw std::runtime_error(std::string("curl_global_init: ") + curl_easy_strerror(code));
  }
}

// One transfer in flight: when it started and what came back so far.
struct Transfer {
  const std::string* expected = nullptr;
  Clock::time_point start{};
  std::size_t bytes = 0;
  bool body_ok = true;

  void reset(Clock::time_point now) noexcept {
    start = now;
    bytes = 0;
    body_ok = true;
  }
};

// Compares the body with the expected one as it arrives; keeps nothing.
std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::string& expected = *transfer->expected;
  if (transfer->bytes + n > expected.size() ||
      std::memcmp(expected.data() + transfer->bytes, data, n) != 0) {
    transfer->body_ok = false;
  }
  transfer->bytes += n;
  return n;
}

struct EasyDeleter {
  void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

Easy make_easy(const std::string& url, Transfer* transfer) {
  Easy easy(curl_easy_init());
  if (!easy) throw std::runtime_error("curl_easy_init failed");
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt(e, CURLOPT_PRIVATE, transfer);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");  // never an http_proxy from the environment
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  return easy;
}

// What one finished transfer counts for.
struct Outcome {
  bool ok = false;
  long connects = 0;
  std::string error{};
};

Outcome outcome(CURL* easy, CURLcode result, const Transfer& transfer) {
  Outcome out;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &out.connects);
  if (result != CURLE_OK) {
    out.error = curl_easy_strerror(result);
  } else if (status != 200) {
    out.error = "status " + std::to_string(status);
  } else if (!transfer.body_ok || transfer.bytes != transfer.expected->size()) {
    out.error = "unexpected body";
  } else {
    out.ok = true;
  }
  return out;
}

// ---- one thread, multi handle, socket interface ------------------------------------------------

struct MultiLoop {
  int epoll = -1;
  std::optional<Clock::time_point> timer{};  // when curl wants CURL_SOCKET_TIMEOUT
};

int on_socket(CURL* /*easy*/, curl_socket_t socket, int what, void* user, void* /*socketp*/) {
  auto* loop = static_cast<MultiLoop*>(user);
  if (what == CURL_POLL_REMOVE) {
    ::epoll_ctl(loop->epoll, EPOLL_CTL_DEL, socket, nullptr);  // may be closed already
    return 0;
  }
  epoll_event event{};
  event.data.fd = socket;
  event.events =
      ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0U) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0U);
  if (::epoll_ctl(loop->epoll, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT) {
    ::epoll_ctl(loop->epoll, EPOLL_CTL_ADD, socket, &event);
  }
  return 0;
}

int on_timer(CURLM* /*multi*/, long timeout_ms, void* user) {
  auto* loop = static_cast<MultiLoop*>(user);
  if (timeout_ms < 0) {
    loop->timer.reset();
  } else {
    loop->timer = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

Measurement curl_multi(const Options& options, const Target& target) {
  Measurement m;
  m.name = "libcurl";
  const std::string url = target.url();
  const std::size_t n = options.concurrency;

  MultiLoop loop;
  loop.epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (loop.epoll < 0) throw std::runtime_error("epoll_create1 failed");
  struct MultiDeleter {
    void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
  };
  std::unique_ptr<CURLM, MultiDeleter> owner(curl_multi_init());
  CURLM* multi = owner.get();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, &loop);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, &loop);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(n));

  std::vector<Transfer> transfers(n);
  std::vector<Easy> handles;
  handles.reserve(n);
  Histogram latency;
  long connects = 0;

  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = deadline_after(start, options.seconds);
  for (Transfer& transfer : transfers) {
    transfer.expected = &target.body;
    transfer.reset(start);
    handles.push_back(make_easy(url, &transfer));
    curl_multi_add_handle(multi, handles.back().get());
  }

  std::size_t active = n;
  int running = 0;
  std::array<epoll_event, 256> events{};
  const Clock::time_point give_up = deadline + std::chrono::seconds(30);
  while (active > 0) {
    Clock::time_point now = Clock::now();
    if (now > give_up) throw std::runtime_error("libcurl: transfers did not finish");
    int wait_ms = 100;
    if (loop.timer) {
      const auto until = std::chrono::ceil<std::chrono::milliseconds>(*loop.timer - now).count();
      wait_ms = static_cast<int>(std::clamp<long long>(until, 0, 100));
    }
    const int ready =
        ::epoll_wait(loop.epoll, events.data(), static_cast<int>(events.size()), wait_ms);
    for (int i = 0; i < ready; ++i) {
      const epoll_event& event = events[static_cast<std::size_t>(i)];
      int flags = 0;
      if ((event.events & EPOLLIN) != 0) flags |= CURL_CSELECT_IN;
      if ((event.events & EPOLLOUT) != 0) flags |= CURL_CSELECT_OUT;
      if ((event.events & (EPOLLERR | EPOLLHUP)) != 0) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi, event.data.fd, flags, &running);
    }
    if (loop.timer && Clock::now() >= *loop.timer) {
      loop.timer.reset();
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }

    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode result = message->data.result;
      char* p = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
      auto* transfer = reinterpret_cast<Transfer*>(p);
      now = Clock::now();
      latency.record(elapsed_ns(transfer->start, now));
      Outcome out = outcome(easy, result, *transfer);
      connects += out.connects;
      if (out.ok) {
        ++m.requests;
      } else {
        ++m.errors;
        if (m.first_error.empty()) m.first_error = std::move(out.error);
      }
      curl_multi_remove_handle(multi, easy);
      if (now < deadline) {
        transfer->reset(now);
        curl_multi_add_handle(multi, easy);
      } else {
        --active;
      }
    }
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  m.finish(latency);
  m.note = "multi+epoll, 1 thread; connections opened " + std::to_string(connects);
  handles.clear();  // removed from the multi handle already
  owner.reset();
  ::close(loop.epoll);
  return m;
}

// ---- one easy handle per thread ----------------------------------------------------------------

Measurement curl_threads(const Options& options, const Target& target) {
  Measurement m;
  m.name = "libcurl";
  const std::string url = target.url();
  struct Share {
    Histogram latency{};
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    long connects = 0;
    std::string first_error{};
  };
  std::vector<Share> shares(options.concurrency);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = deadline_after(start, options.seconds);
  {
    std::vector<std::jthread> workers;
    for (Share& share : shares) {
      workers.emplace_back([&] {
        Transfer transfer;
        transfer.expected = &target.body;
        Easy easy = make_easy(url, &transfer);
        for (;;) {
          const Clock::time_point t0 = Clock::now();
          if (t0 >= deadline) break;
          transfer.reset(t0);
          const CURLcode result = curl_easy_perform(easy.get());
          share.latency.record(elapsed_ns(t0, Clock::now()));
          Outcome out = outcome(easy.get(), result, transfer);
          share.connects += out.connects;
          if (out.ok) {
            ++share.ok;
          } else {
            ++share.errors;
            if (share.first_error.empty()) share.first_error = std::move(out.error);
          }
        }
      });
    }
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Histogram latency;
  long connects = 0;
  for (const Share& share : shares) {
    latency.merge(share.latency);
    m.requests += share.ok;
    m.errors += share.errors;
    connects += share.connects;
    if (m.first_error.empty()) m.first_error = share.first_error;
  }
  m.finish(latency);
  m.note = std::to_string(options.concurrency) +
           " threads, one easy handle each; connections opened " + std::to_string(connects);
  return m;
}

}  // namespace

Measurement libcurl(const Options& options, const Target& target) {
  global_init();
  if (options.curl == "multi") return curl_multi(options, target);
  if (options.curl == "threads") return curl_threads(options, target);
  throw std::invalid_argument("--curl must be multi or threads");
}

}  // namespace bulwark::bench
