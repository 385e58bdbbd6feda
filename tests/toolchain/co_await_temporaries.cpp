// Which call shapes g++ 12 compiles correctly when an options object is a temporary inside a
// co_await expression (docs/toolchain.md §5.5). Self-contained (a minimal lazy task, no library),
// so that it isolates the compiler. Run as `co_await_temporaries <shape>`; under g++ 12 with ASan
// the "bad" shapes end in "attempting double-free" or "heap-use-after-free", the others are clean
// (tests/toolchain/CMakeLists.txt registers the bad ones as WILL_FAIL there: if a compiler update
// fixes them, those tests fail and docs/toolchain.md §5.5 and scripts/lint_co_await.py can relax).
//
// Findings with g++ 12.2 at -Og and -O2 (clang++ 16 is clean on every shape):
//   bad:  an aggregate with a non-trivially destructible member, initialised inside the co_await
//         by a braced list: designated ({.ssl = s}), typed (opts{.ssl = s}), with one member only,
//         with a user-provided destructor, taken by const&, passed through a non-coroutine
//         wrapper that takes it by value, and even `{}` or a defaulted `opts o = {}` argument when a
//         default member initialiser allocates;
//   good: a named object, a factory function's prvalue, a constructor call of a non-aggregate
//         (parenthesised or braced), a non-aggregate built by chained setters, and an aggregate
//         whose members are all trivially destructible (string_view, pointers, numbers).
// So no aggregate shape is immune while it owns memory, and designated initialisers need an
// aggregate: the options types stay aggregates, and the rule stays "name it first".
// lint_co_await: skip (the bad shapes are here on purpose; scripts/lint_co_await.py)
#include <coroutine>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

template <class T>
struct task {
  struct promise_type {
    std::optional<T> value;
    std::coroutine_handle<> continuation;
    auto get_return_object() -> task { return task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    auto initial_suspend() noexcept -> std::suspend_always { return {}; }
    struct final_awaiter {
      auto await_ready() noexcept -> bool { return false; }
      auto await_suspend(std::coroutine_handle<promise_type> h) noexcept -> std::coroutine_handle<> {
        auto c = h.promise().continuation;
        return c ? c : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    auto final_suspend() noexcept -> final_awaiter { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() { std::terminate(); }
  };
  explicit task(std::coroutine_handle<promise_type> h) : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }
  auto await_ready() -> bool { return false; }
  auto await_suspend(std::coroutine_handle<> c) -> std::coroutine_handle<> {
    h_.promise().continuation = c;
    return h_;
  }
  auto await_resume() -> T { return std::move(*h_.promise().value); }
  std::coroutine_handle<promise_type> h_;
};

auto big() -> std::string { return std::string(100, 'x'); }

struct options {  // like connect_options: an aggregate that owns memory
  std::optional<std::string> ssl;
  int n = 0;
};
struct options_one {
  std::optional<std::string> ssl;
};
struct options_dtor {
  std::optional<std::string> ssl;
  ~options_dtor() {}  // NOLINT: user-provided on purpose
};
struct options_alloc_default {
  int n = 0;
  std::vector<std::string> names = std::vector<std::string>(1, big());
};
class options_ctor {  // not an aggregate
 public:
  options_ctor() = default;
  explicit options_ctor(std::string s) : ssl(std::move(s)) {}
  auto with_ssl(std::string s) && -> options_ctor {
    ssl = std::move(s);
    return std::move(*this);
  }
  std::optional<std::string> ssl;
};
struct options_view {  // trivially destructible members only
  std::string_view ssl;
  int n = 0;
};

auto size(const std::optional<std::string>& s) -> int { return s ? static_cast<int>(s->size()) : 0; }
auto take(options o) -> task<int> { co_return size(o.ssl); }
auto take_ref(const options& o) -> task<int> { co_return size(o.ssl); }
auto take_one(options_one o) -> task<int> { co_return size(o.ssl); }
auto take_dtor(options_dtor o) -> task<int> { co_return size(o.ssl); }
auto take_alloc(options_alloc_default o = {}) -> task<int> { co_return static_cast<int>(o.names.size()); }
auto take_ctor(options_ctor o) -> task<int> { co_return size(o.ssl); }
auto take_view(options_view o) -> task<int> { co_return static_cast<int>(std::string(o.ssl).size()); }
auto wrapper(options o) -> task<int> { return take(std::move(o)); }  // not a coroutine
auto make(std::string s) -> options { return {.ssl = std::move(s), .n = 0}; }

auto run_shape(std::string_view shape) -> task<int> {
  std::string s = big();
  int r = -1;
  // bad with g++ 12
  if (shape == "designated") r = co_await take({.ssl = s, .n = 1});
  if (shape == "typed_designated") r = co_await take(options{.ssl = s, .n = 1});
  if (shape == "one_member") r = co_await take_one({.ssl = s});
  if (shape == "user_destructor") r = co_await take_dtor({.ssl = s});
  if (shape == "const_ref") r = co_await take_ref({.ssl = s, .n = 1});
  if (shape == "non_coroutine_wrapper") r = co_await wrapper({.ssl = s, .n = 1});
  if (shape == "defaulted_argument") r = co_await take_alloc();
  // good with g++ 12
  if (shape == "named") {
    options o{.ssl = s, .n = 1};
    r = co_await take(o);
  }
  if (shape == "factory") r = co_await take(make(s));
  if (shape == "constructor") r = co_await take_ctor(options_ctor(s));
  if (shape == "braced_constructor") r = co_await take_ctor(options_ctor{s});
  if (shape == "chained_setters") r = co_await take_ctor(options_ctor().with_ssl(s));
  if (shape == "trivial_members") r = co_await take_view({.ssl = s, .n = 1});
  co_return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <shape>\n", argv[0]);
    return 2;
  }
  task<int> t = run_shape(argv[1]);
  t.h_.resume();
  int r = *t.h_.promise().value;
  std::printf("%s: %d\n", argv[1], r);
  return r > 0 ? 0 : 1;
}
