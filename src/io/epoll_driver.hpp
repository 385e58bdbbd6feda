#pragma once
// The epoll backend: a readiness backend (io/driver.hpp). Sockets and pipes are registered once,
// edge-triggered for both directions, so a wait costs no epoll_ctl; add_reader/add_writer
// interests are level-triggered. Operations try the system call first and park on the fd's
// readiness only after EAGAIN (docs/toolchain.md §6.2-6.3).
#include <asyncio/io/driver.hpp>
#include <asyncio/io/operation.hpp>

namespace asyncio::io {

class epoll_driver final : public driver {
 public:
  /// Throws: os_error if epoll_create1 fails.
  epoll_driver();
  ~epoll_driver() override;

  [[nodiscard]] auto name() const noexcept -> const char* override { return "epoll"; }
  auto poll(int timeout_ms) -> int override;
  void set_wakeup(int fd, interest* wake) override;
  auto submit(operation& op) -> bool override;
  auto cancel(operation& op) noexcept -> bool override;
  void abandon(operation& op) noexcept override;
  /// False: epoll cannot wait for regular files; read_at/write_at/fsync run inline, blocking.
  [[nodiscard]] auto async_files() const noexcept -> bool override { return false; }

 private:
  void arm_edge(int fd) override;
  void update_level(int fd, readiness before, readiness wanted) override;
  void disarm(int fd) noexcept override;

  /// Makes op's system call once: true if it finished (result set), false on EAGAIN.
  static auto attempt(operation& op) noexcept -> bool;
  /// An operation's fd became ready: retry it; complete it, or park it again.
  static void on_operation_ready(interest* self) noexcept;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  interest* wake_ = nullptr;
};

}  // namespace asyncio::io
