#pragma once
// detail::stream_transport: the connection state shared by a stream_reader and its stream_writer
// (Python's selector transport + StreamReader buffer + FlowControlMixin, in one object).
//
// Reading is pulled by the reading task (no background reads): the task tries recv() first and
// waits only on EAGAIN, or when the previous recv was short (the kernel buffer is then empty, per
// epoll(7)), so a busy connection costs one recv per message and no epoll_ctl.
// On a completion backend (io_uring) a plain socket's reads are ring receives instead
// (ring_recv): the receive completes with the bytes, batched with every other completion in the
// loop's one io_uring_enter, so a read costs no system call of its own (docs/io_uring.md, "Streams").
// Writing is optimistic too: write() sends at once when nothing is buffered; the rest is buffered
// and sent from the poller's writability callback (flush_ready) without waking any task.
//
// TLS (ssl_context) is a layer inside the transport, driven by the same code: an OpenSSL session
// reads ciphertext from a memory BIO that the reading task fills with recv(), and writes ciphertext
// into a memory BIO that write() moves into the ordinary write buffer. Readiness, back-pressure
// (the write buffer counts ciphertext) and cancellation work as for plain bytes; the read buffer
// holds plaintext. See src/net/tls_layer.cpp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <sys/types.h>

#include <asyncio/core/task.hpp>
#include <asyncio/detail/intrusive_list.hpp>
#include <asyncio/detail/parked_awaiter.hpp>
#include <asyncio/lowlevel/io_operation.hpp>
#include <asyncio/lowlevel/wait_io.hpp>
#include <asyncio/net/socket.hpp>

namespace asyncio::detail {

struct tls_layer;
/// Frees a tls_layer (defined with it, so that this header needs no OpenSSL).
struct tls_layer_deleter {
  void operator()(tls_layer* p) const noexcept;
};

/// A task waiting for the write buffer to drain (drain()) or the transport to close
/// (wait_closed()): a node of one of the transport's two waiter lists.
struct stream_waiter : intrusive_node<> {
  task_core* task = nullptr;  // the parked task, set when linked
  bool for_close = false;     // which list: close waiters, or drain waiters
};

/// What the transport's fd is: a connected stream socket, or one end of a pipe (a child process's
/// stdin, stdout or stderr). A pipe reads with read(), writes with write() without SIGPIPE, and its
/// write_eof() closes the fd (a pipe has no half-close).
enum class stream_kind : std::uint8_t { socket, pipe };

/// Thread safety: loop-affine.
class stream_transport : io::interest, public std::enable_shared_from_this<stream_transport> {
 public:
  explicit stream_transport(socket sock, std::size_t limit, stream_kind kind = stream_kind::socket);
  stream_transport(const stream_transport&) = delete;
  auto operator=(const stream_transport&) -> stream_transport& = delete;
  ~stream_transport();

  // ---- reading ----
  /// Receives into buf, bypassing the buffer (the caller emptied it). 0 = EOF.
  auto recv_into(std::span<char> buf) -> task<std::size_t>;
  /// The non-suspending half of recv_into for a plain (non-TLS) transport, so that a reader can
  /// inline it instead of running recv_into as a nested task (one coroutine frame less per read):
  /// bytes received (0 = EOF), or -1 when the caller must co_await wait_readable() and try again.
  /// Throws: os_error subclasses.
  auto try_recv(std::span<char> buf) -> std::ptrdiff_t;
  /// The wait after try_recv returned -1; read_woken() must follow its completion.
  /// Cancellation: safe (the readiness is kept for the next wait; see wait_io.hpp).
  [[nodiscard]] auto wait_readable() noexcept -> io_wait_awaiter { return io_wait_awaiter(sock_.fileno(), io::direction::read); }
  void read_woken() noexcept { read_drained_ = false; }
  /// Appends at least one byte to the read buffer (false at EOF). Grows it up to `want` bytes free.
  auto fill(std::size_t want) -> task<bool>;

  /// True when reads should be ring receives (ring_recv) rather than try_recv + wait_readable: a
  /// plain socket (no TLS, not a pipe) on a loop whose io backend completes operations (io_uring).
  [[nodiscard]] auto reads_through_ring() noexcept -> bool;
  /// Awaiter of one ring receive into a caller's buffer: the bytes received, 0 at EOF (also when
  /// the transport is closed under it, as a readiness wait sees EOF then).
  /// Cancellation: safe; bytes the kernel received before the cancel took effect are returned and
  /// the cancel is raised at the next suspension point (lowlevel/io_operation.hpp).
  class ring_recv_awaiter {
   public:
    ring_recv_awaiter(stream_transport& t, std::span<char> buf) noexcept
        : t_(t), done_(t.eof_ || !t.sock_.is_open()), op_(lowlevel::recv(t.sock_.fileno(), buf)) {}
    ring_recv_awaiter(const ring_recv_awaiter&) = delete;
    auto operator=(const ring_recv_awaiter&) -> ring_recv_awaiter& = delete;
    ~ring_recv_awaiter() {
      if (reading_) t_.ring_reading_ = false;  // destroyed while suspended (its frame was freed)
    }
    [[nodiscard]] auto await_ready() const noexcept -> bool { return done_; }
    /// Throws: invalid_state_error if another task is reading (as a readiness wait refuses it).
    template <class P>
    auto await_suspend(std::coroutine_handle<P> h) {
      if (t_.ring_reading_) throw_concurrent_read();
      t_.ring_reading_ = reading_ = true;
      try {
        return op_.await_suspend(h);
      } catch (...) {
        t_.ring_reading_ = reading_ = false;
        throw;
      }
    }
    auto await_resume() -> std::size_t;

   private:
    [[noreturn]] static void throw_concurrent_read();
    stream_transport& t_;
    bool done_;             // EOF or closed before the receive: nothing submitted, 0
    bool reading_ = false;  // this awaiter holds the transport's one read
    io_operation_awaiter<std::size_t> op_;
  };
  [[nodiscard]] auto ring_recv(std::span<char> buf) noexcept -> ring_recv_awaiter { return {*this, buf}; }
  [[nodiscard]] auto buffered() const noexcept -> std::size_t { return rend_ - rbeg_; }
  [[nodiscard]] auto rdata() const noexcept -> const char* { return rbuf_.get() + rbeg_; }
  void consume(std::size_t n) noexcept {
    rbeg_ += n;
    if (rbeg_ == rend_) rbeg_ = rend_ = 0;
  }
  [[nodiscard]] auto eof() const noexcept -> bool { return eof_; }
  std::size_t limit;

  // ---- writing ----
  void write(std::string_view data);
  void write_eof();
  void close() noexcept;
  void abort() noexcept;
  [[nodiscard]] auto is_closing() const noexcept -> bool { return closing_ || !sock_.is_open(); }
  [[nodiscard]] auto closed() const noexcept -> bool { return !sock_.is_open(); }
  [[nodiscard]] auto write_buffer_size() const noexcept -> std::size_t { return wbuf_.size() - woff_; }
  [[nodiscard]] auto paused() const noexcept -> bool { return paused_; }
  [[nodiscard]] auto write_errno() const noexcept -> int { return write_errno_; }
  void set_write_buffer_limits(std::size_t high, std::size_t low);
  [[nodiscard]] auto high_water() const noexcept -> std::size_t { return high_; }
  [[nodiscard]] auto low_water() const noexcept -> std::size_t { return low_; }
  /// Throws the connection error recorded by a failed send, if any.
  void check_write_error() const {
    if (write_errno_ != 0) [[unlikely]] throw_write_error();
  }

  // waiters (drain: woken when no longer paused; wait_closed: woken when closed)
  void link(stream_waiter& w) noexcept { (w.for_close ? close_waiters_ : drain_waiters_).push_back(w); }
  void unlink(stream_waiter& w) noexcept { (w.for_close ? close_waiters_ : drain_waiters_).remove(w); }

  [[nodiscard]] auto kind() const noexcept -> stream_kind { return kind_; }
  [[nodiscard]] auto sock() noexcept -> socket& { return sock_; }
  [[nodiscard]] auto sock() const noexcept -> const socket& { return sock_; }
  /// Set for connections owned by a server: it closes them itself, so no "unclosed" report.
  bool managed = false;
  /// Set while stream_writer::sendfile runs: the writer's write() then raises.
  bool sendfile_active = false;
  address peer;
  address local;

  // ---- TLS (src/net/tls_layer.cpp) ----
  /// Puts a TLS session under the streams; bytes already in the read buffer become its first
  /// ciphertext (a peer that sent its hello right after a STARTTLS reply).
  void set_tls(std::unique_ptr<tls_layer, tls_layer_deleter> layer);
  /// Runs the TLS handshake to completion.
  /// Cancellation: the transport is left mid-handshake (the caller aborts it).
  /// Throws: ssl_error / ssl_certificate_verify_error, connection_reset_error (EOF), os_error.
  auto tls_handshake() -> task<void>;
  [[nodiscard]] auto tls() const noexcept -> tls_layer* { return tls_.get(); }

 private:
  [[noreturn]] void throw_write_error() const;
  /// recv() or read(); write-side send() without SIGPIPE; the FIN (shutdown or, for a pipe, close).
  auto sys_read(std::span<char> buf) noexcept -> ssize_t;
  auto sys_write(std::string_view data) noexcept -> ssize_t;
  void send_eof() noexcept;
  auto tls_recv_into(std::span<char> buf) -> task<std::size_t>;
  /// Moves ciphertext from the socket into the session's input BIO. False at EOF.
  auto tls_pull() -> task<bool>;
  void tls_write(std::string_view data);
  /// Sends what the session produced (records, alerts, tickets) through the write buffer.
  void tls_flush_output() noexcept;
  /// Sends close_notify once (close, write_eof).
  void tls_shutdown() noexcept;
  /// Sends or buffers bytes as they are (ciphertext when TLS is on).
  void raw_write(std::string_view data);

  static void flush_ready(io::interest* self) noexcept;
  void flush() noexcept;
  void arm_flush() noexcept;
  void finish_close() noexcept;
  static void wake(intrusive_list<stream_waiter>& waiters) noexcept;
  void fail_write(int err) noexcept;

  socket sock_;
  stream_kind kind_;
  // read side: rbuf_[rbeg_, rend_) holds unread bytes; allocated on first buffered read, reused.
  std::unique_ptr<char[]> rbuf_;
  std::size_t rcap_ = 0, rbeg_ = 0, rend_ = 0;
  bool eof_ = false;
  bool read_drained_ = false;  // the last recv was short or EAGAIN: wait before the next one
  std::int8_t ring_reads_ = -1;  // reads_through_ring(): -1 not yet asked, then 0 or 1
  bool ring_reading_ = false;    // a ring_recv is in flight (one reader at a time)
  // write side: wbuf_[woff_, size) is unsent.
  std::string wbuf_;
  std::size_t woff_ = 0;
  std::size_t high_ = 64 * 1024, low_ = 16 * 1024;
  bool paused_ = false;
  bool flush_armed_ = false;
  bool closing_ = false;
  bool eof_requested_ = false;
  bool eof_sent_ = false;
  int write_errno_ = 0;
  intrusive_list<stream_waiter> drain_waiters_;
  intrusive_list<stream_waiter> close_waiters_;
  std::unique_ptr<tls_layer, tls_layer_deleter> tls_;
  // Set by close() while bytes remain to be sent: the transport outlives its streams until flushed.
  std::shared_ptr<stream_transport> keep_alive_;
};

/// Awaiter for drain()/wait_closed(). The caller's stream_writer keeps the transport alive until the
/// co_await starts; the awaiter takes its own reference only when it suspends, so the common drain()
/// that does not wait costs no reference-count traffic.
class stream_wait_awaiter : public parked_awaiter<stream_wait_awaiter>, stream_waiter {
  using base = parked_awaiter<stream_wait_awaiter>;
  friend base;

 public:
  stream_wait_awaiter(stream_transport* t, bool close) noexcept : t_(t) { for_close = close; }
  ~stream_wait_awaiter() {
    if (linked) t_->unlink(*this);
  }
  [[nodiscard]] auto await_ready() const noexcept -> bool { return done_now(); }
  void await_resume() {
    if (base::task_) check_cancelled();  // task_ is null when await_ready found it done
    if (!for_close) t_->check_write_error();
  }

 private:
  [[nodiscard]] auto done_now() const noexcept -> bool {
    if (for_close) return t_->closed();
    return !t_->paused() || t_->write_errno() != 0 || t_->closed();
  }
  void link(task_core& t) noexcept {
    task = &t;
    hold_ = t_->weak_from_this().lock();
    t_->link(*this);
  }
  auto abort_wait() noexcept -> bool {
    if (!linked) return false;  // already woken, hence already scheduled
    t_->unlink(*this);
    return true;
  }
  stream_transport* t_;
  std::shared_ptr<stream_transport> hold_;  // set while suspended
};

}  // namespace asyncio::detail
