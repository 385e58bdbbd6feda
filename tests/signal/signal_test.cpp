// loop.add_signal_handler / remove_signal_handler.
#include <asyncio/asyncio.hpp>
#include <asyncio/signal.hpp>

#include <gtest/gtest.h>

#include "support/fd_helpers.hpp"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto current_handler(int sig) -> void (*)(int) {
  struct sigaction sa {};
  ::sigaction(sig, nullptr, &sa);
  return sa.sa_handler;
}

// Waits (bounded: at most 10 s of real time) until pred() holds, yielding to the loop.
template <class Pred>
auto wait_until(Pred pred) -> asyncio::task<bool> {
  for (int i = 0; i < 10000 && !pred(); ++i) co_await asyncio::sleep(1ms);
  co_return pred();
}

TEST(Signal, HandlerRunsOnTheLoopWithArguments) {
  int calls = 0;
  int seen = 0;
  auto main = [](int* calls, int* seen) -> asyncio::task<void> {
    auto& loop = asyncio::get_running_loop();
    loop.add_signal_handler(SIGUSR1, [calls, seen](int v) { ++*calls; *seen = v; }, 42);
    ::raise(SIGUSR1);
    auto one_call = [calls] { return *calls == 1; };
    EXPECT_TRUE(co_await wait_until(one_call));
    ::kill(::getpid(), SIGUSR1);
    auto two_calls = [calls] { return *calls == 2; };
    EXPECT_TRUE(co_await wait_until(two_calls));
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  };
  asyncio::run(main(&calls, &seen));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen, 42);
}

TEST(Signal, DeliveredFromAnotherThread) {
  // The signal is sent to a thread other than the loop's: a process-wide handler still reaches the
  // loop (what signalfd cannot do unless every thread blocks it).
  int calls = 0;
  auto main = [](int* calls) -> asyncio::task<void> {
    auto& loop = asyncio::get_running_loop();
    loop.add_signal_handler(SIGUSR2, [calls] { ++*calls; });
    std::thread t([] {
      ::pthread_kill(::pthread_self(), SIGUSR2);  // directed at this thread, not the loop's
    });
    t.join();
    auto called = [calls] { return *calls >= 1; };
    EXPECT_TRUE(co_await wait_until(called));
  };
  asyncio::run(main(&calls));
  EXPECT_EQ(calls, 1);
}

TEST(Signal, RemoveRestoresThePreviousAction) {
  auto previous = current_handler(SIGUSR1);
  auto main = []() -> asyncio::task<void> {
    auto& loop = asyncio::get_running_loop();
    ::signal(SIGUSR1, SIG_IGN);
    loop.add_signal_handler(SIGUSR1, [] {});
    EXPECT_NE(current_handler(SIGUSR1), SIG_IGN);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_EQ(current_handler(SIGUSR1), SIG_IGN);
    co_return;
  };
  asyncio::run(main());
  ::signal(SIGUSR1, previous);
}

TEST(Signal, ReplacingAHandlerKeepsOneRegistration) {
  int first = 0;
  int second = 0;
  auto main = [](int* first, int* second) -> asyncio::task<void> {
    auto& loop = asyncio::get_running_loop();
    loop.add_signal_handler(SIGUSR1, [first] { ++*first; });
    loop.add_signal_handler(SIGUSR1, [second] { ++*second; });
    ::raise(SIGUSR1);
    auto second_called = [second] { return *second == 1; };
    EXPECT_TRUE(co_await wait_until(second_called));
  };
  asyncio::run(main(&first, &second));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(current_handler(SIGUSR1), SIG_DFL);  // loop close removed it
}

TEST(Signal, InvalidSignalsAreRejected) {
  asyncio::event_loop loop;
  EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), asyncio::invalid_state_error);  // Python: RuntimeError
  EXPECT_THROW(loop.add_signal_handler(SIGSTOP, [] {}), asyncio::invalid_state_error);
  EXPECT_THROW(loop.add_signal_handler(0, [] {}), std::invalid_argument);
  EXPECT_THROW(loop.add_signal_handler(NSIG, [] {}), std::invalid_argument);
  EXPECT_FALSE(loop.remove_signal_handler(SIGKILL));
  EXPECT_FALSE(loop.remove_signal_handler(-1));
}

TEST(Signal, OneLoopPerSignal) {
  asyncio::event_loop a;
  asyncio::event_loop b;
  a.add_signal_handler(SIGUSR1, [] {});
  EXPECT_THROW(b.add_signal_handler(SIGUSR1, [] {}), asyncio::invalid_state_error);
  EXPECT_TRUE(a.remove_signal_handler(SIGUSR1));
  b.add_signal_handler(SIGUSR1, [] {});
  EXPECT_TRUE(b.remove_signal_handler(SIGUSR1));
}

TEST(Signal, ExceptionInHandlerGoesToTheExceptionHandler) {
  std::vector<std::string> reports;
  auto main = [](std::vector<std::string>* reports) -> asyncio::task<void> {
    auto& loop = asyncio::get_running_loop();
    loop.set_exception_handler([reports](asyncio::event_loop&, const asyncio::exception_context& c) {
      reports->push_back(c.message + ": " + asyncio::describe(c.exception));
    });
    loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("boom"); });
    ::raise(SIGUSR1);
    auto reported = [reports] { return !reports->empty(); };
    EXPECT_TRUE(co_await wait_until(reported));
  };
  asyncio::run(main(&reports));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("boom"), std::string::npos);
}

TEST(Signal, CloseReleasesEverything) {
  int before = test_support::count_open_fds();
  {
    asyncio::event_loop loop;
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGUSR2, [] {});
    EXPECT_NE(current_handler(SIGUSR2), SIG_DFL);
    loop.close();
    EXPECT_EQ(current_handler(SIGUSR1), SIG_DFL);
    EXPECT_EQ(current_handler(SIGUSR2), SIG_DFL);
    EXPECT_THROW(loop.add_signal_handler(SIGUSR1, [] {}), asyncio::error);
  }
  EXPECT_EQ(test_support::count_open_fds(), before);
}

TEST(Signal, RunLeavesSigintAsItFoundIt) {
  auto main = []() -> asyncio::task<int> {
    // Inside run() on the main thread, SIGINT is handled by the runner...
    EXPECT_NE(current_handler(SIGINT), SIG_DFL);
    co_return 1;
  };
  EXPECT_EQ(asyncio::run(main()), 1);
  EXPECT_EQ(current_handler(SIGINT), SIG_DFL);  // ...and given back afterwards.

  auto opted_out = []() -> asyncio::task<int> {
    EXPECT_EQ(current_handler(SIGINT), SIG_DFL);
    co_return 2;
  };
  EXPECT_EQ(asyncio::run(opted_out(), {.handle_sigint = false}), 2);

  // A user-installed disposition is respected.
  ::signal(SIGINT, SIG_IGN);
  auto ignored = []() -> asyncio::task<int> {
    EXPECT_EQ(current_handler(SIGINT), SIG_IGN);
    co_return 3;
  };
  EXPECT_EQ(asyncio::run(ignored()), 3);
  ::signal(SIGINT, SIG_DFL);

  // Not on another thread.
  std::thread t([] {
    auto other = []() -> asyncio::task<int> {
      EXPECT_EQ(current_handler(SIGINT), SIG_DFL);
      co_return 4;
    };
    EXPECT_EQ(asyncio::run(other()), 4);
  });
  t.join();
}

}  // namespace
