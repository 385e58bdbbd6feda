// completion_queue: the bookkeeping behind as_completed (Python's asyncio.as_completed queue of
// done futures, with `None` markers after the timeout).
#include <asyncio/core/as_completed.hpp>
#include <asyncio/errors.hpp>

namespace asyncio::detail {

completion_queue::completion_queue(std::vector<task_base*> tasks, std::optional<duration> timeout)
    : tasks_(std::move(tasks)), nodes_(std::make_unique<watch_node[]>(tasks_.size())) {
  fire = &on_timer;
  event_loop* running = running_loop();
  task_core* watcher = running ? detail::loop_access::current_task(*running) : nullptr;  // whoever iterates, usually
  // Every index is queued at most once: with the room reserved here, on_done cannot fail.
  finished_.reserve(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (tasks_[i]->done()) {
      finished_.push_back(i);
      continue;
    }
    nodes_[i].owner = this;
    nodes_[i].index = i;
    nodes_[i].notify = &on_done;
    nodes_[i].watch(*tasks_[i], watcher);
  }
  if (timeout && finished_.size() < tasks_.size()) {
    loop_ = &get_running_loop();
    timer_key_ = detail::loop_access::add_timer(*loop_, loop_->time() + *timeout, this);
  }
}

completion_queue::~completion_queue() {
  if (timer_key_ != timer_heap::no_timer) detail::loop_access::cancel_timer(*loop_, timer_key_);
}

void completion_queue::on_done(watch_node* n) noexcept {
  auto* q = static_cast<completion_queue*>(n->owner);
  q->finished_.push_back(n->index);  // within the capacity reserved by the constructor
  q->spot_.wake();
}

void completion_queue::on_timer(timer_target* self) noexcept {
  auto* q = static_cast<completion_queue*>(self);
  q->timer_key_ = timer_heap::no_timer;
  q->timed_out_ = true;
  // Stop watching: tasks finishing from now on are not given out (Python clears its todo set).
  for (std::size_t i = 0; i < q->tasks_.size(); ++i) q->nodes_[i].unwatch();
  q->spot_.wake();
}

auto completion_queue::next_index() -> task<std::size_t> {
  while (next_finished_ == finished_.size()) {
    if (timed_out_) throw timeout_error();
    if (spot_.parked()) throw invalid_state_error("as_completed: another task is already awaiting the next result");
    co_await spot_.wait();
  }
  co_return finished_[next_finished_++];
}

}  // namespace asyncio::detail
