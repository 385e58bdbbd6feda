// getaddrinfo: numeric hosts (inline), a host name ("localhost", resolved off the loop), a name
// that does not resolve (gai_error), and a lookup cancelled while it runs; getnameinfo on
// loopback addresses.
// test-label: threaded
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>
#include <string>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

TEST(Getaddrinfo, NumericHostsNeedNoLookup) {
  asyncio::run([]() -> task<void> {
    auto v4 = co_await asyncio::getaddrinfo("127.0.0.1", "8080");
    if (v4.size() != 1u) { ADD_FAILURE() << v4.size(); co_return; }
    EXPECT_EQ(v4[0].family, AF_INET);
    EXPECT_EQ(v4[0].type, SOCK_STREAM);
    EXPECT_EQ(v4[0].addr.to_string(), "127.0.0.1:8080");
    asyncio::getaddrinfo_options dgram;
    dgram.type = SOCK_DGRAM;
    auto v6 = co_await asyncio::getaddrinfo("::1", "53", dgram);
    if (v6.size() != 1u) { ADD_FAILURE() << v6.size(); co_return; }
    EXPECT_EQ(v6[0].family, AF_INET6);
    EXPECT_EQ(v6[0].type, SOCK_DGRAM);
    EXPECT_EQ(v6[0].addr.to_string(), "[::1]:53");
  }());
}

TEST(Getaddrinfo, LocalhostResolvesToLoopback) {
  asyncio::run([]() -> task<void> {
    auto entries = co_await test_support::bounded(asyncio::getaddrinfo("localhost", "80"), 30s);
    EXPECT_FALSE(entries.empty());
    for (const auto& e : entries) {
      EXPECT_EQ(e.type, SOCK_STREAM);
      EXPECT_EQ(e.addr.port(), 80);
      EXPECT_TRUE(e.addr.host() == "127.0.0.1" || e.addr.host() == "::1") << e.addr.to_string();
      EXPECT_EQ(e.family, e.addr.family());
    }
    // A service name is resolved too, and the family filter applies.
    asyncio::getaddrinfo_options only_v4;
    only_v4.family = AF_INET;
    auto v4 = co_await test_support::bounded(asyncio::getaddrinfo("localhost", "http", only_v4), 30s);
    EXPECT_FALSE(v4.empty());
    for (const auto& e : v4) {
      EXPECT_EQ(e.family, AF_INET);
      EXPECT_EQ(e.addr.port(), 80);
    }
  }());
}

TEST(Getaddrinfo, ConnectByHostName) {
  asyncio::run([]() -> task<void> {
    auto srv = co_await asyncio::start_server(
        [](asyncio::stream_reader r, asyncio::stream_writer w) -> task<void> {
          w.write(co_await r.readline());
        },
        "127.0.0.1", 0);
    asyncio::connect_options only_v4;
    only_v4.family = AF_INET;
    auto [r, w] = co_await test_support::bounded(asyncio::open_connection("localhost", srv.port(), only_v4), 30s);
    w.write("by name\n");
    EXPECT_EQ(co_await test_support::bounded(r.readline()), "by name\n");
    w.close();
    co_await srv.shutdown(1s);
  }());
}

// An executor that holds its jobs until the test runs them, on a thread of the test's choosing:
// the lookup's progress is then in the test's hands, not the resolver's speed.
class held_executor final : public asyncio::executor {
 public:
  void post(asyncio::detail::pool_job& job) override {
    std::lock_guard lock(mutex_);
    held_.push_back(&job);
  }
  auto shutdown(bool, std::optional<asyncio::duration>) -> asyncio::shutdown_report override {
    std::vector<asyncio::detail::pool_job*> left;
    {
      std::lock_guard lock(mutex_);
      left.swap(held_);
    }
    for (auto* job : left) job->execute(job, false);
    return {.abandoned_threads = 0, .dropped_jobs = left.size()};
  }
  [[nodiscard]] auto held() -> std::size_t {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  // Runs every held job on a new thread (joined before returning); returns that thread's id.
  auto run_held_on_another_thread() -> std::thread::id {
    std::vector<asyncio::detail::pool_job*> jobs;
    {
      std::lock_guard lock(mutex_);
      jobs.swap(held_);
    }
    std::thread::id ran_on;
    std::thread worker([&] {
      ran_on = std::this_thread::get_id();
      for (auto* job : jobs) job->execute(job, true);
    });
    worker.join();
    return ran_on;
  }

 private:
  std::mutex mutex_;
  std::vector<asyncio::detail::pool_job*> held_;
};

auto count_iterations(int* ticks) -> task<void> {
  for (;;) {
    ++*ticks;
    co_await asyncio::sleep(0s);
  }
}

auto lookup_while_loop_runs(std::shared_ptr<held_executor> ex) -> task<void> {
  asyncio::event_loop& loop = asyncio::get_running_loop();
  asyncio::set_default_executor(loop, ex);
  int ticks = 0;
  auto ticker = asyncio::create_task(count_iterations(&ticks));
  auto lookup = asyncio::create_task(asyncio::getaddrinfo("localhost", "80"));
  for (int i = 0; i < 10; ++i) co_await asyncio::sleep(0s);
  // The name lookup was handed to the executor and is outstanding; meanwhile the loop kept
  // running other tasks. A lookup done on the loop thread would have finished already (or
  // blocked the ticker).
  EXPECT_EQ(ex->held(), 1u);
  EXPECT_FALSE(lookup.done());
  EXPECT_GE(ticks, 5);
  const int ticks_while_outstanding = ticks;
  for (int i = 0; i < 10; ++i) co_await asyncio::sleep(0s);
  EXPECT_GT(ticks, ticks_while_outstanding);
  EXPECT_FALSE(lookup.done());

  // The blocking getaddrinfo(3) runs on the executor's thread, not the loop's.
  std::thread::id ran_on = ex->run_held_on_another_thread();
  EXPECT_NE(ran_on, asyncio::detail::loop_access::thread_id(loop));
  EXPECT_NE(ran_on, std::this_thread::get_id());
  auto entries = co_await test_support::bounded(std::move(lookup), 30s);
  EXPECT_FALSE(entries.empty());
  for (const auto& e : entries)
    EXPECT_TRUE(e.addr.host() == "127.0.0.1" || e.addr.host() == "::1") << e.addr.to_string();

  // A numeric host never reaches the executor.
  auto numeric = co_await asyncio::getaddrinfo("127.0.0.1", "80");
  EXPECT_EQ(numeric.size(), 1u);
  EXPECT_EQ(ex->held(), 0u);
  co_await test_support::cancel_and_wait(ticker);
}

TEST(Getaddrinfo, HostNameIsResolvedOffTheLoopThread) {
  asyncio::run(lookup_while_loop_runs(std::make_shared<held_executor>()));
}

TEST(Getaddrinfo, UnknownHostRaisesGaiError) {
  asyncio::run([]() -> task<void> {
    bool raised = false;
    try {
      // .invalid is reserved (RFC 2606): it never resolves. Without network the resolver may answer
      // "temporary failure" instead of "not known": both are gai_errors.
      (void)co_await test_support::bounded(asyncio::getaddrinfo("no-such-host.invalid", "80"), 60s);
    } catch (const asyncio::gai_error& e) {
      raised = true;
      EXPECT_EQ(&e.code().category(), &asyncio::gai_category());
      EXPECT_TRUE(e.code().value() == EAI_NONAME || e.code().value() == EAI_AGAIN ||
                  e.code().value() == EAI_NODATA || e.code().value() == EAI_FAIL)
          << e.code().value() << " " << e.what();
      EXPECT_FALSE(e.code().message().empty());
      // It is an os_error too (Python: socket.gaierror is an OSError).
      const asyncio::os_error& base = e;
      EXPECT_EQ(base.code(), e.code());
    }
    EXPECT_TRUE(raised);
    // open_connection passes the same error through.
    bool raised2 = false;
    try {
      (void)co_await test_support::bounded(asyncio::open_connection("no-such-host.invalid", 80), 60s);
    } catch (const asyncio::gai_error&) {
      raised2 = true;
    }
    EXPECT_TRUE(raised2);
  }());
}

TEST(Getaddrinfo, BadServiceRaisesGaiError) {
  asyncio::run([]() -> task<void> {
    bool raised = false;
    try {
      (void)co_await test_support::bounded(asyncio::getaddrinfo("localhost", "no-such-service-xyz"), 30s);
    } catch (const asyncio::gai_error& e) {
      raised = true;
      EXPECT_EQ(&e.code().category(), &asyncio::gai_category());
    }
    EXPECT_TRUE(raised);
  }());
}

TEST(Getaddrinfo, CancelledLookupIsDropped) {
  asyncio::run([]() -> task<void> {
    // Cancel a name lookup right away; its result (whenever the worker finishes) must be dropped
    // without touching the gone frame, and the loop keeps working.
    for (int i = 0; i < 5; ++i) {
      auto h = asyncio::create_task(asyncio::getaddrinfo("localhost", "80"));
      h.cancel();
      co_await test_support::cancel_and_wait(h);
      EXPECT_TRUE(h.done());
    }
    auto entries = co_await test_support::bounded(asyncio::getaddrinfo("localhost", "80"), 30s);
    EXPECT_FALSE(entries.empty());
    // Give the abandoned workers time to post their (dropped) results while the loop still runs.
    co_await asyncio::sleep(50ms);
  }());
}

TEST(Getnameinfo, NumericFlagsTranslateOnTheLoop) {
  asyncio::run([]() -> task<void> {
    asyncio::nameinfo n =
        co_await asyncio::getnameinfo(asyncio::address::parse("127.0.0.1", 8080), NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(n.host, "127.0.0.1");
    EXPECT_EQ(n.service, "8080");
    n = co_await asyncio::getnameinfo(asyncio::address::parse("::1", 443), NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(n.host, "::1");
    EXPECT_EQ(n.service, "443");
  }());
}

TEST(Getnameinfo, ServiceNameIsLookedUpOffTheLoop) {
  asyncio::run([]() -> task<void> {
    // NI_NUMERICHOST only: the service goes through /etc/services on the executor ("ssh" there,
    // "22" on a system without the file).
    asyncio::nameinfo n = co_await test_support::bounded(
        asyncio::getnameinfo(asyncio::address::parse("127.0.0.1", 22), NI_NUMERICHOST));
    EXPECT_EQ(n.host, "127.0.0.1");
    EXPECT_TRUE(n.service == "ssh" || n.service == "22") << n.service;
  }());
}

TEST(Getnameinfo, AddressWithoutAFamilyRaisesGaiError) {
  asyncio::run([]() -> task<void> {
    try {
      (void)co_await asyncio::getnameinfo(asyncio::address(), NI_NUMERICHOST | NI_NUMERICSERV);
      ADD_FAILURE() << "no gai_error";
    } catch (const asyncio::gai_error& e) {
      EXPECT_EQ(&e.code().category(), &asyncio::gai_category());
    }
  }());
}

}  // namespace
