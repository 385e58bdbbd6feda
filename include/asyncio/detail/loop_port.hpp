#pragma once
// loop_port: the allocation-free, lock-free door through which other threads hand finished work
// back to a loop (thread-pool completions, cross-loop calls). call_soon_threadsafe allocates a node
// and takes a mutex per call; a port costs one CAS per item and a syscall only when the loop sleeps.
//
// Why a separate, reference-counted object rather than members of event_loop: a worker thread that
// finishes a job after the loop was closed and destroyed (an abandoned job, docs/lessons.md §3.3) must still
// be able to post safely. Each poster holds a reference across post(); the loop holds one until it
// is destroyed. Items posted after close() are discarded by whoever finds them.
//
// Wake-ups (docs/toolchain.md §6.5): the loop sets sleeping_ before it blocks in epoll_wait and re-checks the
// port; a poster pushes, then reads sleeping_ (Dekker, both sides seq_cst), and only then writes the
// eventfd, at most once until the loop reads it (wake_written_). A busy loop therefore receives
// thousands of completions without a single syscall.
#include <atomic>
#include <cstdint>

namespace asyncio::detail {

/// An intrusive item handed to a loop from another thread.
struct remote_item {
  remote_item* next = nullptr;
  /// Called once: on the loop's thread after the loop took the item (discard == false), or, if the
  /// loop closed first, on whichever thread finds it (discard == true: free resources only, touch
  /// no loop object).
  void (*deliver)(remote_item* self, bool discard) noexcept = nullptr;
};

/// Thread safety: post(), wake(), add_ref() and release() from any thread; the rest on the loop's
/// thread.
class loop_port {
 public:
  /// A new port with one reference (the loop's) and its own eventfd. Throws os_error.
  static auto create() -> loop_port*;

  loop_port(const loop_port&) = delete;
  auto operator=(const loop_port&) -> loop_port& = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  /// Hands `item` to the loop (FIFO per posting thread) and wakes the loop if it may be sleeping.
  /// The caller must hold a reference to the port, and must not touch `item` afterwards.
  void post(remote_item* item) noexcept {
    remote_item* head = head_.load(std::memory_order_relaxed);
    do {
      item->next = head;
    } while (!head_.compare_exchange_weak(head, item, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (sleeping_.load(std::memory_order_seq_cst)) wake();
    if (closed_.load(std::memory_order_seq_cst)) [[unlikely]] discard_all();
  }
  /// Makes the loop's epoll_wait return (coalesced: one eventfd write until the loop reads it).
  void wake() noexcept {
    if (!wake_written_.exchange(true, std::memory_order_acq_rel)) write_wake();
  }
  /// True if a post() or wake() must interrupt a sleep: call after set_sleeping(true).
  [[nodiscard]] auto has_items() const noexcept -> bool {
    return head_.load(std::memory_order_seq_cst) != nullptr;
  }

  // ---- the loop's side ----------------------------------------------------------------------

  [[nodiscard]] auto fd() const noexcept -> int { return fd_; }
  void set_sleeping(bool on) noexcept { sleeping_.store(on, std::memory_order_seq_cst); }
  [[nodiscard]] auto sleeping() const noexcept -> bool { return sleeping_.load(std::memory_order_seq_cst); }
  /// Reads the eventfd after it became readable; later posts may write it again.
  void consume_wake() noexcept;
  /// Takes every posted item, oldest first (null if none).
  auto take_all() noexcept -> remote_item* {
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return reverse(head_.exchange(nullptr, std::memory_order_acquire));
  }
  /// The loop closed: discards what is queued now and whatever is posted later.
  void close() noexcept {
    closed_.store(true, std::memory_order_seq_cst);
    discard_all();
  }
  [[nodiscard]] auto closed() const noexcept -> bool { return closed_.load(std::memory_order_acquire); }

 private:
  loop_port() = default;
  ~loop_port();
  void destroy() noexcept;
  void write_wake() noexcept;
  void discard_all() noexcept;
  static auto reverse(remote_item* list) noexcept -> remote_item* {
    remote_item* out = nullptr;
    while (list) {
      remote_item* next = list->next;
      list->next = out;
      out = list;
      list = next;
    }
    return out;
  }

  // The head is written by posters and the loop; keep it away from the read-mostly fields.
  alignas(64) std::atomic<remote_item*> head_{nullptr};
  std::atomic<std::uint32_t> refs_{1};
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> wake_written_{false};
  std::atomic<bool> closed_{false};
  int fd_ = -1;
};

}  // namespace asyncio::detail
