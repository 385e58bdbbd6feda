#pragma once
// Renaming, removing and creating paths (Python's os.rename / os.replace, os.remove, os.rmdir,
// shutil.rmtree, os.mkdir / os.makedirs / Path.mkdir).
//
//   auto dir = co_await asyncio::fs::temporary_directory();
//   auto nested = dir.path() / "a" / "b" / "c";
//   co_await asyncio::fs::mkdir(nested, asyncio::fs::parents);                              // makedirs
//   co_await asyncio::fs::mkdir(nested, asyncio::fs::parents | asyncio::fs::exist_ok);     // again: fine
//   co_await asyncio::fs::write_file(nested / "x.txt", "x");
//   co_await asyncio::fs::rename(nested / "x.txt", dir.path() / "y.txt");
//   co_await asyncio::fs::remove(dir.path() / "y.txt");
//   std::uintmax_t removed = co_await asyncio::fs::remove_all(dir.path() / "a");            // rmtree
//   if (removed != 3) throw std::logic_error("remove_all");
//
// rename, remove, rmdir and mkdir are one system call each, on the io_uring ring when the loop
// has one and on the loop's thread pool otherwise; remove_all walks the tree on the thread pool
// (there is no ring operation for reading a directory), one job for the whole tree (docs/fs.md).
#include <cstdint>
#include <filesystem>

#include <asyncio/core/task.hpp>

namespace asyncio::fs {

/// Renames `from` to `to`, replacing `to` if it exists (a file, or an empty directory when `from`
/// is one), atomically (Python's os.rename and os.replace on POSIX).
///
/// Cancellation: safe: the rename happened or not, and if its system call was running when the
/// cancel came, it finished (the cancel is raised at the next suspension point).
/// Resumes: on the task's loop once done.
/// Throws: os_error named after both paths ("rename '/a' -> '/b': No such file or directory").
auto rename(std::filesystem::path from, std::filesystem::path to) -> task<void>;

/// Removes a file (or a symbolic link, or an other non-directory) (Python's os.remove / os.unlink).
/// Cancellation: as rename. Resumes: once done.
/// Throws: file_not_found_error, is_a_directory_error (for a directory: use rmdir), ...
auto remove(std::filesystem::path path) -> task<void>;

/// Removes an empty directory (Python's os.rmdir).
/// Cancellation: as rename. Resumes: once done.
/// Throws: file_not_found_error, not_a_directory_error, os_error with ENOTEMPTY...
auto rmdir(std::filesystem::path path) -> task<void>;

/// Removes `path` and, if it is a directory, everything in it, without following symbolic links;
/// returns the number of files and directories removed: 0 if `path` did not exist (as
/// std::filesystem::remove_all; Python's shutil.rmtree raises then).
///
/// Cancellation: the walk runs as one job on the thread pool: withdrawn if it has not started,
/// otherwise waited for (the whole tree is then removed) and the cancel raised afterwards.
/// Resumes: once done.
/// Throws: os_error for what could not be removed (permission_error...); what was removed stays so.
auto remove_all(std::filesystem::path path) -> task<std::uintmax_t>;

/// Options of mkdir, combined with |: `parents` creates missing parent directories (Python's
/// os.makedirs, Path.mkdir(parents=True)); `exist_ok` accepts a directory that exists already.
enum class mkdir_flags : unsigned { none = 0, parents = 1, exist_ok = 2 };
[[nodiscard]] constexpr auto operator|(mkdir_flags a, mkdir_flags b) noexcept -> mkdir_flags {
  return static_cast<mkdir_flags>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
[[nodiscard]] constexpr auto operator&(mkdir_flags a, mkdir_flags b) noexcept -> mkdir_flags {
  return static_cast<mkdir_flags>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
inline constexpr mkdir_flags parents = mkdir_flags::parents;
inline constexpr mkdir_flags exist_ok = mkdir_flags::exist_ok;

/// Creates the directory `path` with permissions `mode` (less the umask) (Python's os.mkdir; with
/// `parents`, os.makedirs: missing parents are created with the same mode, as pathlib does).
/// With `exist_ok`, a directory that exists is fine; anything else there still raises.
///
/// Cancellation: safe; directories created before the cancel stay.
/// Resumes: on the task's loop once done.
/// Throws: file_exists_error (also with exist_ok, when `path` exists and is not a directory),
/// file_not_found_error (a parent is missing and `parents` is not given), permission_error...,
/// named after the path ("mkdir '/tmp/a/b': No such file or directory").
auto mkdir(std::filesystem::path path, mkdir_flags flags = mkdir_flags::none, unsigned mode = 0777) -> task<void>;

}  // namespace asyncio::fs
