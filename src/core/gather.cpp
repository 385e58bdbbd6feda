// gather's waiting logic, shared by every gather overload (the templates in gather.hpp only turn
// arguments into child tasks and collect results).
#include <asyncio/core/gather.hpp>
#include <asyncio/core/detail/watch.hpp>

#include <limits>
#include <memory>

namespace asyncio::detail {
namespace {

constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

auto failed(const task_base& c) noexcept -> bool {
  return c.state() == outcome::exception || c.state() == outcome::cancelled;
}

// Lives in gather_wait's frame. Invariant: done == number of children whose outcome is known
// (either done at entry or notified through their watch_node).
struct gather_state {
  gather_state(const std::vector<task_base*>& cs, bool return_exc)
      : children(cs), nodes(std::make_unique<watch_node[]>(cs.size())), return_exceptions(return_exc) {
    task_core* awaiter = detail::loop_access::current_task(*running_loop());  // gather runs in the task awaiting it
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (children[i]->done()) {
        record(i);
        continue;
      }
      nodes[i].owner = this;
      nodes[i].index = i;
      nodes[i].notify = &on_child_done;
      nodes[i].watch(*children[i], awaiter);
    }
  }

  [[nodiscard]] auto all_done() const noexcept -> bool { return done == children.size(); }

  void record(std::size_t i) noexcept {
    ++done;
    if (!return_exceptions && first_failure == none && failed(*children[i])) first_failure = i;
  }
  static void on_child_done(watch_node* n) noexcept {
    auto* st = static_cast<gather_state*>(n->owner);
    const bool had_failure = st->first_failure != none;
    st->record(n->index);
    if (st->all_done() || (!had_failure && st->first_failure != none)) st->spot.wake();
  }
  // The awaiting task was cancelled: forward to every unfinished child and keep waiting for them
  // (CPython's _GatheringFuture.cancel); gather then raises cancelled_error.
  static void on_cancel(parking_spot* spot, task_core& me) noexcept {
    auto* st = static_cast<gather_state*>(spot->owner());
    st->cancel_requested = true;
    st->cancel_message = me.shared_cancel_message();
    st->cancel_unfinished(st->cancel_message);
  }
  void cancel_unfinished(const shared_message& message) noexcept {
    for (task_base* c : children) {
      if (!c->done()) (void)c->cancel_noexcept(message);
    }
  }
  void mark_all_retrieved() noexcept {
    for (task_base* c : children) (void)c->take_exception_ptr();
  }

  const std::vector<task_base*>& children;
  std::unique_ptr<watch_node[]> nodes;
  std::size_t done = 0;
  std::size_t first_failure = none;
  bool return_exceptions;
  bool cancel_requested = false;
  shared_message cancel_message;
  parking_spot spot{&on_cancel, this};
};

}  // namespace

auto gather_wait(std::vector<task_base*> children, bool return_exceptions) -> task<void> {
  gather_state st(children, return_exceptions);
  // Phase 1: until everything is done, a child failed (without return_exceptions) or we are
  // cancelled (the hook has then cancelled the children already).
  while (!st.all_done() && st.first_failure == none && !st.cancel_requested) co_await st.spot.wait();
  if (!st.all_done()) {
    // Phase 2 (docs/lessons.md §1.4): no child outlives gather. Cancel the rest and wait for all of them,
    // so that their destructors and catch blocks have run before gather throws.
    if (!st.cancel_requested) st.cancel_unfinished({});
    while (!st.all_done()) co_await st.spot.wait();
  }
  if (st.cancel_requested) {
    st.mark_all_retrieved();
    throw cancelled_error(st.cancel_message.str());
  }
  if (st.first_failure != none) {
    task_base& first = *children[st.first_failure];
    std::exception_ptr e = first.cancelled() ? nullptr : first.take_exception_ptr();
    st.mark_all_retrieved();  // as CPython: the other failures are not reported as never retrieved
    if (!e) throw cancelled_error(first.cancel_message());
    std::rethrow_exception(e);
  }
}

}  // namespace asyncio::detail
