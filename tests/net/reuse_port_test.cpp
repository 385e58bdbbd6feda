// reuse_port for what a server per core needs: a multi-loop runtime running one listener per loop on
// the same port (SO_REUSEPORT), the kernel spreading connections across the loops. Loopback only;
// every wait is bounded.
// test-label: threaded
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

constexpr std::size_t loops = 2;
// SO_REUSEPORT picks the listener by a hash of the 4-tuple, so which loop a connection reaches is
// up to the kernel: clients keep connecting until every loop served one. With two listeners the
// chance that `max_connections` distinct source ports all hash to one of them is 2^-999.
constexpr int min_connections = 64;
constexpr int max_connections = 1000;

struct served_counts {
  std::array<std::atomic<int>, loops> by_loop{};
};

// The per-connection handler: answers with the index of the loop it runs on, then closes.
auto answer_loop_index(served_counts* counts, asyncio::stream_reader, asyncio::stream_writer w) -> task<void> {
  const std::size_t here = asyncio::runtime::current_index();
  counts->by_loop.at(here).fetch_add(1);
  w.write(std::to_string(here));
  co_await w.drain();
  w.close();
  co_await w.wait_closed();
}

// Runs on loop `index`: listens on `port` (0 = pick one) with reuse_port, tells `ready` the port it
// got, serves until cancelled, then closes the listener.
auto serve_on_this_loop(served_counts* counts, std::uint16_t port, std::promise<std::uint16_t>* ready)
    -> task<void> {
  asyncio::server_options options;
  options.reuse_port = true;
  asyncio::client_connected_cb cb = [counts](asyncio::stream_reader r, asyncio::stream_writer w) {
    return answer_loop_index(counts, std::move(r), std::move(w));
  };
  asyncio::server srv = co_await asyncio::start_server(std::move(cb), "127.0.0.1", port, options);
  ready->set_value(srv.port());
  co_await srv.serve_forever();
}

struct client_result {
  std::array<int, loops> by_loop{};
  int connections = 0;
  int unanswered = 0;
};

// The client (on the test's own thread, its own loop): connects one client after another until
// every loop answered at least once and at least min_connections were made, at most max_connections.
auto connect_until_every_loop_served(std::uint16_t port) -> task<client_result> {
  client_result res;
  auto every_loop_served = [&res] {
    for (int n : res.by_loop)
      if (n == 0) return false;
    return true;
  };
  while (res.connections < max_connections && (res.connections < min_connections || !every_loop_served())) {
    auto conn = co_await asyncio::wait_for(asyncio::open_connection("127.0.0.1", port), 10s);
    ++res.connections;
    std::string answer = co_await asyncio::wait_for(conn.reader.read(), 10s);
    if (answer == "0") {
      ++res.by_loop[0];
    } else if (answer == "1") {
      ++res.by_loop[1];
    } else {
      ++res.unanswered;
    }
    conn.writer.close();
    co_await conn.writer.wait_closed();
  }
  co_return res;
}

TEST(ReusePort, OneListenerPerRuntimeLoopShareThePort) {
  // Declared before the runtime: its loops (which use them) stop first, even on an early ASSERT.
  served_counts counts;
  std::promise<std::uint16_t> ready0;
  std::promise<std::uint16_t> ready1;
  asyncio::runtime rt({.loops = loops, .executor_threads = 1});

  // Loop 0 picks the port; loop 1 then listens on the same one.
  auto port_of_0 = ready0.get_future();
  auto port_of_1 = ready1.get_future();
  auto serving0 = rt.spawn(0, serve_on_this_loop(&counts, 0, &ready0));
  ASSERT_EQ(port_of_0.wait_for(10s), std::future_status::ready);
  const std::uint16_t port = port_of_0.get();
  ASSERT_NE(port, 0);
  auto serving1 = rt.spawn(1, serve_on_this_loop(&counts, port, &ready1));
  ASSERT_EQ(port_of_1.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(port_of_1.get(), port);
  EXPECT_FALSE(serving0.done());  // both still serving (start_server did not fail on loop 1)
  EXPECT_FALSE(serving1.done());

  client_result res = asyncio::run(connect_until_every_loop_served(port));

  serving0.cancel();
  serving1.cancel();
  rt.stop();

  // Every connection was served, by the loop that accepted it, and both loops served some.
  EXPECT_LT(res.connections, max_connections) << "the kernel never spread connections to every loop";
  EXPECT_GE(res.connections, min_connections);
  EXPECT_EQ(res.unanswered, 0);
  int total = 0;
  for (std::size_t i = 0; i < loops; ++i) {
    EXPECT_GT(res.by_loop[i], 0) << "loop " << i << " served nothing";
    EXPECT_EQ(res.by_loop[i], counts.by_loop[i].load()) << "loop " << i;
    total += res.by_loop[i];
  }
  EXPECT_EQ(total, res.connections);
}

}  // namespace
