// examples/log_writer.cpp: "avoid local file I/O with asyncio?" A log writer hashes N short
// messages into F files, three ways, timed side by side:
//   blocking          plain blocking write(2) calls, one per message (what the article recommends)
//   task_per_message  one task per message and an asyncio::lock per file, written the natural way
//                     (Python: `async with lock: await f.write(msg)`), through asyncio::fs
//   batched           messages grouped per file in memory, then one asyncio::fs write per file
// With aiofiles every write is a trip to a thread pool, so the natural asyncio version is many
// times slower than blocking writes (docs/fs.md §7). Here a buffered fs::file write that fits its
// buffer neither suspends nor allocates, so the natural version costs about what the blocking one
// does, and batching is cheaper than both.
//
// Run: ./log_writer [--messages N] [--files F] [--dir DIR]
// Defaults: 1000000 messages, 100 files, a fresh temporary directory (removed at the end). With
// --dir the files go to DIR/<way>/ and stay. Message i is "message <i> for file <k>\n" with
// k = uint32_t(i) * 2654435761 % F (Knuth's multiplicative hash), written to <k>.log. After each
// way (not timed) every file is read back and must hold exactly its messages, in order, each line
// whole; otherwise the program exits with status 1. The last three lines are
// "way <name> total <seconds>" (bench/log_writer.sh reads them).
// ctest-args: --messages 20000 --files 100
// ctest-expect: blocking +[0-9.]+ s
// ctest-expect: check: every file holds exactly its messages, in order
// ctest-expect: way blocking total [0-9]+[.][0-9]+
// ctest-expect: way task_per_message total [0-9]+[.][0-9]+
// ctest-expect: way batched total [0-9]+[.][0-9]+
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fs = asyncio::fs;

namespace {

struct settings {
  std::size_t messages = 1000000;
  std::uint32_t files = 100;
  std::filesystem::path dir;  // empty: a fresh temporary directory
};

auto file_of(std::size_t i, std::uint32_t files) -> std::uint32_t {
  return static_cast<std::uint32_t>(i) * 2654435761U % files;
}

/// Formats "message <i> for file <k>\n" into buf (64 bytes are plenty); returns its length.
/// std::to_chars rather than snprintf: formatting is a fair part of the work being timed.
auto format_message(char* buf, std::size_t i, std::uint32_t k) -> std::size_t {
  constexpr std::string_view head = "message ";
  constexpr std::string_view middle = " for file ";
  char* p = buf;
  p = std::copy(head.begin(), head.end(), p);
  p = std::to_chars(p, buf + 40, i).ptr;
  p = std::copy(middle.begin(), middle.end(), p);
  p = std::to_chars(p, buf + 63, k).ptr;
  *p++ = '\n';
  return static_cast<std::size_t>(p - buf);
}

auto log_path(const std::filesystem::path& dir, std::uint32_t k) -> std::filesystem::path {
  return dir / (std::to_string(k) + ".log");
}

auto seconds_since(std::chrono::steady_clock::time_point start) -> double {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- way 1: plain blocking write(2), one per message -------------------------------------------------

auto write_blocking(const std::filesystem::path& dir, const settings& s) -> bool {
  std::vector<int> fds(s.files, -1);
  for (std::uint32_t k = 0; k < s.files; ++k) {
    fds[k] = ::open(log_path(dir, k).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fds[k] < 0) {
      std::perror("open");
      return false;
    }
  }
  char buf[64];
  bool ok = true;
  for (std::size_t i = 0; i < s.messages && ok; ++i) {
    std::uint32_t k = file_of(i, s.files);
    std::size_t n = format_message(buf, i, k);
    for (std::size_t done = 0; done < n;) {
      ssize_t w = ::write(fds[k], buf + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        std::perror("write");
        ok = false;
        break;
      }
      done += static_cast<std::size_t>(w);
    }
  }
  for (int fd : fds) ::close(fd);
  return ok;
}

// ---- way 2: one task per message, a lock per file ------------------------------------------------------

struct log_file {
  fs::file file;
  asyncio::lock lock;
};

/// Python: async def log(i): async with locks[k]: await files[k].write(f"message {i} ...")
auto log_one(log_file* out, std::size_t i, std::uint32_t k) -> asyncio::task<void> {
  char buf[64];
  std::size_t n = format_message(buf, i, k);
  auto guard = co_await out->lock.acquire();
  co_await out->file.write(std::string_view(buf, n));
}

auto write_task_per_message(std::filesystem::path dir, settings s) -> asyncio::task<void> {
  std::vector<std::unique_ptr<log_file>> files;
  for (std::uint32_t k = 0; k < s.files; ++k) {
    auto f = std::make_unique<log_file>();
    f->file = co_await fs::open(log_path(dir, k), "w");
    files.push_back(std::move(f));
  }
  std::vector<asyncio::task_handle<void>> tasks;
  tasks.reserve(s.messages);
  for (std::size_t i = 0; i < s.messages; ++i) {
    std::uint32_t k = file_of(i, s.files);
    tasks.push_back(asyncio::create_task(log_one(files[k].get(), i, k)));
  }
  for (auto& t : tasks) co_await t;  // asyncio.gather(*tasks)
  for (auto& f : files) co_await f->file.close();
}

// ---- way 3: batched per file ------------------------------------------------------------------------

auto write_one_file(std::filesystem::path path, const std::string* batch) -> asyncio::task<void> {
  auto f = co_await fs::open(std::move(path), "w");
  co_await f.write(*batch);  // larger than the buffer: written directly, in calls of up to 1 MiB
  co_await f.close();
}

auto write_batched(std::filesystem::path dir, settings s) -> asyncio::task<void> {
  std::vector<std::string> batches(s.files);
  for (auto& b : batches) b.reserve(s.messages / s.files * 32 + 64);
  char buf[64];
  for (std::size_t i = 0; i < s.messages; ++i) {
    std::uint32_t k = file_of(i, s.files);
    batches[k].append(buf, format_message(buf, i, k));
  }
  std::vector<asyncio::task_handle<void>> writers;
  for (std::uint32_t k = 0; k < s.files; ++k) {
    writers.push_back(asyncio::create_task(write_one_file(log_path(dir, k), &batches[k])));
  }
  for (auto& w : writers) co_await w;
}

// ---- the check (not timed) -------------------------------------------------------------------------

/// Every file holds exactly its messages, in order, each line whole.
auto check(std::filesystem::path dir, settings s) -> asyncio::task<bool> {
  std::vector<std::string> expected(s.files);
  char buf[64];
  for (std::size_t i = 0; i < s.messages; ++i) {
    std::uint32_t k = file_of(i, s.files);
    expected[k].append(buf, format_message(buf, i, k));
  }
  for (std::uint32_t k = 0; k < s.files; ++k) {
    std::string got = co_await fs::read_file(log_path(dir, k));
    if (got != expected[k]) {
      std::size_t at = 0;
      while (at < got.size() && at < expected[k].size() && got[at] == expected[k][at]) ++at;
      std::fprintf(stderr, "%s: %zu bytes, expected %zu; first difference at byte %zu\n",
                   log_path(dir, k).c_str(), got.size(), expected[k].size(), at);
      co_return false;
    }
  }
  co_return true;
}

auto parse(int argc, char** argv, settings& s) -> bool {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) return false;
    if (arg == "--messages") {
      s.messages = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--files") {
      s.files = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--dir") {
      s.dir = argv[++i];
    } else {
      return false;
    }
  }
  return s.files > 0;
}

struct way_result {
  const char* name;
  const char* what;
  double seconds;
};

auto amain(settings s) -> asyncio::task<int> {
  fs::temp_dir scratch;
  std::filesystem::path base = s.dir;
  if (base.empty()) {
    scratch = co_await fs::temporary_directory("log_writer-");
    base = scratch.path();
  }
  std::printf("log_writer: %zu messages into %u files under %s\n", s.messages, s.files, base.c_str());
  std::vector<way_result> results = {
      {"blocking", "one blocking write(2) per message", 0},
      {"task_per_message", "a task per message, a lock per file, fs::file::write", 0},
      {"batched", "one fs::file::write per file", 0},
  };
  bool all_ok = true;
  for (way_result& way : results) {
    std::filesystem::path dir = base / way.name;
    co_await fs::mkdir(dir, fs::parents | fs::exist_ok);  // not timed
    auto start = std::chrono::steady_clock::now();
    std::string name = way.name;
    bool wrote = true;
    if (name == "blocking") {
      wrote = write_blocking(dir, s);
    } else if (name == "task_per_message") {
      co_await write_task_per_message(dir, s);
    } else {
      co_await write_batched(dir, s);
    }
    way.seconds = seconds_since(start);
    bool ok = wrote;
    if (ok) ok = co_await check(dir, s);
    std::printf("  %-17s %8.3f s   %s%s\n", way.name, way.seconds, way.what, ok ? "" : "   CHECK FAILED");
    all_ok = all_ok && ok;
    if (s.dir.empty()) co_await fs::remove_all(dir);
  }
  if (!all_ok) {
    std::printf("check FAILED: some file does not hold exactly its messages\n");
    co_return 1;
  }
  std::printf("check: every file holds exactly its messages, in order, each line whole\n");
  for (const way_result& way : results) std::printf("way %s total %.6f\n", way.name, way.seconds);
  if (!s.dir.empty()) co_return 0;
  co_await scratch.remove();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  if (!parse(argc, argv, s)) {
    std::fprintf(stderr, "usage: %s [--messages N] [--files F] [--dir DIR]\n", argv[0]);
    return 2;
  }
  return asyncio::run(amain(s));
}
