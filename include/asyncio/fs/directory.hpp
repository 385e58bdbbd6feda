#pragma once
// Reading directories: list_dir (Python's os.listdir), scan_dir (os.scandir) and walk (os.walk).
//
//   auto dir = co_await asyncio::fs::temporary_directory();
//   co_await asyncio::fs::mkdir(dir.path() / "sub");
//   co_await asyncio::fs::write_file(dir.path() / "a.txt", "a");
//   co_await asyncio::fs::write_file(dir.path() / "sub" / "b.txt", "b");
//   std::vector<std::string> names = co_await asyncio::fs::list_dir(dir.path());   // {"a.txt", "sub"}
//   std::size_t files = 0;
//   auto tree = asyncio::fs::walk(dir.path());
//   while (auto level = co_await tree.next()) {   // for root, dirs, files in os.walk(top):
//     files += level->files.size();
//   }
//   if (names.size() != 2 || files != 2) throw std::logic_error("walk");
//
// There is no io_uring operation that reads a directory, so these always run on the loop's thread
// pool, whatever the backend: one job reads a whole directory and the types of its entries (a
// batch, not a trip to a thread per entry). Unlike Python, names come sorted (byte order), so that
// a program's output does not depend on the file system's order.
#include <filesystem>
#include <string>
#include <vector>

#include <asyncio/core/generator.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/fs/stat.hpp>

namespace asyncio::fs {

/// One entry of a directory (Python's os.DirEntry).
///
/// Thread safety: a plain value.
struct dir_entry {
  std::string name;            // the name in its directory
  std::filesystem::path path;  // the directory's path / name
  file_type type = file_type::unknown;         // the entry itself: a symbolic link is `symlink`
  file_type target_type = file_type::unknown;  // after symbolic links (unknown: a dangling link)

  /// True for a directory or a symbolic link to one (Python's is_dir()).
  [[nodiscard]] auto is_dir() const noexcept -> bool { return target_type == file_type::directory; }
  /// True for a regular file or a symbolic link to one (Python's is_file()).
  [[nodiscard]] auto is_file() const noexcept -> bool { return target_type == file_type::regular; }
  [[nodiscard]] auto is_symlink() const noexcept -> bool { return type == file_type::symlink; }
};

/// The names in directory `path`, without "." and "..", sorted (Python's os.listdir, sorted).
///
/// Cancellation: the listing is one job on the thread pool: withdrawn if it has not started,
/// otherwise waited for and the cancel raised afterwards.
/// Resumes: on the task's loop once the directory was read.
/// Throws: file_not_found_error, not_a_directory_error, permission_error..., named after the path
/// ("list_dir '/tmp/x': No such file or directory").
auto list_dir(std::filesystem::path path) -> task<std::vector<std::string>>;

/// The entries of directory `path` with their types, sorted by name (Python's os.scandir).
/// Cancellation: as list_dir. Resumes: as list_dir. Throws: as list_dir.
auto scan_dir(std::filesystem::path path) -> task<std::vector<dir_entry>>;

/// One directory of a walk: its path and the names in it, split into directories (symbolic links
/// to directories included, as Python) and the rest.
///
/// Thread safety: a plain value.
struct walk_entry {
  std::filesystem::path root;
  std::vector<std::string> dirs;
  std::vector<std::string> files;
};

/// The directory tree under `top`, top-down: first `top` itself, then each subdirectory's tree in
/// name order (Python's os.walk(top)). Symbolic links to directories are listed in `dirs` and
/// entered only with `follow_symlinks` (Python's followlinks). One thread job per directory.
/// Unlike Python's default (which skips what it cannot read), an error raises from next().
///
/// Cancellation: raised from next(), as list_dir's; the generator is then finished.
/// Resumes: next() resumes once the next directory was read.
/// Throws: from next(): as list_dir, for `top` or any directory below it.
[[nodiscard]] auto walk(std::filesystem::path top, bool follow_symlinks = false) -> generator<walk_entry>;

}  // namespace asyncio::fs
