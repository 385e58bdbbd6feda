// list_dir, scan_dir and walk: a directory is read by one job on the thread pool (no ring
// operation reads directories), entries and their types together (src/fs/dispatch.hpp).
#include <asyncio/fs/directory.hpp>

#include <asyncio/errors.hpp>

#include "dispatch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace asyncio::detail {
namespace {

auto type_of_mode(unsigned mode) noexcept -> fs::file_type {
  switch (mode & S_IFMT) {
    case S_IFREG: return fs::file_type::regular;
    case S_IFDIR: return fs::file_type::directory;
    case S_IFLNK: return fs::file_type::symlink;
    case S_IFBLK: return fs::file_type::block;
    case S_IFCHR: return fs::file_type::character;
    case S_IFIFO: return fs::file_type::fifo;
    case S_IFSOCK: return fs::file_type::socket;
    default: return fs::file_type::unknown;
  }
}

auto type_of_dirent(unsigned char d_type) noexcept -> fs::file_type {
  switch (d_type) {
    case DT_REG: return fs::file_type::regular;
    case DT_DIR: return fs::file_type::directory;
    case DT_LNK: return fs::file_type::symlink;
    case DT_BLK: return fs::file_type::block;
    case DT_CHR: return fs::file_type::character;
    case DT_FIFO: return fs::file_type::fifo;
    case DT_SOCK: return fs::file_type::socket;
    default: return fs::file_type::unknown;
  }
}

/// Reads directory `path` (blocking; on a worker). `with_types`: also the entries' types, asking
/// the file system only for what readdir did not tell (d_type unknown, symbolic links' targets).
auto read_directory(const std::filesystem::path& path, const char* what, bool with_types) -> std::vector<fs::dir_entry> {
  int dfd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw_fs_error(errno, what, path.native());
  DIR* dir = ::fdopendir(dfd);
  if (dir == nullptr) {
    int err = errno;
    ::close(dfd);
    throw_fs_error(err, what, path.native());
  }
  struct closer {
    DIR* d;
    ~closer() { ::closedir(d); }
  } guard{dir};
  std::vector<fs::dir_entry> out;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) throw_fs_error(errno, what, path.native());
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    fs::dir_entry& entry = out.emplace_back();
    entry.name = e->d_name;
    if (!with_types) continue;
    entry.type = type_of_dirent(e->d_type);
    struct stat st {};
    if (entry.type == fs::file_type::unknown && ::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      entry.type = type_of_mode(st.st_mode);
    }
    entry.target_type = entry.type;
    if (entry.type == fs::file_type::symlink) {
      entry.target_type = ::fstatat(dfd, e->d_name, &st, 0) == 0 ? type_of_mode(st.st_mode) : fs::file_type::unknown;
    }
  }
  std::sort(out.begin(), out.end(), [](const fs::dir_entry& a, const fs::dir_entry& b) { return a.name < b.name; });
  if (with_types) {
    for (fs::dir_entry& entry : out) entry.path = path / entry.name;
  }
  return out;
}

}  // namespace
}  // namespace asyncio::detail

namespace asyncio::fs {

auto list_dir(std::filesystem::path path) -> task<std::vector<std::string>> {
  co_return co_await detail::fs_on_thread([&path] {
    std::vector<dir_entry> entries = detail::read_directory(path, "list_dir", false);
    std::vector<std::string> names;
    names.reserve(entries.size());
    for (dir_entry& e : entries) names.push_back(std::move(e.name));
    return names;
  });
}

auto scan_dir(std::filesystem::path path) -> task<std::vector<dir_entry>> {
  co_return co_await detail::fs_on_thread([&path] { return detail::read_directory(path, "scan_dir", true); });
}

auto walk(std::filesystem::path top, bool follow_symlinks) -> generator<walk_entry> {
  // Depth first, in name order: the stack holds the directories still to visit, next on top.
  std::vector<std::filesystem::path> pending;
  pending.push_back(std::move(top));
  while (!pending.empty()) {
    walk_entry level;
    level.root = std::move(pending.back());
    pending.pop_back();
    std::vector<dir_entry> entries = co_await scan_dir(level.root);
    std::size_t first_child = pending.size();
    for (dir_entry& e : entries) {
      if (e.is_dir()) {
        if (!e.is_symlink() || follow_symlinks) pending.push_back(e.path);
        level.dirs.push_back(std::move(e.name));
      } else {
        level.files.push_back(std::move(e.name));
      }
    }
    std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(first_child), pending.end());
    co_yield std::move(level);
  }
}

}  // namespace asyncio::fs
