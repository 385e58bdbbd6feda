// The loop's cross-thread inbox: call_soon_threadsafe's queue and the port through which thread
// pools and other loops hand completions back (detail/loop_port.hpp), and the wrong-thread check.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asyncio {

void event_loop::enqueue_threadsafe(detail::callback_node* node) {
  node->loop = this;
  detail::loop_port* port = nullptr;
  {
    std::lock_guard lock(threadsafe_mutex_);
    // Checked under the lock that close() takes to set it: a node accepted here is always drained.
    if (threadsafe_closed_) {
      delete node;
      throw invalid_state_error("event loop is closed");
    }
    threadsafe_queue_.push_back(node);
    // Coalesce wake-ups: only the first producer since the last drain may wake the loop, and only
    // if it may be sleeping (run_once re-checks threadsafe_pending_ after announcing its sleep:
    // Dekker). Once the lock is released the loop may run the callback, close and be destroyed
    // (call_soon_threadsafe(stop) does just that): from then on touch only the port, which the
    // reference taken here keeps alive.
    if (!threadsafe_pending_.exchange(true, std::memory_order_seq_cst)) {
      port = port_;
      port->add_ref();
    }
  }
  if (port) {
    if (port->sleeping()) port->wake();
    port->release();
  }
}

void event_loop::drain_threadsafe() {
  // Completions posted through the port (thread pools, other loops): no lock, no allocation.
  for (detail::remote_item* item = port_->take_all(); item;) {
    detail::remote_item* next = item->next;
    item->deliver(item, false);
    item = next;
  }
  if (!threadsafe_pending_.load(std::memory_order_acquire)) return;
  std::vector<detail::callback_node*> batch;
  {
    std::lock_guard lock(threadsafe_mutex_);
    batch.swap(threadsafe_queue_);
    threadsafe_pending_.store(false, std::memory_order_release);
  }
  for (auto* node : batch) ready_.push_back(reinterpret_cast<std::uintptr_t>(node) | 1);
}

void event_loop::check_thread_slow(const char* what) const noexcept {
  if (std::this_thread::get_id() == owner_) return;
  exception_context ctx;
  ctx.message = std::string("Non-thread-safe operation ") + what +
                " invoked on an event loop other than the current one (use call_soon_threadsafe)";
  const_cast<event_loop*>(this)->call_exception_handler(ctx);
}

}  // namespace asyncio
