// fs::file: buffered reads and writes over the fs dispatch (src/fs/dispatch.hpp). The buffering
// model is Python's BufferedRandom with two buffers: bytes written and not yet in the file
// (wbuf[0, wlen), to go at raw_pos), and bytes read ahead (rbuf[rpos, rend), which ended at
// raw_pos). On a file with positions at most one of them holds data: reading first writes the
// buffer out, writing first drops the read-ahead (moving raw_pos back over it).
#include <asyncio/fs/file.hpp>

#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/sync/lock.hpp>

#include "dispatch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace asyncio::detail {

/// The largest single read or write system call: bounds how long a cancel waits for a running
/// call, and gives a cancelled write a precise count.
constexpr std::size_t io_chunk = 1U << 20;
/// The read-ahead of an unbuffered file's readline().
constexpr std::size_t min_read_buffer = 8192;

struct file_state {
  int fd = -1;
  std::filesystem::path path;
  fs::open_mode mode{};
  bool readable = false;
  bool writable = false;
  bool append = false;
  bool seekable = true;
  bool regular = false;
  std::int64_t raw_pos = 0;   // where the next read or write system call goes
  std::uint64_t size_hint = 0;  // the size at open (read()'s first request)
  std::size_t capacity = 0;   // open_options::buffering
  std::unique_ptr<char[]> wbuf;
  std::size_t wlen = 0;
  std::unique_ptr<char[]> rbuf;
  std::size_t rbuf_size = 0;
  std::size_t rpos = 0;
  std::size_t rend = 0;
  asyncio::lock busy;  // held by every call that may suspend: calls run one at a time, in call order

  [[nodiscard]] auto io_offset() const noexcept -> std::int64_t { return seekable ? raw_pos : -1; }
  [[nodiscard]] auto read_ahead() const noexcept -> std::size_t { return rend - rpos; }
  [[nodiscard]] auto name() const noexcept -> std::string_view { return path.native(); }
};

namespace {

[[noreturn]] void throw_closed() { throw invalid_state_error("I/O operation on closed file"); }

void check_open(const file_state* st) {
  if (st == nullptr || st->fd < 0) throw_closed();
}
void check_readable(const file_state* st) {
  check_open(st);
  if (!st->readable) throw invalid_state_error("file '" + st->path.native() + "' not open for reading");
}
void check_writable(const file_state* st) {
  check_open(st);
  if (!st->writable) throw invalid_state_error("file '" + st->path.native() + "' not open for writing");
}

/// "N of M bytes written", after the cancel's own message if it has one.
auto partial_message(const std::string& cancel_message, std::size_t done, std::size_t total) -> std::string {
  std::string out = cancel_message;
  if (!out.empty()) out += "; ";
  out += std::to_string(done) + " of " + std::to_string(total) + " bytes written";
  return out;
}

/// One read system call into dst at `offset` (-1: the stream's own position).
auto raw_read(file_state* st, char* dst, std::size_t n, std::int64_t offset) -> task<std::size_t> {
  io::operation op = fs_op(io::opcode::read_at, st->fd);
  op.buffer = dst;
  op.length = std::min(n, io_chunk);
  op.offset = offset;
  co_return static_cast<std::size_t>(co_await fs_perform(op, "read", st->name()));
}

/// One write system call of src at `offset` (-1: the stream's own position).
auto raw_write(file_state* st, const char* src, std::size_t n, std::int64_t offset) -> task<std::size_t> {
  io::operation op = fs_op(io::opcode::write_at, st->fd);
  op.buffer = const_cast<char*>(src);  // only read
  op.length = std::min(n, io_chunk);
  op.offset = offset;
  auto written = static_cast<std::size_t>(co_await fs_perform(op, "write", st->name()));
  if (written == 0) throw_fs_error(EIO, "write", st->name());  // no progress: never loop on it
  co_return written;
}

/// Writes all of data at the file position (or at *at, which then advances instead), counting
/// progress in `done` as it goes, so that a caller that catches a cancel knows how much went.
auto write_all(file_state* st, std::string_view data, std::size_t& done, std::int64_t* at = nullptr)
    -> task<void> {
  while (done < data.size()) {
    std::int64_t offset = at ? *at : st->io_offset();
    std::size_t n = co_await raw_write(st, data.data() + done, data.size() - done, offset);
    done += n;
    if (at) *at += static_cast<std::int64_t>(n);
    else st->raw_pos += static_cast<std::int64_t>(n);
  }
}

/// Writes the write buffer out. On an error or a cancel, what was written is gone from the
/// buffer and the rest stays (raw_pos counts what was written).
auto flush_locked(file_state* st) -> task<void> {
  std::size_t done = 0;
  try {
    co_await write_all(st, std::string_view(st->wbuf.get(), st->wlen), done);
  } catch (...) {
    std::memmove(st->wbuf.get(), st->wbuf.get() + done, st->wlen - done);
    st->wlen -= done;
    throw;
  }
  st->wlen = 0;
}

/// Before writing: read-ahead bytes are not in the file position any more (a file with positions
/// moves back over them; a stream keeps them, its reads and writes being independent).
void drop_read_ahead(file_state* st) noexcept {
  if (!st->seekable) return;
  st->raw_pos -= static_cast<std::int64_t>(st->read_ahead());
  st->rpos = st->rend = 0;
}

void ensure_rbuf(file_state* st) {
  if (!st->rbuf) {
    st->rbuf_size = std::max(st->capacity, min_read_buffer);
    st->rbuf = std::make_unique<char[]>(st->rbuf_size);
  }
}

/// Reads ahead into the (empty) read buffer; returns the bytes read, 0 at the end.
auto fill(file_state* st) -> task<std::size_t> {
  ensure_rbuf(st);
  st->rpos = st->rend = 0;
  std::size_t n = co_await raw_read(st, st->rbuf.get(), st->rbuf_size, st->io_offset());
  st->rend = n;
  st->raw_pos += static_cast<std::int64_t>(n);
  co_return n;
}

/// Puts `bytes` back in front of the read-ahead (a read that raised consumes nothing).
void unread(file_state* st, std::string_view bytes) noexcept {
  if (bytes.empty()) return;
  std::size_t rest = st->read_ahead();
  std::size_t total = bytes.size() + rest;
  try {
    if (!st->rbuf || st->rbuf_size < total) {
      auto grown = std::make_unique<char[]>(total);
      if (rest) std::memcpy(grown.get() + bytes.size(), st->rbuf.get() + st->rpos, rest);
      st->rbuf = std::move(grown);
      st->rbuf_size = total;
    } else {
      std::memmove(st->rbuf.get() + bytes.size(), st->rbuf.get() + st->rpos, rest);
    }
  } catch (...) {
    // No memory for the bytes: a file with positions moves back over them instead.
    if (st->seekable) {
      st->raw_pos -= static_cast<std::int64_t>(total);
      st->rpos = st->rend = 0;
    }
    return;
  }
  std::memcpy(st->rbuf.get(), bytes.data(), bytes.size());
  st->rpos = 0;
  st->rend = total;
}

/// Takes up to n read-ahead bytes into out.
void take(file_state* st, std::string& out, std::size_t n) {
  std::size_t k = std::min(n, st->read_ahead());
  out.append(st->rbuf.get() + st->rpos, k);
  st->rpos += k;
}

/// Before reading: bytes written must reach the file first.
auto prepare_read(file_state* st) -> task<void> {
  check_readable(st);
  if (st->wlen > 0) co_await flush_locked(st);
}

/// read(n) (n == npos: to the end) with the lock held.
auto read_locked(file_state* st, std::size_t n) -> task<std::string> {
  co_await prepare_read(st);
  const bool to_end = n == std::string::npos;
  std::string out;
  std::size_t have = 0;  // valid bytes in out (out may be longer while a read is in flight)
  try {
    take(st, out, n);
    have = out.size();
    std::size_t small = std::max(st->capacity, min_read_buffer);
    while (have < n) {
      std::size_t want = n - have;
      if (to_end) {
        // The size at open (or what was written since) says how much is left; one more byte
        // finds the end of a file that did not grow.
        auto end = static_cast<std::int64_t>(st->size_hint);
        std::size_t left = st->raw_pos < end ? static_cast<std::size_t>(end - st->raw_pos) : 0;
        want = std::clamp<std::size_t>(left + 1, small, io_chunk);
      }
      if (want < small) {
        // A small request: read ahead a buffer's worth and take from it.
        if (co_await fill(st) == 0) break;
        take(st, out, want);
        have = out.size();
        continue;
      }
      want = std::min(want, io_chunk);
      out.resize(have + want);
      std::size_t got = co_await raw_read(st, out.data() + have, want, st->io_offset());
      have += got;
      out.resize(have);
      st->raw_pos += static_cast<std::int64_t>(got);
      if (got == 0) break;
      // A short read of a regular file is its end (nobody else writes it, as read() assumes).
      if (to_end && st->regular && got < want) break;
    }
  } catch (...) {
    out.resize(have);
    unread(st, out);
    throw;
  }
  co_return out;
}

auto readline_locked(file_state* st) -> task<std::string> {
  co_await prepare_read(st);
  std::string line;
  try {
    for (;;) {
      if (st->read_ahead() > 0) {
        const char* begin = st->rbuf.get() + st->rpos;
        const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', st->read_ahead()));
        if (nl) {
          take(st, line, static_cast<std::size_t>(nl - begin) + 1);
          break;
        }
        take(st, line, st->read_ahead());
      }
      if (co_await fill(st) == 0) break;
    }
  } catch (...) {
    unread(st, line);
    throw;
  }
  co_return line;
}

auto read_n(file_state* st, std::size_t n) -> task<std::string> {
  check_readable(st);
  auto guard = co_await st->busy.acquire();
  co_return co_await read_locked(st, n);
}

auto read_some_impl(file_state* st, std::span<char> buf) -> task<std::size_t> {
  check_readable(st);
  auto guard = co_await st->busy.acquire();
  co_await prepare_read(st);
  if (buf.empty()) co_return 0;
  if (st->read_ahead() > 0) {
    std::size_t k = std::min(buf.size(), st->read_ahead());
    std::memcpy(buf.data(), st->rbuf.get() + st->rpos, k);
    st->rpos += k;
    co_return k;
  }
  std::size_t got = co_await raw_read(st, buf.data(), buf.size(), st->io_offset());
  st->raw_pos += static_cast<std::int64_t>(got);
  co_return got;
}

auto readline_impl(file_state* st) -> task<std::string> {
  check_readable(st);
  auto guard = co_await st->busy.acquire();
  co_return co_await readline_locked(st);
}

auto lines_of(file_state* st) -> generator<std::string> {
  for (;;) {
    std::string line = co_await readline_impl(st);
    if (line.empty()) co_return;
    co_yield std::move(line);
  }
}

auto pread_impl(file_state* st, std::span<char> buf, std::int64_t offset) -> task<std::size_t> {
  check_readable(st);
  auto guard = co_await st->busy.acquire();
  co_await prepare_read(st);
  if (!st->seekable) throw_fs_error(ESPIPE, "pread", st->name());
  if (offset < 0) throw_fs_error(EINVAL, "pread", st->name());
  std::size_t done = 0;
  while (done < buf.size()) {
    std::size_t n = co_await raw_read(st, buf.data() + done, buf.size() - done, offset + static_cast<std::int64_t>(done));
    if (n == 0) break;
    done += n;
  }
  co_return done;
}

auto pwrite_impl(file_state* st, std::string_view data, std::int64_t offset) -> task<std::size_t> {
  std::size_t done = 0;
  try {
    check_writable(st);
    auto guard = co_await st->busy.acquire();
    if (!st->seekable) throw_fs_error(ESPIPE, "pwrite", st->name());
    if (offset < 0) throw_fs_error(EINVAL, "pwrite", st->name());
    if (st->wlen > 0) co_await flush_locked(st);
    drop_read_ahead(st);  // it may hold bytes this call replaces
    std::int64_t at = offset;
    co_await write_all(st, data, done, &at);
    st->size_hint = std::max<std::uint64_t>(st->size_hint, static_cast<std::uint64_t>(at));
  } catch (const cancelled_error& e) {
    throw cancelled_error(partial_message(e.message(), done, data.size()));
  }
  co_return data.size();
}

auto seek_impl(file_state* st, std::int64_t offset, fs::whence from) -> task<std::int64_t> {
  check_open(st);
  auto guard = co_await st->busy.acquire();
  if (!st->seekable) throw_fs_error(ESPIPE, "seek", st->name());
  if (st->wlen > 0) co_await flush_locked(st);
  std::int64_t base = 0;
  if (from == fs::whence::current) {
    base = st->raw_pos - static_cast<std::int64_t>(st->read_ahead());
  } else if (from == fs::whence::end) {
    struct statx sx {};
    io::operation op = fs_op(io::opcode::statx, st->fd);
    op.path = "";
    op.flags = AT_EMPTY_PATH;
    op.buffer = &sx;
    co_await fs_perform(op, "seek", st->name());
    base = static_cast<std::int64_t>(sx.stx_size);
  }
  std::int64_t target = base + offset;
  if (target < 0) throw_fs_error(EINVAL, "seek", st->name());
  st->rpos = st->rend = 0;
  st->raw_pos = target;
  co_return target;
}

auto flush_impl(file_state* st) -> task<void> {
  check_open(st);
  auto guard = co_await st->busy.acquire();
  if (st->wlen == 0) co_return;
  const std::size_t total = st->wlen;
  try {
    co_await flush_locked(st);
  } catch (const cancelled_error& e) {
    throw cancelled_error(partial_message(e.message(), total - st->wlen, total));
  }
}

auto sync_impl(file_state* st, bool data_only) -> task<void> {
  co_await flush_impl(st);
  auto guard = co_await st->busy.acquire();
  check_open(st);
  io::operation op = fs_op(io::opcode::fsync, st->fd);
  op.flags = data_only ? 1 : 0;
  co_await fs_perform(op, data_only ? "fdatasync" : "fsync", st->name());
}

/// The destructor's close: writes a leftover buffer synchronously (and says so), closes the fd.
void close_now(file_state* st) noexcept {
  if (st->fd < 0) return;
  if (st->wlen > 0) {
    std::size_t done = 0;
    int err = 0;
    while (done < st->wlen) {
      io::operation op = fs_op(io::opcode::write_at, st->fd);
      op.buffer = st->wbuf.get() + done;
      op.length = st->wlen - done;
      op.offset = st->io_offset();
      std::int64_t n = fs_run_blocking(op);
      if (n == -EINTR) continue;
      if (n <= 0) {
        err = n < 0 ? static_cast<int>(-n) : EIO;
        break;
      }
      done += static_cast<std::size_t>(n);
      st->raw_pos += n;
    }
    try {
      std::string message = "fs: file '" + st->path.native() + "' destroyed without close(): ";
      if (err == 0) {
        message += std::to_string(done) + " buffered bytes written synchronously (blocking the loop); await close()";
      } else {
        message += std::to_string(st->wlen - done) + " of " + std::to_string(st->wlen) +
                   " buffered bytes lost: " + std::strerror(err);
      }
      fs_report(message);
    } catch (...) {  // no memory for the message: the data went (or not) all the same
    }
    st->wlen = 0;
  }
  ::close(st->fd);
  st->fd = -1;
}

/// Closes an fd unless released (open's own cleanup when it raises).
struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

auto close_impl(file_state* st) -> task<void> {
  if (st == nullptr || st->fd < 0) co_return;
  auto guard = co_await st->busy.acquire();  // a cancel here leaves the file open: nothing was done
  if (st->fd < 0) co_return;                // closed by a call that came first
  const std::size_t total = st->wlen;
  std::exception_ptr error;
  bool cancelled = false;
  std::string cancel_message;
  try {
    if (st->wlen > 0) co_await flush_locked(st);
  } catch (const cancelled_error& e) {
    cancelled = true;
    cancel_message = partial_message(e.message(), total - st->wlen, total);
  } catch (...) {
    error = std::current_exception();
  }
  st->wlen = 0;  // closed whatever happened: what did not go is dropped (and reported above)
  int fd = std::exchange(st->fd, -1);
  st->rpos = st->rend = 0;
  if (cancelled) {
    ::close(fd);  // at once: the task was cancelled (close of a local file does not wait)
    throw cancelled_error(std::move(cancel_message));
  }
  try {
    co_await fs_perform(fs_op(io::opcode::close, fd), "close", st->name());
  } catch (const cancelled_error&) {
    // Withdrawn before it ran, so the fd is still open: close it here, then raise.
    ::close(fd);
    throw;
  }
  if (error) std::rethrow_exception(error);
}

auto stat_impl(file_state* st) -> task<fs::stat_result> {
  check_open(st);
  struct statx sx {};
  io::operation op = fs_op(io::opcode::statx, st->fd);
  op.path = "";
  op.flags = AT_EMPTY_PATH;
  op.buffer = &sx;
  co_await fs_perform(op, "stat", st->name());
  co_return fs_stat_result(sx);
}

auto to_open_flags(fs::open_mode m) -> int {
  using fs::open_mode;
  bool r = fs::has(m, open_mode::read);
  bool w = fs::has(m, open_mode::write) || fs::has(m, open_mode::append);
  int flags = r && w ? O_RDWR : w ? O_WRONLY : O_RDONLY;
  if (fs::has(m, open_mode::append)) flags |= O_APPEND;
  if (fs::has(m, open_mode::create)) flags |= O_CREAT;
  if (fs::has(m, open_mode::truncate)) flags |= O_TRUNC;
  if (fs::has(m, open_mode::exclusive)) flags |= O_EXCL;
  return flags;
}

}  // namespace

auto fs_buffer_write(file_state* st, std::string_view data) noexcept -> bool {
  if (st == nullptr || st->fd < 0 || !st->writable || st->busy.locked() || !st->wbuf) return false;
  if (data.size() > st->capacity - st->wlen) return false;
  if (st->seekable && st->rpos != st->rend) return false;
  std::memcpy(st->wbuf.get() + st->wlen, data.data(), data.size());
  st->wlen += data.size();
  return true;
}

auto fs_write_slow(file_state* st, std::string_view data) -> task<std::size_t> {
  std::size_t taken = 0;
  try {
    check_writable(st);
    auto guard = co_await st->busy.acquire();
    check_writable(st);
    drop_read_ahead(st);
    if (st->capacity > 0 && !st->wbuf) st->wbuf = std::make_unique<char[]>(st->capacity);
    if (st->capacity > 0 && data.size() <= st->capacity - st->wlen) {
      std::memcpy(st->wbuf.get() + st->wlen, data.data(), data.size());
      st->wlen += data.size();
      co_return data.size();
    }
    if (st->wlen > 0) co_await flush_locked(st);
    if (data.size() < st->capacity) {
      std::memcpy(st->wbuf.get(), data.data(), data.size());
      st->wlen = data.size();
      taken = data.size();
    } else {
      co_await write_all(st, data, taken);
    }
    if (st->seekable) {
      st->size_hint = std::max<std::uint64_t>(st->size_hint, static_cast<std::uint64_t>(st->raw_pos));
    }
  } catch (const cancelled_error& e) {
    throw cancelled_error(partial_message(e.message(), taken, data.size()));
  }
  co_return data.size();
}

}  // namespace asyncio::detail

namespace asyncio::fs {

auto parse_mode(std::string_view mode) -> open_mode {
  unsigned base = 0;
  int kinds = 0;
  bool plus = false;
  bool bad = mode.empty();
  for (char c : mode) {
    switch (c) {
      case 'r': base = static_cast<unsigned>(open_mode::read), ++kinds; break;
      case 'w': base = static_cast<unsigned>(open_mode::write | open_mode::create | open_mode::truncate), ++kinds; break;
      case 'a': base = static_cast<unsigned>(open_mode::write | open_mode::append | open_mode::create), ++kinds; break;
      case 'x': base = static_cast<unsigned>(open_mode::write | open_mode::create | open_mode::exclusive), ++kinds; break;
      case '+': bad |= plus; plus = true; break;
      case 'b':
      case 't': break;
      default: bad = true;
    }
  }
  if (bad || kinds != 1) throw std::invalid_argument("invalid mode: '" + std::string(mode) + "'");
  auto m = static_cast<open_mode>(base);
  if (plus) m = m | open_mode::read | open_mode::write;
  return m;
}

file::file() noexcept = default;
file::file(std::unique_ptr<detail::file_state> st) noexcept : st_(std::move(st)) {}
file::file(file&& other) noexcept = default;
auto file::operator=(file&& other) noexcept -> file& {
  if (this != &other) {
    if (st_) detail::close_now(st_.get());
    st_ = std::move(other.st_);
  }
  return *this;
}
file::~file() {
  if (st_) detail::close_now(st_.get());
}

auto file::read(std::size_t n) -> task<std::string> { return detail::read_n(st_.get(), n); }
auto file::read() -> task<std::string> { return detail::read_n(st_.get(), std::string::npos); }
auto file::read_some(std::span<char> buf) -> task<std::size_t> { return detail::read_some_impl(st_.get(), buf); }
auto file::readline() -> task<std::string> { return detail::readline_impl(st_.get()); }
auto file::lines() -> generator<std::string> { return detail::lines_of(st_.get()); }
auto file::pread(std::span<char> buf, std::int64_t offset) -> task<std::size_t> {
  return detail::pread_impl(st_.get(), buf, offset);
}
auto file::pwrite(std::string_view data, std::int64_t offset) -> task<std::size_t> {
  return detail::pwrite_impl(st_.get(), data, offset);
}
auto file::seek(std::int64_t offset, whence from) -> task<std::int64_t> {
  return detail::seek_impl(st_.get(), offset, from);
}
auto file::tell() const noexcept -> std::int64_t {
  if (!st_ || !st_->seekable) return -1;
  return st_->raw_pos + static_cast<std::int64_t>(st_->wlen) - static_cast<std::int64_t>(st_->read_ahead());
}
auto file::flush() -> task<void> { return detail::flush_impl(st_.get()); }
auto file::fsync() -> task<void> { return detail::sync_impl(st_.get(), false); }
auto file::fdatasync() -> task<void> { return detail::sync_impl(st_.get(), true); }
auto file::close() -> task<void> { return detail::close_impl(st_.get()); }
auto file::stat() -> task<stat_result> { return detail::stat_impl(st_.get()); }
auto file::fd() const noexcept -> int { return st_ ? st_->fd : -1; }
auto file::path() const noexcept -> const std::filesystem::path& {
  static const std::filesystem::path none;
  return st_ ? st_->path : none;
}
auto file::mode() const noexcept -> open_mode { return st_ ? st_->mode : open_mode{}; }
auto file::closed() const noexcept -> bool { return !st_ || st_->fd < 0; }
auto file::buffered() const noexcept -> std::size_t { return st_ ? st_->wlen : 0; }
void file::discard_buffer() noexcept {
  if (st_) st_->wlen = 0;
}

auto open(std::filesystem::path path, open_mode mode, open_options options) -> task<file> {
  if (!has(mode, open_mode::read) && !has(mode, open_mode::write) && !has(mode, open_mode::append)) {
    throw std::invalid_argument("open mode needs read or write");
  }
  io::operation op = detail::fs_op(io::opcode::openat);
  op.path = path.c_str();
  op.flags = detail::to_open_flags(mode) | options.flags;
  op.mode = options.permissions;
  auto opened = static_cast<int>(co_await detail::fs_perform(op, "open", path.native()));
  detail::fd_closer fd{opened};  // closes it if anything below raises (a cancel included)
  // fstat inline, not as a second request: on an open fd it reads the inode the open just loaded
  // and never waits for the device, while a ring statx goes to the kernel's worker threads and a
  // thread-pool statx costs a second hop (bench/README.md, "Log writer": a tenth of the batched way).
  struct stat sb {};
  if (::fstat(fd.fd, &sb) < 0) detail::throw_fs_error(errno, "open", path.native());
  if (S_ISDIR(sb.st_mode)) detail::throw_fs_error(EISDIR, "open", path.native());
  auto st = std::make_unique<detail::file_state>();
  st->path = std::move(path);
  st->mode = mode;
  st->readable = has(mode, open_mode::read);
  st->writable = has(mode, open_mode::write) || has(mode, open_mode::append);
  st->append = has(mode, open_mode::append);
  st->regular = S_ISREG(sb.st_mode);
  st->seekable = S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode) ||
                 (!S_ISFIFO(sb.st_mode) && !S_ISSOCK(sb.st_mode) && ::lseek(fd.fd, 0, SEEK_CUR) >= 0);
  st->size_hint = static_cast<std::uint64_t>(sb.st_size);
  st->raw_pos = st->append && st->seekable ? static_cast<std::int64_t>(sb.st_size) : 0;
  st->capacity = options.buffering;
  st->fd = std::exchange(fd.fd, -1);
  co_return file(std::move(st));
}

auto read_file(std::filesystem::path path) -> task<std::string> {
  open_options options;
  options.buffering = 0;
  file f = co_await open(std::move(path), open_mode::read, options);
  std::string data = co_await f.read();
  co_await f.close();
  co_return data;
}

auto read_text(std::filesystem::path path) -> task<std::string> { return read_file(std::move(path)); }

namespace {
auto write_whole(std::filesystem::path path, std::string_view data, open_mode mode) -> task<void> {
  open_options options;
  options.buffering = 0;
  file f = co_await open(std::move(path), mode, options);
  co_await f.write(data);
  co_await f.close();
}
}  // namespace

auto write_file(std::filesystem::path path, std::string_view data) -> task<void> {
  return write_whole(std::move(path), data, open_mode::write | open_mode::create | open_mode::truncate);
}
auto append_file(std::filesystem::path path, std::string_view data) -> task<void> {
  return write_whole(std::move(path), data, open_mode::write | open_mode::append | open_mode::create);
}

}  // namespace asyncio::fs
