// wait's parking logic: watch every task, wake once when the return_when condition holds or the
// timeout fires. Nothing is cancelled (Python's asyncio._wait).
#include <asyncio/core/detail/watch.hpp>
#include <asyncio/core/wait.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace asyncio::detail {
namespace {

struct wait_state : timer_target {
  wait_state(const std::vector<task_base*>& ts, return_when r, task_core& me)
      : tasks(ts), nodes(std::make_unique<watch_node[]>(ts.size())), rw(r) {
    fire = &on_timer;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      if (tasks[i]->done()) {
        record(*tasks[i]);
        continue;
      }
      nodes[i].owner = this;
      nodes[i].notify = &on_done;
      nodes[i].watch(*tasks[i], &me);
    }
  }
  wait_state(const wait_state&) = delete;
  ~wait_state() {
    if (timer_key != timer_heap::no_timer) detail::loop_access::cancel_timer(*loop, timer_key);
  }

  void record(const task_base& t) noexcept {
    ++done;
    if (done == tasks.size() || rw == return_when::first_completed ||
        (rw == return_when::first_exception && t.state() == outcome::exception))
      satisfied = true;
  }
  static void on_done(watch_node* n) noexcept {
    auto* st = static_cast<wait_state*>(n->owner);
    st->record(*static_cast<task_base*>(n->source));
    if (st->satisfied) st->spot.wake();
  }
  static void on_timer(timer_target* self) noexcept {
    auto* st = static_cast<wait_state*>(self);
    st->timer_key = timer_heap::no_timer;
    st->timed_out = true;
    st->spot.wake();
  }

  const std::vector<task_base*>& tasks;
  std::unique_ptr<watch_node[]> nodes;
  return_when rw;
  std::size_t done = 0;
  bool satisfied = false;
  bool timed_out = false;
  event_loop* loop = nullptr;
  std::uint64_t timer_key = timer_heap::no_timer;
  parking_spot spot;  // interrupt mode: a cancel wakes us with cancelled_error
};

}  // namespace

auto wait_until(std::vector<task_base*> tasks, std::optional<duration> timeout, return_when rw) -> task<void> {
  task_core& me = co_await this_task();
  wait_state st(tasks, rw, me);
  if (st.satisfied) co_return;
  if (timeout) {
    st.loop = &me.loop();
    st.timer_key = detail::loop_access::add_timer(*st.loop, st.loop->time() + *timeout, &st);
  }
  while (!st.satisfied && !st.timed_out) co_await st.spot.wait();
}

void check_return_when(return_when rw) {
  switch (rw) {
    case return_when::first_completed:
    case return_when::first_exception:
    case return_when::all_completed:
      return;
  }
  throw std::invalid_argument("asyncio::wait: invalid return_when value " + std::to_string(static_cast<int>(rw)));
}

}  // namespace asyncio::detail
