#pragma once
// fs::stat(path) and its result (Python's os.stat / pathlib's Path.stat, exists, is_file, is_dir).
//
//   auto dir = co_await asyncio::fs::temporary_directory();
//   co_await asyncio::fs::write_file(dir.path() / "a.txt", "hello");
//   asyncio::fs::stat_result st = co_await asyncio::fs::stat(dir.path() / "a.txt");
//   bool ok = st.is_file() && st.size == 5 && co_await asyncio::fs::is_dir(dir.path());
//   if (!ok) throw std::logic_error("stat");
//
// Like every fs call, these run the system call (statx) on the io_uring ring when the loop has one,
// on the loop's thread pool otherwise (docs/fs.md).
#include <chrono>
#include <cstdint>
#include <filesystem>

#include <asyncio/core/task.hpp>

namespace asyncio::fs {

/// What a path names (Python's stat.S_ISREG and friends).
enum class file_type : std::uint8_t { unknown, regular, directory, symlink, block, character, fifo, socket };

/// The status of a file (Python's os.stat_result). Times are wall-clock times with nanoseconds.
///
/// Thread safety: a plain value.
struct stat_result {
  file_type type = file_type::unknown;
  std::uint64_t size = 0;    // bytes (st_size)
  unsigned mode = 0;         // the whole st_mode: type bits and permissions (permissions() masks them)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t nlink = 0;
  std::uint64_t ino = 0;
  std::uint64_t dev = 0;     // the device of the file system it lives on (makedev(major, minor))
  std::uint64_t blocks = 0;  // 512-byte blocks allocated
  std::chrono::system_clock::time_point atime{};  // last access
  std::chrono::system_clock::time_point mtime{};  // last modification of the data
  std::chrono::system_clock::time_point ctime{};  // last change of the data or the metadata

  /// The permission bits (mode & 07777), e.g. 0644.
  [[nodiscard]] auto permissions() const noexcept -> unsigned { return mode & 07777U; }
  [[nodiscard]] auto is_file() const noexcept -> bool { return type == file_type::regular; }
  [[nodiscard]] auto is_dir() const noexcept -> bool { return type == file_type::directory; }
  [[nodiscard]] auto is_symlink() const noexcept -> bool { return type == file_type::symlink; }
};

/// The status of `path`, following a symbolic link (Python's os.stat); with `follow_symlinks`
/// false, of the link itself (os.lstat).
///
/// Cancellation: safe; nothing changes. A call already running on a thread is waited for first.
/// Resumes: on the task's loop once the statx call returned.
/// Throws: os_error: file_not_found_error, permission_error, not_a_directory_error..., whose
/// message names the path ("stat '/tmp/x': No such file or directory").
auto stat(std::filesystem::path path, bool follow_symlinks = true) -> task<stat_result>;

/// stat(path, false): the status of a symbolic link itself (Python's os.lstat).
/// Cancellation: as stat. Resumes: as stat. Throws: as stat.
auto lstat(std::filesystem::path path) -> task<stat_result>;

/// True if `path` exists (following symbolic links; a dangling link does not exist), as Python's
/// Path.exists: false for "no such file", "not a directory" and a symbolic link loop.
///
/// Cancellation: as stat. Resumes: as stat.
/// Throws: the other errors of stat (e.g. permission_error for a path in a directory that may not
/// be searched).
auto exists(std::filesystem::path path) -> task<bool>;

/// True if `path` exists and is a regular file (after symbolic links); errors as exists.
/// Cancellation: as stat. Resumes: as stat. Throws: as exists.
auto is_file(std::filesystem::path path) -> task<bool>;

/// True if `path` exists and is a directory (after symbolic links); errors as exists.
/// Cancellation: as stat. Resumes: as stat. Throws: as exists.
auto is_dir(std::filesystem::path path) -> task<bool>;

}  // namespace asyncio::fs
