#pragma once
// fs::open and fs::file: files read and written without blocking the event loop (what aiofiles
// gives Python), buffered like Python's io.BufferedReader/BufferedWriter, plus the whole-file
// helpers read_file / read_text / write_file / append_file (pathlib's read_bytes / write_bytes).
//
//   auto dir = co_await asyncio::fs::temporary_directory();
//   auto f = co_await asyncio::fs::open(dir.path() / "log.txt", "w");   // Python: open(path, "w")
//   for (int i = 0; i < 3; ++i) {
//     co_await f.write("line " + std::to_string(i) + "\n");   // buffered: no suspension
//   }
//   co_await f.close();                                        // writes the buffer out
//   auto r = co_await asyncio::fs::open(dir.path() / "log.txt");
//   std::vector<std::string> seen;
//   auto lines = r.lines();
//   while (auto line = co_await lines.next()) {                // async for line in f:
//     seen.push_back(*line);                                   // "line 0\n", "line 1\n", ...
//   }
//   co_await r.close();
//   if (seen.size() != 3 || seen[2] != "line 2\n") throw std::logic_error("lines");
//
// How a call reaches the kernel: on the io_uring backend (lowlevel::async_files()) every read,
// write, open, fsync and close is an operation on the loop's ring; on the epoll backend (the
// default), whose file operations would block the loop, the same system call runs on the loop's
// default executor (threads/to_thread.hpp). The API and its semantics are the same on both
// (docs/fs.md, "Two backends, one behaviour").
//
// Buffering: a file opened for writing collects small writes in a buffer (open_options::buffering,
// 64 KiB by default) and writes it out when it is full, on flush() and on close(); write() copies
// into the buffer and returns without suspending while there is room, allocating nothing. Reads
// go through the same buffer (read(n), readline(), lines()). Calls from several tasks on one file
// run one at a time in the order they were made: each write's bytes stay together, in call order.
//
// Cancellation (every call): a call that has not reached the kernel is withdrawn; a system call
// already running is waited for (it cannot be interrupted; on a thread it runs to its end, on the
// ring a cancel that comes too late completes with its bytes), its result is kept, and the
// cancel is raised at the next suspension point. So a cancelled write() raises cancelled_error
// whose message says how much of its data the file took ("1048576 of 3145728 bytes written"),
// and tell() has moved by exactly that much; a cancelled read consumes nothing.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <asyncio/core/generator.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/detail/lifetimebound.hpp>
#include <asyncio/fs/stat.hpp>

namespace asyncio {
namespace detail {
struct file_state;
/// The fast path of file::write: copies `data` into the write buffer if that needs no system call
/// and no wait (the file is free, the buffer has room). False: the slow path must run.
[[nodiscard]] auto fs_buffer_write(file_state* st, std::string_view data) noexcept -> bool;
/// The slow path of file::write (waits its turn, writes the buffer out, writes or buffers data).
auto fs_write_slow(file_state* st, std::string_view data) -> task<std::size_t>;

/// The awaitable file::write returns: the buffered fast path in await_ready (no suspension, no
/// allocation), the slow path as a task otherwise. Movable until awaited.
class [[nodiscard]] file_write {
 public:
  file_write(file_state* st, std::string_view data) noexcept : st_(st), data_(data) {}

  [[nodiscard]] auto await_ready() -> bool {
    if (fs_buffer_write(st_, data_)) return true;
    slow_ = fs_write_slow(st_, data_);
    return false;
  }
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept {
    return slow_.operator co_await().await_suspend(h);
  }
  auto await_resume() -> std::size_t {
    if (!slow_.valid()) return data_.size();
    return slow_.operator co_await().await_resume();
  }

 private:
  file_state* st_;
  std::string_view data_;
  task<std::size_t> slow_;
};

/// Which way the fs layer sends its calls: `automatic` (the ring when lowlevel::async_files(),
/// else threads) or forced, for tests. `ring` on the epoll backend runs the operations inline and
/// blocking: it checks the ring path's logic, not its concurrency. Process-wide.
enum class fs_route : std::uint8_t { automatic, ring, threads };
void set_fs_route(fs_route route) noexcept;
}  // namespace detail

namespace fs {

/// How to open a file, as flags (Python's mode letters, spelled out). The mode strings of open()
/// map to them: "r" read; "w" write|create|truncate; "a" write|append|create; "x"
/// write|create|exclusive; a "+" adds read and write ("r+", "w+", "a+", "x+"); "b" and "t" are
/// accepted and change nothing (a file holds bytes; std::string carries them).
enum class open_mode : unsigned {
  read = 1U << 0,       // O_RDONLY, or O_RDWR with write
  write = 1U << 1,      // O_WRONLY, or O_RDWR with read
  append = 1U << 2,     // O_APPEND: every write goes to the end of the file
  create = 1U << 3,     // O_CREAT: create the file if it does not exist
  truncate = 1U << 4,   // O_TRUNC: empty an existing file
  exclusive = 1U << 5,  // O_EXCL (with create): fail with file_exists_error if it exists
};
[[nodiscard]] constexpr auto operator|(open_mode a, open_mode b) noexcept -> open_mode {
  return static_cast<open_mode>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
[[nodiscard]] constexpr auto operator&(open_mode a, open_mode b) noexcept -> open_mode {
  return static_cast<open_mode>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
/// True if `mode` has every flag of `flags`.
[[nodiscard]] constexpr auto has(open_mode mode, open_mode flags) noexcept -> bool { return (mode & flags) == flags; }

/// The flags of a Python mode string ("r", "w", "a", "x", with "+", "b", "t").
/// Throws: std::invalid_argument for anything else ("invalid mode: 'rw'").
[[nodiscard]] auto parse_mode(std::string_view mode) -> open_mode;

/// The default size of a file's buffer (Python's io.DEFAULT_BUFFER_SIZE is 8 KiB; 64 KiB makes
/// fewer, larger system calls, which matters more when each one is a trip to a thread).
inline constexpr std::size_t default_buffer_size = 64 * 1024;

/// Options of open().
struct open_options {
  /// Size of the read/write buffer in bytes; 0 = unbuffered (every write() is written at once).
  std::size_t buffering = default_buffer_size;
  /// Permissions of a file that open() creates, before the umask (Python's os.open mode).
  unsigned permissions = 0666;
  /// More open(2) flags, or-ed in: O_SYNC, O_DSYNC, O_NOFOLLOW, O_NOATIME... (O_CLOEXEC is always set).
  int flags = 0;
};

/// Where seek() counts from (Python's os.SEEK_SET / SEEK_CUR / SEEK_END).
enum class whence : std::uint8_t { set, current, end };

/// An open file (Python's file object as aiofiles returns it). Move-only; a moved-from file is
/// closed. The file's state lives on the heap, so moving the handle does not disturb calls in
/// flight, but the file must outlive them (as an asyncio::lock must outlive its waiters).
///
/// The position: reads and writes go to the file position, which tell() reports without a
/// system call and seek() moves; pread/pwrite use their own offset and leave it. A file that has
/// no positions (a pipe, a terminal) reads and writes in order and cannot seek. In append mode
/// every write goes to the end of the file (O_APPEND); tell() then counts from the size the file
/// had at open, plus what this file wrote.
///
/// Closing: await close(). It writes the buffer out, closes the fd, and leaves the file closed
/// whatever happens, even when it raises (an error, or a cancel: then the bytes not written are
/// dropped and the message says how many were written). A file destroyed without close() closes
/// its fd at once; if its buffer still holds data, that is written first, synchronously (the loop's
/// thread blocks for it), and the loop's exception handler is told, because that blocking write
/// is a bug to fix: "fs: file '/tmp/x' destroyed without close(): 42 buffered bytes written
/// synchronously". Python's file objects do the same when garbage-collected (with a
/// ResourceWarning); dropping the data would lose writes that the program believed done. A write
/// that fails then is reported the same way (the data is lost).
///
/// Thread safety: loop-affine; calls from several tasks of the file's loop are serialised.
class file {
 public:
  /// A closed file.
  file() noexcept;
  file(file&& other) noexcept;
  /// Closes this file as the destructor does, then takes `other`.
  auto operator=(file&& other) noexcept -> file&;
  file(const file&) = delete;
  auto operator=(const file&) -> file& = delete;
  /// Closes the file if open(): see "Closing" above.
  ~file();

  /// Reads n bytes; fewer only at the end of the file; "" at the end (Python's read(n)).
  /// Cancellation: safe; nothing is consumed (the bytes read so far stay buffered).
  /// Resumes: on the task's loop once n bytes or the end were read.
  /// Throws: os_error (the message names the path); invalid_state_error if the file is closed or
  /// was not opened for reading.
  auto read(std::size_t n) -> task<std::string>;
  /// Reads to the end of the file (Python's read()).
  /// Cancellation: as read(n). Resumes: once the end was read. Throws: as read(n).
  auto read() -> task<std::string>;
  /// Reads at most buf.size() bytes with at most one system call (none if the buffer holds data);
  /// 0 at the end of the file (Python's readinto / read1).
  /// Cancellation: as read(n). Resumes: once some bytes or the end were read. Throws: as read(n).
  auto read_some(std::span<char> buf ASYNCIO_LIFETIMEBOUND) -> task<std::size_t>;
  /// One line including its "\n"; the last line may lack it; "" at the end (Python's readline).
  /// Lines of any length work (they are not limited to the buffer's size).
  /// Cancellation: as read(n): the bytes of the unfinished line stay buffered.
  /// Resumes: once a whole line or the end was read. Throws: as read(n).
  auto readline() -> task<std::string>;
  /// The lines of the file from the position on, each with its "\n" (the last may lack it),
  /// until the end (Python's `async for line in f`). The generator uses the file, which must
  /// outlive it.
  ///
  /// Cancellation: raised from next(), as readline's; the generator is then finished.
  /// Resumes: next() resumes once a line or the end was read.
  /// Throws: from next(): as read(n).
  [[nodiscard]] auto lines() -> generator<std::string>;

  /// Writes all of `data` (Python's write), returning data.size(). Buffered (the default): copies
  /// into the buffer and returns without suspending when it fits; otherwise waits for earlier
  /// calls on this file, writes the buffer out, then buffers `data` or, if it is at least as large
  /// as the buffer, writes it directly. Unbuffered: writes it at once. `data` must stay valid
  /// until the write completes.
  ///
  /// Cancellation: raises cancelled_error with the message "N of M bytes written" (after the
  /// cancel's own message and "; ", if it has one): the first N bytes of `data` were taken (they
  /// are in the file, or in the buffer to be written by the next flush), the rest were not;
  /// tell() has moved by N. Bytes of earlier writes still buffered stay buffered.
  /// Resumes: at once when buffered, else after the system calls.
  /// Throws: os_error (e.g. "write '/x': No space left on device"); invalid_state_error if the
  /// file is closed or not writable.
  [[nodiscard]] auto write(std::string_view data ASYNCIO_LIFETIMEBOUND) noexcept -> detail::file_write {
    return {st_.get(), data};
  }

  /// Reads into buf from `offset` until buf is full or the end of the file; returns the bytes
  /// read. The file position does not move (Python's os.pread, repeated until buf is full).
  /// Buffered writes are written out first, so it sees them.
  /// Cancellation: safe; bytes read before the cancel are in buf, but the count is lost.
  /// Resumes: once buf is full or the end was read. Throws: as read(n); os_error for a pipe.
  auto pread(std::span<char> buf ASYNCIO_LIFETIMEBOUND, std::int64_t offset) -> task<std::size_t>;
  /// Writes all of `data` at `offset`, without moving the file position (Python's os.pwrite,
  /// looped until everything is written). Buffered writes are written out first.
  /// Cancellation: as write(): "N of M bytes written" counts the bytes of data written at offset.
  /// Resumes: once everything was written. Throws: as write(); os_error for a pipe.
  auto pwrite(std::string_view data ASYNCIO_LIFETIMEBOUND, std::int64_t offset) -> task<std::size_t>;

  /// Moves the file position (Python's seek) and returns the new one. Writes the buffer out first.
  /// Cancellation: safe; the position moves only if seek returns.
  /// Resumes: once the buffer was written (and, for whence::end, the size read).
  /// Throws: os_error with EINVAL for a negative position, ESPIPE for a pipe (its message names
  /// the path); invalid_state_error if closed.
  auto seek(std::int64_t offset, whence from = whence::set) -> task<std::int64_t>;
  /// The file position, buffered bytes included (Python's tell). No system call.
  [[nodiscard]] auto tell() const noexcept -> std::int64_t;

  /// Writes the buffer out (Python's flush). Does not ask the device to store it: fsync does.
  /// Cancellation: raises cancelled_error "N of M bytes written" (M: the bytes that were
  /// buffered); the rest stays buffered.
  /// Resumes: once written. Throws: os_error; invalid_state_error if closed.
  auto flush() -> task<void>;
  /// flush(), then fsync(2): the data and metadata reach the device (Python's os.fsync).
  /// Cancellation: as flush; a running fsync is waited for. Resumes: once done. Throws: as flush.
  auto fsync() -> task<void>;
  /// flush(), then fdatasync(2): the data reach the device, metadata only as needed to read them.
  /// Cancellation: as fsync. Resumes: once done. Throws: as flush.
  auto fdatasync() -> task<void>;
  /// flush() and close the fd. Afterwards the file is closed, even if this raises. Closing a
  /// closed file does nothing.
  /// Cancellation: the file is closed all the same; bytes not yet written are dropped and
  /// cancelled_error says "N of M bytes written".
  /// Resumes: once closed. Throws: os_error from writing the buffer or from close(2).
  auto close() -> task<void>;

  /// The status of the open file (fstat).
  /// Cancellation: safe. Resumes: once statx returned. Throws: os_error; invalid_state_error if closed.
  auto stat() -> task<stat_result>;

  /// The file descriptor; -1 if closed. Using it directly bypasses the buffer: flush() first.
  [[nodiscard]] auto fd() const noexcept -> int;
  /// The path the file was opened with (empty for a default-constructed file).
  [[nodiscard]] auto path() const noexcept -> const std::filesystem::path&;
  /// The mode the file was opened with.
  [[nodiscard]] auto mode() const noexcept -> open_mode;
  [[nodiscard]] auto closed() const noexcept -> bool;
  /// Bytes written to the buffer and not yet to the file.
  [[nodiscard]] auto buffered() const noexcept -> std::size_t;

 protected:
  /// Forgets the bytes still buffered (temp_file, whose file is going away).
  void discard_buffer() noexcept;

 private:
  friend auto open(std::filesystem::path path, open_mode mode, open_options options) -> task<file>;
  explicit file(std::unique_ptr<detail::file_state> st) noexcept;
  std::unique_ptr<detail::file_state> st_;
};

/// Opens `path` with the flags of `mode` (Python's open / aiofiles.open; the flags form, e.g.
/// `open_mode::write | open_mode::create | open_mode::exclusive`).
///
/// Cancellation: safe: no fd is left open; a file created before the cancel took effect stays.
/// Resumes: on the task's loop once the file is open.
/// Throws: os_error whose message names the path: file_not_found_error ("open '/tmp/x': No such
/// file or directory"), file_exists_error (exclusive), permission_error, is_a_directory_error
/// (also for reading a directory, as Python); std::invalid_argument if `mode` has neither read
/// nor write.
auto open(std::filesystem::path path, open_mode mode, open_options options = {}) -> task<file>;

/// Opens `path` with a Python mode string: "r" (the default), "w", "a", "x", "r+", "w+", "a+",
/// "x+" ("b" and "t" allowed). See open_mode for what each means.
/// Cancellation: as above. Resumes: as above.
/// Throws: as above; std::invalid_argument for an invalid mode, before anything is done.
inline auto open(std::filesystem::path path, std::string_view mode = "r", open_options options = {}) -> task<file> {
  return open(std::move(path), parse_mode(mode), options);
}

/// The whole content of a file (Python's Path.read_bytes). One open, reads of up to 1 MiB, close.
/// Cancellation: safe; the file is closed. Resumes: once read. Throws: as open and read.
auto read_file(std::filesystem::path path) -> task<std::string>;
/// read_file: the bytes as they are, no decoding (Python's Path.read_text without the decoding).
/// Cancellation: as read_file. Resumes: as read_file. Throws: as read_file.
auto read_text(std::filesystem::path path) -> task<std::string>;
/// Replaces the content of `path` with `data`, creating the file (permissions 0666 before the
/// umask) if needed (Python's Path.write_bytes). Not atomic: write a temporary file and rename it
/// for that.
/// Cancellation: raises cancelled_error "N of M bytes written"; the file then holds the first N
/// bytes. Resumes: once written and closed. Throws: as open and write.
auto write_file(std::filesystem::path path, std::string_view data ASYNCIO_LIFETIMEBOUND) -> task<void>;
/// Appends `data` to `path`, creating it if needed (open(path, "a"), one write, close).
/// Cancellation: as write_file. Resumes: as write_file. Throws: as open and write.
auto append_file(std::filesystem::path path, std::string_view data ASYNCIO_LIFETIMEBOUND) -> task<void>;

}  // namespace fs
}  // namespace asyncio
