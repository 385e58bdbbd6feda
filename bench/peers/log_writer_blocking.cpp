// Log writer, plain blocking C++ peer of the library's example log_writer: no library, only POSIX calls.
// The same work as the example and as bench/peers/log_writer.py (the rules are in bench/README.md,
// "Log writer"): N messages "message <i> for file <k>\n", i = 0..N-1, where
// k = ((uint32_t)i * 2654435761) mod 2^32 mod F, appended to <dir>/<way>/<k>.log.
//
//   blocking_per_message  one ::write per message, straight to the file's descriptor
//   blocking_buffered     one std::fwrite per message into the file's stdio buffer, sized as the
//                         library's fs::file buffer (64 KiB): the buffered counterpart of the above
//   blocking_batched      each message appended to its file's buffer in memory (reserved as the
//                         example does), then one ::write (looped while short) per file: F writes
//
// Timed, per way: open the F files (O_CREAT | O_TRUNC), format and write every message, close the
// F files. Not timed: creating the empty <way> directory before, and after: reading every file back
// to check it holds exactly its messages in order, then removing it. No fsync (page cache only).
// Prints "way <name> total <seconds>" per way; exits 1 when a check fails.
//
// Usage: bench_log_writer_blocking [--messages N] [--files F] [--dir DIR] [--way NAME|all]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::uint32_t knuth_multiplier = 2654435761U;

/// Which of `files` files message `i` goes to: Knuth's multiplicative hash on 32 bits, modulo F.
auto file_of(std::uint32_t i, std::uint32_t files) -> std::uint32_t {
  return (i * knuth_multiplier) % files;  // uint32_t arithmetic wraps modulo 2^32
}

/// Formats "message <i> for file <k>\n" into `buf` (at least 64 bytes); returns its length.
auto format_message(char* buf, std::uint32_t i, std::uint32_t k) -> std::size_t {
  constexpr std::string_view head = "message ";
  constexpr std::string_view middle = " for file ";
  char* p = buf;
  std::memcpy(p, head.data(), head.size());
  p += head.size();
  p = std::to_chars(p, p + 10, i).ptr;
  std::memcpy(p, middle.data(), middle.size());
  p += middle.size();
  p = std::to_chars(p, p + 10, k).ptr;
  *p++ = '\n';
  return static_cast<std::size_t>(p - buf);
}

[[noreturn]] void die(const char* what, const std::string& path) {
  std::fprintf(stderr, "log_writer_blocking: %s %s: %s\n", what, path.c_str(), std::strerror(errno));
  std::exit(1);
}

auto path_of(const std::string& dir, std::uint32_t k) -> std::string {
  return dir + "/" + std::to_string(k) + ".log";
}

/// Writes all of [data, data + size) to file k of `dir`, looping while the kernel takes less.
void write_all(int fd, const char* data, std::size_t size, const std::string& dir, std::uint32_t k) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write", path_of(dir, k));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

auto open_all(const std::string& dir, std::uint32_t files) -> std::vector<int> {
  std::vector<int> fds(files);
  for (std::uint32_t k = 0; k < files; ++k) {
    std::string path = path_of(dir, k);
    fds[k] = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fds[k] < 0) die("open", path);
  }
  return fds;
}

void close_all(const std::string& dir, const std::vector<int>& fds) {
  for (std::size_t k = 0; k < fds.size(); ++k) {
    if (::close(fds[k]) != 0) die("close", path_of(dir, static_cast<std::uint32_t>(k)));
  }
}

void per_message(const std::string& dir, std::uint32_t messages, std::uint32_t files) {
  std::vector<int> fds = open_all(dir, files);
  char buf[64];
  for (std::uint32_t i = 0; i < messages; ++i) {
    std::uint32_t k = file_of(i, files);
    std::size_t n = format_message(buf, i, k);
    write_all(fds[k], buf, n, dir, k);
  }
  close_all(dir, fds);
}

/// The size of asyncio::fs::file's default buffer, so that both make the same number of writes.
constexpr std::size_t stdio_buffer_size = 64 * 1024;

void buffered(const std::string& dir, std::uint32_t messages, std::uint32_t files) {
  std::vector<std::FILE*> out(files);
  // glibc ignores the size when setvbuf allocates the buffer itself (it takes st_blksize): give it one.
  std::vector<std::string> buffers(files, std::string(stdio_buffer_size, '\0'));
  for (std::uint32_t k = 0; k < files; ++k) {
    std::string path = path_of(dir, k);
    out[k] = std::fopen(path.c_str(), "we");
    if (out[k] == nullptr || std::setvbuf(out[k], buffers[k].data(), _IOFBF, stdio_buffer_size) != 0) {
      die("fopen", path);
    }
  }
  char buf[64];
  for (std::uint32_t i = 0; i < messages; ++i) {
    std::uint32_t k = file_of(i, files);
    std::size_t n = format_message(buf, i, k);
    if (std::fwrite(buf, 1, n, out[k]) != n) die("fwrite", path_of(dir, k));
  }
  for (std::uint32_t k = 0; k < files; ++k) {
    if (std::fclose(out[k]) != 0) die("fclose", path_of(dir, k));
  }
}

void batched(const std::string& dir, std::uint32_t messages, std::uint32_t files) {
  std::vector<int> fds = open_all(dir, files);
  std::vector<std::string> batches(files);
  for (std::string& b : batches) b.reserve(messages / files * 32 + 64);
  char buf[64];
  for (std::uint32_t i = 0; i < messages; ++i) {
    std::uint32_t k = file_of(i, files);
    batches[k].append(buf, format_message(buf, i, k));
  }
  for (std::uint32_t k = 0; k < files; ++k) write_all(fds[k], batches[k].data(), batches[k].size(), dir, k);
  close_all(dir, fds);
}

/// True when every file holds exactly its messages, in order.
auto verify(const std::string& dir, std::uint32_t messages, std::uint32_t files) -> bool {
  std::vector<std::string> expected(files);
  char buf[64];
  for (std::uint32_t i = 0; i < messages; ++i) {
    std::uint32_t k = file_of(i, files);
    expected[k].append(buf, format_message(buf, i, k));
  }
  bool ok = true;
  for (std::uint32_t k = 0; k < files; ++k) {
    std::string path = path_of(dir, k);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open", path);
    std::string got;
    char chunk[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("read", path);
      if (n == 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (got != expected[k]) {
      std::fprintf(stderr, "log_writer_blocking: %s: %zu bytes, expected %zu bytes of its messages in order\n",
                   path.c_str(), got.size(), expected[k].size());
      ok = false;
    }
  }
  return ok;
}

void remove_dir(const std::string& dir, std::uint32_t files) {
  for (std::uint32_t k = 0; k < files; ++k) ::unlink(path_of(dir, k).c_str());
  ::rmdir(dir.c_str());
}

auto parse_count(const char* text, const char* option) -> std::uint32_t {
  std::uint32_t value = 0;
  std::string_view s = text;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value == 0) {
    std::fprintf(stderr, "log_writer_blocking: %s wants a positive count, got '%s'\n", option, text);
    std::exit(2);
  }
  return value;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  std::uint32_t messages = 1'000'000;
  std::uint32_t files = 100;
  std::string dir = "/tmp";
  std::string way = "all";
  for (int a = 1; a < argc; ++a) {
    std::string_view arg = argv[a];
    if (a + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--messages N] [--files F] [--dir DIR] [--way NAME|all]\n", argv[0]);
      return 2;
    }
    if (arg == "--messages") {
      messages = parse_count(argv[++a], "--messages");
    } else if (arg == "--files") {
      files = parse_count(argv[++a], "--files");
    } else if (arg == "--dir") {
      dir = argv[++a];
    } else if (arg == "--way") {
      way = argv[++a];
    } else {
      std::fprintf(stderr, "log_writer_blocking: unknown option %s\n", argv[a]);
      return 2;
    }
  }

  struct way_entry {
    const char* name;
    void (*run)(const std::string&, std::uint32_t, std::uint32_t);
  };
  const way_entry ways[] = {
      {"blocking_per_message", per_message}, {"blocking_buffered", buffered}, {"blocking_batched", batched}};
  bool ran = false;
  bool ok = true;
  for (const way_entry& w : ways) {
    if (way != "all" && way != w.name) continue;
    ran = true;
    std::string sub = dir + "/" + w.name;
    if (::mkdir(sub.c_str(), 0755) != 0) die("mkdir", sub);
    auto t0 = std::chrono::steady_clock::now();
    w.run(sub, messages, files);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!verify(sub, messages, files)) ok = false;
    remove_dir(sub, files);
    std::printf("way %s total %.6f\n", w.name, seconds);
    std::fflush(stdout);
  }
  if (!ran) {
    std::fprintf(stderr, "log_writer_blocking: no way named %s\n", way.c_str());
    return 2;
  }
  return ok ? 0 : 1;
}
