#pragma once
// The io_uring backend: a completion backend (io/driver.hpp, docs/io_uring.md).
//
// Operations (recv, send, accept, connect, the file calls) are submission queue entries; readiness
// is a multishot poll per watched fd (edge-triggered, as the epoll backend's EPOLLET) and a
// one-shot poll re-armed after each event for level-triggered interests. Submissions wait in the
// submission queue until the loop's next poll(), which hands them to the kernel and reaps the
// completions in one io_uring_enter.
//
// The kernel holds a user_data per request, never a pointer into a coroutine frame: an operation's
// user_data names its entry in the in-flight table, so a frame destroyed while its request is in
// flight (abandon) leaves an orphaned entry that the late completion frees, and a poll's user_data
// names the fd and a generation, so a completion of a poll replaced meanwhile is recognised as
// stale.
#include <asyncio/io/driver.hpp>
#include <asyncio/io/operation.hpp>

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace asyncio::io {

class uring_driver final : public driver {
 public:
  /// Probes io_uring and makes the ring (docs/io_uring.md, "Choosing the backend"). Returns null
  /// and sets `why_not` to the reason when the kernel, its configuration or the environment
  /// (ASYNCIO_URING_UNAVAILABLE) refuses it.
  static auto create(std::string& why_not) -> std::unique_ptr<uring_driver>;
  ~uring_driver() override;

  [[nodiscard]] auto name() const noexcept -> const char* override { return "io_uring"; }
  auto poll(int timeout_ms) -> int override;
  void set_wakeup(int fd, interest* wake) override;
  auto submit(operation& op) -> bool override;
  auto cancel(operation& op) noexcept -> bool override;
  void abandon(operation& op) noexcept override;
  /// True: file operations are ring requests; they never block the loop's thread.
  [[nodiscard]] auto async_files() const noexcept -> bool override { return true; }

  /// The set-up flags the probe settled on (for docs and tests).
  [[nodiscard]] auto setup_flags() const noexcept -> unsigned { return setup_flags_; }

 private:
  uring_driver() = default;

  void arm_edge(int fd) override;
  void update_level(int fd, readiness before, readiness wanted) override;
  void disarm(int fd) noexcept override;
  void cancel_operations_on(int fd) noexcept override;

  // What a completion's user_data names (its low three bits).
  enum class tag : std::uint64_t { ignore = 0, operation = 1, edge = 2, level = 3, wakeup = 4 };
  static auto encode_poll(tag t, int fd, std::uint32_t generation) noexcept -> std::uint64_t {
    return static_cast<std::uint64_t>(t) | (static_cast<std::uint64_t>(static_cast<std::uint32_t>(fd)) << 3) |
           (static_cast<std::uint64_t>(generation & 0x1fffffffu) << 35);
  }

  // Per fd: the polls this backend keeps in the ring for the readiness table.
  struct fd_polls {
    std::uint32_t edge_generation = 0;
    std::uint32_t level_generation = 0;
    readiness level_wanted = readiness::none;
    std::uint32_t operations = 0;  // operations in flight on this fd
    bool edge_armed = false;
    bool level_armed = false;
  };
  // One operation in flight; `op` is null once it was abandoned.
  struct in_flight {
    operation* op = nullptr;
    std::uint32_t next_free = 0;
  };

  /// A free submission queue entry (the queue is handed to the kernel first if it is full).
  auto next_sqe() -> io_uring_sqe*;
  /// Hands queued submissions to the kernel now and runs its deferred work (a removed poll lets
  /// go of its file then).
  void flush() noexcept;
  /// Enables the ring on the thread that first uses it (SINGLE_ISSUER binds it to that thread).
  void enable_on_this_thread();
  void prepare(io_uring_sqe* sqe, operation& op) noexcept;
  auto polls_of(int fd) -> fd_polls&;
  void arm_edge_poll(int fd, fd_polls& p);
  void arm_level_poll(int fd, fd_polls& p);
  void arm_wakeup();
  /// Ends the poll whose user_data is given (its completions are already stale).
  void remove_poll(std::uint64_t user_data) noexcept;
  /// Dispatches one completion; false if it was stale or bookkeeping only.
  auto dispatch(const io_uring_cqe& cqe) noexcept -> bool;
  void complete_operation(std::uint32_t slot, std::int32_t res) noexcept;
  void on_edge(int fd, std::uint32_t generation, std::int32_t res, bool more) noexcept;
  void on_level(int fd, std::uint32_t generation, std::int32_t res) noexcept;
  auto take_slot(operation& op) -> std::uint32_t;
  void free_slot(std::uint32_t slot) noexcept;

  io_uring ring_{};
  unsigned setup_flags_ = 0;
  bool enabled_ = false;  // IORING_SETUP_R_DISABLED rings start disabled
  std::vector<fd_polls> polls_;
  std::vector<in_flight> slots_;
  std::uint32_t free_slot_ = 0;  // head of the free list; slots_.size() when empty
  int wake_fd_ = -1;
  interest* wake_ = nullptr;
};

}  // namespace asyncio::io
