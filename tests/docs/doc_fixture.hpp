// The names documentation snippets may use without declaring them (docs/conventions.md §9), and the
// registry through which tests/docs/doc_main.cpp finds each snippet. Included first by every
// translation unit that scripts/extract_snippets.py generates.
//
// Functions and types live in namespace doc (each snippet's namespace uses it). The objects a
// snippet names as if they were its locals (an event, a lock, a task handle...) are made lazily by
// doc::fixture and bound to the snippet's body only when it mentions them and declares no such name
// itself; the extractor reads their names from the next line:
// fixture-locals: ev m q handle tasks coros items i a b dir loop server rt r w fd addr opts
//
// They are ready, so that a snippet runs to its end at once: ev is set, m is free, q holds items,
// handle and tasks are tasks that finish after a millisecond, fetch() returns 1 after a millisecond.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asyncio/asyncio.hpp>

using namespace std::chrono_literals;

// A blocking call made in the global namespace (threads/to_thread.hpp's example).
inline auto gethostbyname_helper(std::string name) -> std::string { return "address of " + name; }

namespace doc {

// ---- test-framework stand-ins (testing/*.hpp show GoogleTest code) ----------------------------------
#define TEST(suite, name) [[maybe_unused]] static void suite##_##name()
#define EXPECT_TRUE(x) ((x) ? void() : (std::fprintf(stderr, "EXPECT_TRUE(%s) failed\n", #x), std::abort()))
#define EXPECT_FALSE(x) EXPECT_TRUE(!(x))
#define EXPECT_EQ(a, b) EXPECT_TRUE((a) == (b))

// ---- coroutines and callables the examples call -----------------------------------------------------
inline auto fetch(int x = 1) -> asyncio::task<int> {
  co_await asyncio::sleep(1ms);
  co_return x;
}
inline auto f() -> asyncio::task<int> { return fetch(1); }
inline auto g() -> asyncio::task<int> { return fetch(2); }
inline auto compute() -> asyncio::task<int> { return fetch(3); }
inline auto save_state() -> asyncio::task<int> { return fetch(4); }
inline auto serve(std::size_t = 0) -> asyncio::task<int> { return fetch(5); }
inline auto log_something() -> asyncio::task<void> { co_await asyncio::sleep(0s); }
inline auto audit() -> asyncio::task<void> { co_await asyncio::sleep(0s); }
inline auto write_output(int) -> asyncio::task<void> { co_await asyncio::sleep(0s); }
inline auto handle_client(asyncio::stream_reader, asyncio::stream_writer) -> asyncio::task<void> { co_return; }
// What the program under test runs (testing/virtual_clock.hpp): 30 s of sleeping.
inline auto main() -> asyncio::task<void> { co_await asyncio::sleep(30s); }
template <class... T>
void use(T&&...) {}

// A cache whose entries expire (testing/run_virtual.hpp's example tests one).
class cache {
 public:
  explicit cache(asyncio::duration ttl) : ttl_(ttl) {}
  void put(const std::string& k, int v) { items_[k] = {v, asyncio::get_running_loop().time() + ttl_}; }
  auto get(const std::string& k) -> std::optional<int> {
    auto it = items_.find(k);
    if (it == items_.end() || it->second.second <= asyncio::get_running_loop().time()) return std::nullopt;
    return it->second.first;
  }

 private:
  asyncio::duration ttl_;
  std::map<std::string, std::pair<int, asyncio::time_point>> items_;
};

using guard = asyncio::lock_guard<asyncio::lock>;
struct job {
  int id = 0;
};

// ---- objects a snippet uses as locals ----------------------------------------------------------------
class fixture {
 public:
  auto ev() -> asyncio::event& { return make(ev_, [&] { ev_->set(); }); }
  auto m() -> asyncio::lock& { return make(m_); }
  auto q() -> asyncio::queue<int>& { return make(q_, [&] { for (int k = 0; k < 3; ++k) q_->put_nowait(k); }); }
  auto handle() -> asyncio::task_handle<int>& {
    if (!handle_) handle_ = asyncio::create_task(fetch(7));
    return *handle_;
  }
  auto tasks() -> std::vector<asyncio::task_handle<int>>& {
    if (tasks_.empty())
      for (int k = 0; k < 3; ++k) tasks_.push_back(asyncio::create_task(fetch(k)));
    return tasks_;
  }
  auto coros() -> std::vector<asyncio::task<int>>& {
    if (coros_.empty())
      for (int k = 0; k < 3; ++k) coros_.push_back(fetch(k));
    return coros_;
  }
  auto items() -> std::vector<int>& { return items_; }
  auto i() -> int& { return i_; }
  auto a() -> int& { return a_; }
  auto b() -> int& { return b_; }
  auto dir() -> std::string& { return dir_; }
  auto loop() -> asyncio::event_loop& { return asyncio::get_running_loop(); }
  auto server() -> asyncio::server& { return server_; }
  auto rt() -> asyncio::runtime& { return make(rt_); }
  auto r() -> asyncio::stream_reader& { return r_; }
  auto w() -> asyncio::stream_writer& { return w_; }
  auto fd() -> int& { return fd_; }
  auto addr() -> asyncio::address& { return addr_; }
  auto opts() -> asyncio::connect_options& { return opts_; }

 private:
  template <class T, class Init = void (*)()>
  auto make(std::unique_ptr<T>& p, Init init = [] {}) -> T& {
    if (!p) {
      p = std::make_unique<T>();
      init();
    }
    return *p;
  }

  std::unique_ptr<asyncio::event> ev_;
  std::unique_ptr<asyncio::lock> m_;
  std::unique_ptr<asyncio::queue<int>> q_;
  std::optional<asyncio::task_handle<int>> handle_;
  std::vector<asyncio::task_handle<int>> tasks_;
  std::vector<asyncio::task<int>> coros_;
  std::vector<int> items_{1, 2, 3};
  int i_ = 1, a_ = 1, b_ = 2;
  std::string dir_ = "/";
  asyncio::server server_;
  std::unique_ptr<asyncio::runtime> rt_;
  asyncio::stream_reader r_;
  asyncio::stream_writer w_;
  int fd_ = -1;
  asyncio::address addr_;
  asyncio::connect_options opts_;
};

// ---- the registry ------------------------------------------------------------------------------------
struct entry {
  const char* name;     // "<document>.<n>", the ctest doc.<document>.<n>
  bool compile_only;    // marked `doc-test: compile-only`: compiled, not run
  int (*run)();         // nullptr: the snippet declares things and has nothing to run
};

auto registry() -> std::vector<entry>&;

struct registration {
  registration(std::initializer_list<entry> entries) {
    for (const entry& e : entries) registry().push_back(e);
  }
};

}  // namespace doc
