// fs::open and fs::file: modes and flags, permissions, reads and writes, pread/pwrite, seek/tell,
// lines, large files, buffering (no suspension, no allocation), concurrent writers, flush/close and
// the destructor's rule, fsync, whole-file helpers, cancellation of writes, reads and close, and the
// path in error messages. Every test runs on each route of the fs dispatch (src/fs/dispatch.hpp):
// automatic (the loop's backend decides), threads, and ring (on the epoll backend the ring route
// runs the operations inline: it checks the ring path's logic, not its concurrency). Tests that
// depend on the route say so; none assumes a backend.
// test-label: threaded
#include <asyncio/asyncio.hpp>
#include <asyncio/lowlevel/io_operation.hpp>

#include <gtest/gtest.h>

#include <support/fs_helpers.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace fs = asyncio::fs;
using route = asyncio::detail::fs_route;

// ---- allocation counting (the buffered write's promise: no allocation) -----------------------------
// Not under TSan: its runtime defines operator new itself, so a replacement does not link
// (docs/toolchain.md §3); the test that counts is skipped there.
#if defined(__SANITIZE_THREAD__)
#define FS_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FS_TEST_UNDER_TSAN 1
#endif
#endif
#ifndef FS_TEST_UNDER_TSAN
#define FS_TEST_UNDER_TSAN 0
#endif
namespace {
std::atomic<long> allocations{0};
}  // namespace
#if !FS_TEST_UNDER_TSAN
// g++ inlines these into the library's and GoogleTest's call sites and then sees malloc'ed memory
// passed to free as a mismatch: it is not (both are the replacements below).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
// NOLINTBEGIN(misc-new-delete-overloads)
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// NOLINTEND(misc-new-delete-overloads)
#endif

namespace {

auto slurp(const std::filesystem::path& p) -> std::string {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

/// Bytes that differ at every position, so that a misplaced chunk shows.
auto pattern(std::size_t n, unsigned seed = 1) -> std::string {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761U + 1;
  for (auto& c : s) {
    x = x * 1664525U + 1013904223U;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

/// "N of M bytes written" -> N (npos if the message has no such part).
auto written_of(const std::string& message) -> std::size_t {
  auto at = message.find(" of ");
  if (at == std::string::npos) return std::string::npos;
  auto start = message.rfind(' ', at - 1);
  start = start == std::string::npos ? 0 : start + 1;
  return std::stoull(message.substr(start, at - start));
}

/// An executor whose jobs run only when the test says so (on the calling thread).
class manual_executor final : public asyncio::executor {
 public:
  void post(asyncio::detail::pool_job& job) override { jobs_.push_back(&job); }
  auto shutdown(bool, std::optional<asyncio::duration>) -> asyncio::shutdown_report override {
    while (!jobs_.empty()) run_one();
    return {};
  }
  [[nodiscard]] auto queued() const -> std::size_t { return jobs_.size(); }
  void run_one() {
    auto* j = jobs_.front();
    jobs_.pop_front();
    j->execute(j, true);
  }

 private:
  std::deque<asyncio::detail::pool_job*> jobs_;
};

/// Sleeps (a loop iteration at a time) until pred() holds.
template <class P>
auto until(P pred) -> asyncio::task<void> {
  for (int i = 0; i < 100000 && !pred(); ++i) co_await asyncio::sleep(0s);
  EXPECT_TRUE(pred());
}

class FileTest : public test_support::fs_route_test {
 protected:
  /// True when the calls go to the executor (so that a manual executor controls them).
  static auto on_threads() -> bool {
    return GetParam() == route::threads || (GetParam() == route::automatic && !asyncio::lowlevel::async_files());
  }
};

auto route_name(const ::testing::TestParamInfo<route>& info) -> std::string {
  switch (info.param) {
    case route::automatic: return "automatic";
    case route::ring: return "ring";
    case route::threads: return "threads";
  }
  return "unknown";
}

// ---- modes, flags, permissions, errors ----------------------------------------------------------

TEST(FsMode, PythonModeStrings) {
  using m = fs::open_mode;
  EXPECT_EQ(fs::parse_mode("r"), m::read);
  EXPECT_EQ(fs::parse_mode("rb"), m::read);
  EXPECT_EQ(fs::parse_mode("w"), m::write | m::create | m::truncate);
  EXPECT_EQ(fs::parse_mode("a"), m::write | m::append | m::create);
  EXPECT_EQ(fs::parse_mode("x"), m::write | m::create | m::exclusive);
  EXPECT_EQ(fs::parse_mode("r+"), m::read | m::write);
  EXPECT_EQ(fs::parse_mode("w+b"), m::read | m::write | m::create | m::truncate);
  EXPECT_EQ(fs::parse_mode("a+"), m::read | m::write | m::append | m::create);
  for (const char* bad : {"", "q", "rw", "r++", "+", "b", "wa"}) {
    EXPECT_THROW((void)fs::parse_mode(bad), std::invalid_argument) << bad;
  }
  try {
    (void)fs::parse_mode("rw");
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "invalid mode: 'rw'");
  }
}

TEST_P(FileTest, MissingFileRaisesFileNotFoundNamingThePath) {
  std::string message = asyncio::run([](std::filesystem::path p) -> asyncio::task<std::string> {
    try {
      auto f = co_await fs::open(p);
    } catch (const asyncio::file_not_found_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }(dir_ / "missing.txt"));
  EXPECT_EQ(message, "open '" + (dir_ / "missing.txt").native() + "': No such file or directory");
}

TEST_P(FileTest, ExclusiveOnAnExistingFileRaisesFileExists) {
  spit(dir_ / "x", "old");
  auto outcome = asyncio::run([](std::filesystem::path p) -> asyncio::task<std::string> {
    try {
      auto f = co_await fs::open(p, "x");
    } catch (const asyncio::file_exists_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }(dir_ / "x"));
  EXPECT_EQ(outcome, "open '" + (dir_ / "x").native() + "': File exists");
  EXPECT_EQ(slurp(dir_ / "x"), "old");
  // The flags form, on a new name: created.
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto f = co_await fs::open(p, fs::open_mode::write | fs::open_mode::create | fs::open_mode::exclusive);
    co_await f.write("new");
    co_await f.close();
  }(dir_ / "y"));
  EXPECT_EQ(slurp(dir_ / "y"), "new");
}

TEST_P(FileTest, DirectoriesRaiseIsADirectory) {
  auto outcome = asyncio::run([](std::filesystem::path p) -> asyncio::task<int> {
    int caught = 0;
    for (const char* mode : {"r", "w", "a"}) {
      try {
        auto f = co_await fs::open(p, mode);
      } catch (const asyncio::is_a_directory_error& e) {
        caught += std::string(e.what()) == "open '" + p.native() + "': Is a directory";
      }
    }
    co_return caught;
  }(dir_));
  EXPECT_EQ(outcome, 3);
}

TEST_P(FileTest, ModesCreateTruncateAndRefuseTheWrongDirection) {
  spit(dir_ / "f", "0123456789");
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    {
      auto r = co_await fs::open(p, "r");
      EXPECT_THROW(co_await r.write("x"), asyncio::invalid_state_error);
      EXPECT_EQ(co_await r.read(4), "0123");
      co_await r.close();
    }
    {
      auto w = co_await fs::open(p, "w");  // truncates
      EXPECT_THROW(co_await w.read(1), asyncio::invalid_state_error);
      co_await w.write("ab");
      co_await w.close();
    }
    EXPECT_EQ(co_await fs::read_file(p), "ab");
    {
      auto rw = co_await fs::open(p, "r+");  // no truncation, position 0
      co_await rw.write("X");
      EXPECT_EQ(co_await rw.read(), "b");
      co_await rw.close();
    }
    EXPECT_EQ(co_await fs::read_file(p), "Xb");
    {
      auto wr = co_await fs::open(p, "w+");
      co_await wr.write("hello");
      EXPECT_EQ(co_await wr.seek(0), 0);
      EXPECT_EQ(co_await wr.read(), "hello");
      co_await wr.close();
    }
    EXPECT_THROW((void)co_await fs::open(p, fs::open_mode::create), std::invalid_argument);
  }(dir_ / "f"));
}

TEST_P(FileTest, PermissionsOfACreatedFile) {
  mode_t old = ::umask(022);
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    fs::open_options options;
    options.permissions = 0640;
    auto f = co_await fs::open(p / "a", "w", options);
    co_await f.close();
    auto g = co_await fs::open(p / "b", "w");  // 0666 less the umask
    co_await g.close();
    EXPECT_EQ((co_await fs::stat(p / "a")).permissions(), 0640U);
    EXPECT_EQ((co_await fs::stat(p / "b")).permissions(), 0644U);
  }(dir_));
  ::umask(old);
}

TEST_P(FileTest, ClosedFilesRefuseEverything) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto f = co_await fs::open(p, "w+");
    co_await f.close();
    co_await f.close();  // again: nothing
    EXPECT_TRUE(f.closed());
    EXPECT_EQ(f.fd(), -1);
    try {
      co_await f.write("x");
      ADD_FAILURE() << "write on a closed file";
    } catch (const asyncio::invalid_state_error& e) {
      EXPECT_STREQ(e.what(), "I/O operation on closed file");
    }
    EXPECT_THROW(co_await f.read(), asyncio::invalid_state_error);
    EXPECT_THROW(co_await f.flush(), asyncio::invalid_state_error);
    EXPECT_THROW(co_await f.seek(0), asyncio::invalid_state_error);
    EXPECT_THROW(co_await f.stat(), asyncio::invalid_state_error);
    fs::file none;
    EXPECT_TRUE(none.closed());
    EXPECT_THROW(co_await none.write("x"), asyncio::invalid_state_error);
    co_await none.close();
  }(dir_ / "f"));
}

// ---- reads and writes ----------------------------------------------------------------------------

TEST_P(FileTest, WriteThenReadInPieces) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto w = co_await fs::open(p, "w");
    EXPECT_EQ(co_await w.write("hello "), 6U);
    EXPECT_EQ(co_await w.write("world"), 5U);
    EXPECT_EQ(w.tell(), 11);
    EXPECT_EQ(w.path(), p);
    EXPECT_GE(w.fd(), 0);
    co_await w.close();
    auto r = co_await fs::open(p);
    EXPECT_EQ(co_await r.read(5), "hello");
    EXPECT_EQ(r.tell(), 5);
    std::array<char, 3> buf{};
    EXPECT_EQ(co_await r.read_some(buf), 3U);
    EXPECT_EQ(std::string(buf.data(), 3), " wo");
    EXPECT_EQ(co_await r.read(100), "rld");
    EXPECT_EQ(co_await r.read(100), "");
    EXPECT_EQ(co_await r.read_some(buf), 0U);
    EXPECT_EQ(co_await r.read(), "");
    co_await r.close();
  }(dir_ / "f"));
}

TEST_P(FileTest, UnbufferedReadsAndWrites) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    fs::open_options unbuffered;
    unbuffered.buffering = 0;
    auto w = co_await fs::open(p, "w+", unbuffered);
    co_await w.write("abc");
    EXPECT_EQ(w.buffered(), 0U);
    EXPECT_EQ((co_await fs::stat(p)).size, 3U);  // in the file at once
    co_await w.seek(0);
    EXPECT_EQ(co_await w.read(2), "ab");
    EXPECT_EQ(co_await w.readline(), "c");
    co_await w.close();
  }(dir_ / "f"));
}

TEST_P(FileTest, AppendModeWritesAtTheEnd) {
  spit(dir_ / "log", "first\n");
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto a = co_await fs::open(p, "a");
    EXPECT_EQ(a.tell(), 6);
    co_await a.write("second\n");
    co_await a.close();
    co_await fs::append_file(p, "third\n");
    auto ap = co_await fs::open(p, "a+");
    co_await ap.seek(0);
    EXPECT_EQ(co_await ap.readline(), "first\n");
    co_await ap.write("fourth\n");  // O_APPEND: to the end, whatever the position
    co_await ap.close();
    EXPECT_EQ(co_await fs::read_file(p), "first\nsecond\nthird\nfourth\n");
  }(dir_ / "log"));
}

TEST_P(FileTest, PreadAndPwriteLeaveThePosition) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto f = co_await fs::open(p, "w+");
    co_await f.write("0123456789");  // buffered: pread must see it
    std::array<char, 4> buf{};
    EXPECT_EQ(co_await f.pread(buf, 3), 4U);
    EXPECT_EQ(std::string(buf.data(), 4), "3456");
    EXPECT_EQ(f.tell(), 10);
    EXPECT_EQ(co_await f.pwrite("AB", 1), 2U);
    EXPECT_EQ(f.tell(), 10);
    EXPECT_EQ(co_await f.pread(buf, 8), 2U);  // to the end
    EXPECT_EQ(std::string(buf.data(), 2), "89");
    co_await f.write("!");
    co_await f.close();
    EXPECT_EQ(co_await fs::read_file(p), "0AB3456789!");
  }(dir_ / "f"));
}

TEST_P(FileTest, SeekAndTell) {
  spit(dir_ / "f", "abcdefghij");
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto f = co_await fs::open(p, "r+");
    EXPECT_EQ(co_await f.read(3), "abc");
    EXPECT_EQ(co_await f.seek(2, fs::whence::current), 5);
    EXPECT_EQ(co_await f.read(1), "f");
    EXPECT_EQ(co_await f.seek(-2, fs::whence::end), 8);
    EXPECT_EQ(co_await f.read(), "ij");
    EXPECT_EQ(co_await f.seek(1), 1);
    co_await f.write("BC");  // drops the read-ahead, writes at 1
    EXPECT_EQ(f.tell(), 3);
    EXPECT_EQ(co_await f.read(2), "de");  // writes the buffer out first
    try {
      co_await f.seek(-1);
      ADD_FAILURE() << "negative position";
    } catch (const asyncio::os_error& e) {
      EXPECT_EQ(e.code().value(), EINVAL);
      EXPECT_NE(std::string(e.what()).find("seek '" + p.native() + "'"), std::string::npos);
    }
    EXPECT_EQ(co_await f.seek(20), 20);  // past the end is allowed
    EXPECT_EQ(co_await f.read(), "");
    co_await f.close();
    EXPECT_EQ(co_await fs::read_file(p), "aBCdefghij");
  }(dir_ / "f"));
}

TEST_P(FileTest, LinesAndReadline) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    co_await fs::write_file(p / "three", "one\ntwo\n\nlast");
    auto f = co_await fs::open(p / "three");
    std::vector<std::string> got;
    auto lines = f.lines();
    while (auto line = co_await lines.next()) got.push_back(*line);
    EXPECT_EQ(got, (std::vector<std::string>{"one\n", "two\n", "\n", "last"}));
    EXPECT_EQ(co_await f.readline(), "");
    co_await f.close();

    co_await fs::write_file(p / "empty", "");
    auto e = co_await fs::open(p / "empty");
    auto none = e.lines();
    EXPECT_FALSE(co_await none.next());
    co_await e.close();
  }(dir_));
}

TEST_P(FileTest, LongLinesAcrossBufferBoundaries) {
  std::string a(100000, 'a');
  std::string b(33, 'b');
  std::string c(70000, 'c');
  spit(dir_ / "long", a + "\n" + b + "\n" + c);
  auto got = asyncio::run([](std::filesystem::path p) -> asyncio::task<std::vector<std::size_t>> {
    fs::open_options small;
    small.buffering = 16;  // far shorter than the lines (reads use at least 8 KiB)
    auto f = co_await fs::open(p, "r", small);
    std::vector<std::size_t> sizes;
    auto lines = f.lines();
    while (auto line = co_await lines.next()) sizes.push_back(line->size());
    co_await f.close();
    co_return sizes;
  }(dir_ / "long"));
  EXPECT_EQ(got, (std::vector<std::size_t>{a.size() + 1, b.size() + 1, c.size()}));
}

TEST_P(FileTest, LargeFileRoundTrip) {
  const std::string data = pattern(24 << 20);
  auto back = asyncio::run([](std::filesystem::path p, const std::string* data) -> asyncio::task<std::string> {
    auto f = co_await fs::open(p, "w");
    // Pieces of changing sizes: buffered ones, and some larger than the buffer (written directly).
    std::size_t at = 0;
    std::size_t step = 1;
    while (at < data->size()) {
      std::size_t n = std::min(step, data->size() - at);
      co_await f.write(std::string_view(*data).substr(at, n));
      at += n;
      step = step * 3 % 200003 + 1;
    }
    EXPECT_EQ(f.tell(), static_cast<std::int64_t>(data->size()));
    co_await f.close();
    EXPECT_EQ((co_await fs::stat(p)).size, data->size());
    co_return co_await fs::read_file(p);
  }(dir_ / "big", &data));
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
}

TEST_P(FileTest, ReadInChunksOfALargeFile) {
  const std::string data = pattern(9 << 20, 7);
  spit(dir_ / "big", data);
  auto back = asyncio::run([](std::filesystem::path p) -> asyncio::task<std::string> {
    auto f = co_await fs::open(p);
    std::string out;
    std::size_t n = 1;
    for (;;) {
      std::string piece = co_await f.read(n);
      if (piece.empty()) break;
      out += piece;
      n = n * 7 % 3000017 + 1;
    }
    co_await f.close();
    co_return out;
  }(dir_ / "big"));
  EXPECT_TRUE(back == data);
}

// ---- buffering -----------------------------------------------------------------------------------

TEST_P(FileTest, BufferedWritesReachTheFileOnFlushOrWhenFull) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    fs::open_options options;
    options.buffering = 100;
    auto f = co_await fs::open(p, "w", options);
    co_await f.write(std::string(60, 'a'));
    EXPECT_EQ(f.buffered(), 60U);
    EXPECT_EQ((co_await fs::stat(p)).size, 0U);
    co_await f.write(std::string(30, 'b'));
    EXPECT_EQ(f.buffered(), 90U);
    co_await f.write(std::string(20, 'c'));  // does not fit: the 90 go out, the 20 are buffered
    EXPECT_EQ(f.buffered(), 20U);
    EXPECT_EQ((co_await fs::stat(p)).size, 90U);
    co_await f.write(std::string(500, 'd'));  // larger than the buffer: the 20, then directly
    EXPECT_EQ(f.buffered(), 0U);
    EXPECT_EQ((co_await fs::stat(p)).size, 610U);
    co_await f.write("e");
    co_await f.flush();
    EXPECT_EQ((co_await fs::stat(p)).size, 611U);
    co_await f.fsync();
    co_await f.write("f");
    co_await f.fdatasync();
    EXPECT_EQ((co_await f.stat()).size, 612U);
    co_await f.close();
  }(dir_ / "f"));
  EXPECT_EQ(slurp(dir_ / "f"), std::string(60, 'a') + std::string(30, 'b') + std::string(20, 'c') +
                                   std::string(500, 'd') + "ef");
}

auto small_writes(fs::file* f, int n) -> asyncio::task<void> {
  for (int i = 0; i < n; ++i) co_await f->write("0123456789abcdef");
}

TEST_P(FileTest, ABufferedWriteThatFitsNeitherSuspendsNorAllocates) {
  if (FS_TEST_UNDER_TSAN) GTEST_SKIP() << "TSan's runtime owns operator new: allocations are not counted";
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto f = co_await fs::open(p, "w");
    co_await f.write("x");  // the buffer is made by the first write
    // Eager task: if no write suspends, it is done when create_task returns.
    auto t = asyncio::create_task(small_writes(&f, 1000));
    EXPECT_TRUE(t.done());
    co_await t;
    long before = allocations.load();
    for (int i = 0; i < 1000; ++i) co_await f.write("0123456789abcdef");
    EXPECT_EQ(allocations.load() - before, 0);
    EXPECT_EQ(f.buffered(), 1U + 2 * 16000U);
    co_await f.close();
    EXPECT_EQ((co_await fs::stat(p)).size, 1U + 2 * 16000U);
  }(dir_ / "f"));
}

// Many tasks write lines of all sizes (some larger than the buffer) to one file: every line stays
// whole, and lines appear in the order of the write calls (each carries a global call number).
auto line_writer(fs::file* f, int task, int lines, int* calls) -> asyncio::task<void> {
  for (int i = 0; i < lines; ++i) {
    int call = (*calls)++;
    std::size_t pad = static_cast<std::size_t>((call * 7919) % 9000);
    std::string line = std::to_string(call) + " " + std::to_string(task) + " " + std::to_string(i) + " " +
                       std::string(pad, 'a' + task % 26) + "\n";
    co_await f->write(line);
    if (i % 3 == 0) co_await asyncio::sleep(0s);
  }
}

TEST_P(FileTest, ConcurrentWritersKeepLinesWholeAndInCallOrder) {
  for (const char* mode : {"w", "a"}) {
    std::filesystem::path p = dir_ / mode;
    asyncio::run([](std::filesystem::path p, std::string mode) -> asyncio::task<void> {
      fs::open_options options;
      options.buffering = 4096;
      auto f = co_await fs::open(p, mode, options);
      int calls = 0;
      std::vector<asyncio::task_handle<void>> tasks;
      for (int t = 0; t < 40; ++t) tasks.push_back(asyncio::create_task(line_writer(&f, t, 25, &calls)));
      for (auto& t : tasks) co_await t;
      co_await f.close();
    }(p, mode));
    std::ifstream in(p);
    std::string line;
    int expected_call = 0;
    std::vector<int> next_of_task(40, 0);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      int call = -1, task = -1, i = -1;
      std::string pad;
      fields >> call >> task >> i;
      fields.get();
      std::getline(fields, pad);
      ASSERT_EQ(call, expected_call) << mode;
      ++expected_call;
      ASSERT_GE(task, 0);
      ASSERT_LT(task, 40);
      EXPECT_EQ(i, next_of_task[static_cast<std::size_t>(task)]++);
      EXPECT_EQ(pad, std::string(static_cast<std::size_t>((call * 7919) % 9000), static_cast<char>('a' + task % 26)));
    }
    EXPECT_EQ(expected_call, 40 * 25) << mode;
  }
}

// ---- close and the destructor's rule ---------------------------------------------------------------

TEST_P(FileTest, DestroyedWithBufferedDataWritesItAndReports) {
  auto reports = asyncio::run([](std::filesystem::path p) -> asyncio::task<std::vector<std::string>> {
    auto messages = std::make_shared<std::vector<std::string>>();
    asyncio::get_running_loop().set_exception_handler(
        [messages](asyncio::event_loop&, const asyncio::exception_context& c) { messages->push_back(c.message); });
    {
      auto f = co_await fs::open(p / "kept", "w");
      co_await f.write("not lost");
    }  // destroyed without close()
    {
      auto g = co_await fs::open(p / "quiet", "w");
      co_await g.write("flushed");
      co_await g.flush();
    }  // nothing buffered: closed silently
    {
      auto h = co_await fs::open(p / "kept");
    }  // read only: silent
    co_return *messages;
  }(dir_));
  EXPECT_EQ(slurp(dir_ / "kept"), "not lost");
  EXPECT_EQ(slurp(dir_ / "quiet"), "flushed");
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0], "fs: file '" + (dir_ / "kept").native() +
                            "' destroyed without close(): 8 buffered bytes written synchronously (blocking the "
                            "loop); await close()");
}

TEST_P(FileTest, MoveKeepsTheFileAndMoveAssignmentClosesTheOld) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto a = co_await fs::open(p / "a", "w");
    co_await a.write("A");
    fs::file b = std::move(a);
    EXPECT_TRUE(a.closed());
    co_await b.write("B");
    auto c = co_await fs::open(p / "c", "w");
    co_await c.write("C");
    co_await c.flush();
    c = std::move(b);  // c's old file closes here
    co_await c.close();
    EXPECT_EQ(co_await fs::read_file(p / "a"), "AB");
    EXPECT_EQ(co_await fs::read_file(p / "c"), "C");
  }(dir_));
}

TEST_P(FileTest, WholeFileHelpers) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    co_await fs::write_file(p, "one");
    co_await fs::write_file(p, "two");  // replaces
    co_await fs::append_file(p, "+three");
    EXPECT_EQ(co_await fs::read_file(p), "two+three");
    EXPECT_EQ(co_await fs::read_text(p), "two+three");
    co_await fs::write_file(p, "");
    EXPECT_EQ(co_await fs::read_file(p), "");
    EXPECT_THROW(co_await fs::read_file(p.parent_path() / "nope"), asyncio::file_not_found_error);
  }(dir_ / "f"));
}

// ---- cancellation ----------------------------------------------------------------------------------

auto cancelled_message(asyncio::task_handle<std::size_t>& t) -> asyncio::task<std::string> {
  try {
    co_await t;
  } catch (const asyncio::cancelled_error& e) {
    co_return e.message();
  }
  co_return "completed";
}

// Backend-agnostic: a write cancelled at once reports N bytes written, and exactly N are in the file
// and counted by tell() (N is M when the write finished before the cancel).
TEST_P(FileTest, ACancelledWriteReportsWhatTheFileTook) {
  const std::string data = pattern(3 << 20);
  asyncio::run([](std::filesystem::path p, const std::string* data) -> asyncio::task<void> {
    fs::open_options unbuffered;
    unbuffered.buffering = 0;
    auto f = co_await fs::open(p, "w", unbuffered);
    auto t = asyncio::create_task(f.write(*data));
    t.cancel();
    std::string message = co_await cancelled_message(t);
    std::size_t n = message == "completed" ? data->size() : written_of(message);
    EXPECT_NE(n, std::string::npos) << message;
    EXPECT_EQ(f.tell(), static_cast<std::int64_t>(n));
    co_await f.close();
    std::string back = co_await fs::read_file(p);
    EXPECT_EQ(back.size(), n);
    EXPECT_TRUE(back == data->substr(0, n));
  }(dir_ / "f", &data));
}

// On the executor route: the write's first 1 MiB call runs, the cancel comes while the second is
// queued: exactly 1 MiB was written, and the message says so.
TEST_P(FileTest, ACancelledWriteOnThreadsCountsTheFinishedCalls) {
  const std::string data = pattern(3 << 20);
  asyncio::run([](std::filesystem::path p, const std::string* data) -> asyncio::task<void> {
    if (!on_threads()) co_return;
    fs::open_options unbuffered;
    unbuffered.buffering = 0;
    auto f = co_await fs::open(p, "w", unbuffered);
    auto ex = std::make_shared<manual_executor>();
    asyncio::set_default_executor(asyncio::get_running_loop(), ex, false);
    auto t = asyncio::create_task(f.write(*data));
    EXPECT_EQ(ex->queued(), 1U);
    ex->run_one();                                          // the first 1 MiB
    co_await until([&ex] { return ex->queued() == 1; });   // the second call is queued
    t.cancel("stop");
    EXPECT_EQ(co_await cancelled_message(t), "stop; 1048576 of 3145728 bytes written");
    EXPECT_EQ(ex->queued(), 1U);  // withdrawn: the executor skips it
    ex->run_one();
    EXPECT_EQ(f.tell(), 1 << 20);
    auto closing = asyncio::create_task(f.close());
    while (!closing.done()) {
      if (ex->queued()) ex->run_one();
      co_await asyncio::sleep(0s);
    }
    co_await closing;
    asyncio::set_default_executor(asyncio::get_running_loop(), std::make_shared<asyncio::thread_pool>(), true);
    std::string back = co_await fs::read_file(p);
    EXPECT_TRUE(back == data->substr(0, 1 << 20));
  }(dir_ / "f", &data));
}

// Buffered: the write must first write the buffer out; cancelled while that call is queued, it took
// nothing and the earlier bytes stay buffered (written by close).
TEST_P(FileTest, ACancelledBufferedWriteKeepsTheEarlierBuffer) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    if (!on_threads()) co_return;
    auto f = co_await fs::open(p, "w");
    co_await f.write("earlier");
    auto ex = std::make_shared<manual_executor>();
    asyncio::set_default_executor(asyncio::get_running_loop(), ex, false);
    std::string big(100000, 'x');
    auto t = asyncio::create_task(f.write(big));
    EXPECT_EQ(ex->queued(), 1U);
    t.cancel();
    EXPECT_EQ(co_await cancelled_message(t), "0 of 100000 bytes written");
    EXPECT_EQ(f.buffered(), 7U);
    EXPECT_EQ(f.tell(), 7);
    ex->run_one();  // skipped
    asyncio::set_default_executor(asyncio::get_running_loop(), std::make_shared<asyncio::thread_pool>(), true);
    co_await f.close();
    EXPECT_EQ(co_await fs::read_file(p), "earlier");
  }(dir_ / "f"));
}

// A running call cannot be interrupted: the cancel waits for it and the bytes it wrote count. A FIFO
// makes the call block until the reader drains it.
TEST_P(FileTest, ACancelWaitsForTheRunningCallAndCountsItsBytes) {
  bool ring_inline = GetParam() == route::ring &&
                     !asyncio::run([]() -> asyncio::task<bool> { co_return asyncio::lowlevel::async_files(); }());
  if (ring_inline) GTEST_SKIP() << "the ring route on epoll would block the loop in the FIFO write";
  std::filesystem::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  const std::string data = pattern(3 << 20);
  std::string received = asyncio::run([](std::filesystem::path p, const std::string* data, int reader) -> asyncio::task<std::string> {
    fs::open_options unbuffered;
    unbuffered.buffering = 0;
    auto f = co_await fs::open(p, "w", unbuffered);
    EXPECT_EQ(f.tell(), -1);  // a FIFO has no positions
    auto t = asyncio::create_task(f.write(*data));
    // The writer's call is inside write(2) once the pipe is full.
    co_await until([&reader] {
      int n = 0;
      return ::ioctl(reader, FIONREAD, &n) == 0 && n >= 4096;
    });
    t.cancel();
    std::string got;
    std::array<char, 65536> buf{};
    while (!t.done()) {
      ssize_t n = ::read(reader, buf.data(), buf.size());
      if (n > 0) got.append(buf.data(), static_cast<std::size_t>(n));
      co_await asyncio::sleep(0s);
    }
    std::string message = co_await cancelled_message(t);
    for (;;) {
      ssize_t n = ::read(reader, buf.data(), buf.size());
      if (n <= 0) break;
      got.append(buf.data(), static_cast<std::size_t>(n));
    }
    EXPECT_NE(message, "completed");
    EXPECT_EQ(written_of(message), got.size()) << message;
    // On a thread, the blocking 1 MiB write(2) returns only once all of it is in the pipe.
    if (on_threads()) {
      EXPECT_EQ(message, "1048576 of 3145728 bytes written");
    }
    co_await f.close();
    co_return got;
  }(fifo, &data, reader));
  ::close(reader);
  EXPECT_GT(received.size(), 0U);
  EXPECT_TRUE(received == data.substr(0, received.size()));
}

// A cancelled read consumes nothing: the next read starts where the cancelled one did.
TEST_P(FileTest, ACancelledReadConsumesNothing) {
  const std::string data = pattern(3 << 20, 3);
  spit(dir_ / "f", data);
  asyncio::run([](std::filesystem::path p, const std::string* data) -> asyncio::task<void> {
    auto f = co_await fs::open(p);
    EXPECT_EQ(co_await f.read(10), data->substr(0, 10));
    std::unique_ptr<asyncio::task_handle<std::string>> t;
    std::shared_ptr<manual_executor> ex;
    if (on_threads()) {
      ex = std::make_shared<manual_executor>();
      asyncio::set_default_executor(asyncio::get_running_loop(), ex, false);
    }
    auto reading = asyncio::create_task(f.read(data->size()));
    if (ex) {
      ex->run_one();  // the first 1 MiB arrives
      co_await until([&ex] { return ex->queued() == 1; });
    }
    reading.cancel();
    bool cancelled = false;
    try {
      std::string all = co_await reading;
      EXPECT_TRUE(all == data->substr(10));  // finished before the cancel (an inline ring)
    } catch (const asyncio::cancelled_error&) {
      cancelled = true;
    }
    if (ex) {
      EXPECT_TRUE(cancelled);
      ex->run_one();  // skipped
      asyncio::set_default_executor(asyncio::get_running_loop(), std::make_shared<asyncio::thread_pool>(), true);
      EXPECT_EQ(f.tell(), 10);
      std::string rest = co_await f.read();
      EXPECT_TRUE(rest == data->substr(10));
    }
    co_await f.close();
  }(dir_ / "f", &data));
}

// close() cancelled while writing the buffer out: the file is closed anyway, and the message says
// how much of the buffer went.
TEST_P(FileTest, ACancelledCloseStillCloses) {
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    if (!on_threads()) co_return;
    auto f = co_await fs::open(p, "w");
    co_await f.write("buffered bytes");
    int fd = f.fd();
    auto ex = std::make_shared<manual_executor>();
    asyncio::set_default_executor(asyncio::get_running_loop(), ex, false);
    auto t = asyncio::create_task(f.close());
    t.cancel();
    std::string message;
    try {
      co_await t;
    } catch (const asyncio::cancelled_error& e) {
      message = e.message();
    }
    EXPECT_EQ(message, "0 of 14 bytes written");
    EXPECT_TRUE(f.closed());
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // the fd was released
    ex->run_one();
    asyncio::set_default_executor(asyncio::get_running_loop(), std::make_shared<asyncio::thread_pool>(), true);
  }(dir_ / "f"));
}

// A cancel pending when a call starts refuses it: nothing is submitted (and nothing leaks, which
// the sanitizer builds check).
TEST_P(FileTest, APendingCancelRefusesTheCall) {
  spit(dir_ / "f", "abc");
  asyncio::run([](std::filesystem::path p) -> asyncio::task<void> {
    auto f = co_await fs::open(p, "r+");
    int refused = 0;
    for (int i = 0; i < 3; ++i) {
      (void)asyncio::current_task().cancel();
      try {
        if (i == 0) (void)co_await fs::stat(p);
        if (i == 1) (void)co_await f.read();
        if (i == 2) co_await fs::write_file(p, "x");
      } catch (const asyncio::cancelled_error&) {
        ++refused;
      }
      (void)asyncio::current_task().uncancel();
    }
    EXPECT_EQ(refused, 3);
    EXPECT_EQ(f.tell(), 0);
    EXPECT_EQ(co_await f.read(), "abc");
    co_await f.close();
  }(dir_ / "f"));
}

INSTANTIATE_TEST_SUITE_P(Routes, FileTest, ::testing::Values(route::automatic, route::threads, route::ring), route_name);

}  // namespace
