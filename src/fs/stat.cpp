// fs::stat and the predicates built on it: one statx through the fs dispatch (src/fs/dispatch.hpp).
#include <asyncio/fs/stat.hpp>

#include <asyncio/errors.hpp>

#include "dispatch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <system_error>

namespace asyncio::detail {

auto fs_stat_result(const struct statx& s) noexcept -> fs::stat_result {
  auto when = [](const statx_timestamp& t) {
    auto since_epoch = std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
  };
  fs::stat_result r;
  switch (s.stx_mode & S_IFMT) {
    case S_IFREG: r.type = fs::file_type::regular; break;
    case S_IFDIR: r.type = fs::file_type::directory; break;
    case S_IFLNK: r.type = fs::file_type::symlink; break;
    case S_IFBLK: r.type = fs::file_type::block; break;
    case S_IFCHR: r.type = fs::file_type::character; break;
    case S_IFIFO: r.type = fs::file_type::fifo; break;
    case S_IFSOCK: r.type = fs::file_type::socket; break;
    default: r.type = fs::file_type::unknown;
  }
  r.size = s.stx_size;
  r.mode = s.stx_mode;
  r.uid = s.stx_uid;
  r.gid = s.stx_gid;
  r.nlink = s.stx_nlink;
  r.ino = s.stx_ino;
  r.dev = makedev(s.stx_dev_major, s.stx_dev_minor);
  r.blocks = s.stx_blocks;
  r.atime = when(s.stx_atime);
  r.mtime = when(s.stx_mtime);
  r.ctime = when(s.stx_ctime);
  return r;
}

namespace {

/// Python's pathlib treats these as "does not exist" rather than as errors.
auto means_missing(const os_error& e) noexcept -> bool {
  int err = e.code().value();
  return err == ENOENT || err == ENOTDIR || err == ELOOP;
}

/// Whether `path` exists (pathlib's rule) and, if so, its type after symbolic links.
auto type_if_exists(std::filesystem::path path) -> task<std::pair<bool, fs::file_type>> {
  bool missing = false;
  fs::stat_result st;
  try {
    st = co_await fs::stat(std::move(path));
  } catch (const os_error& e) {
    if (!means_missing(e)) throw;
    missing = true;
  }
  co_return std::pair{!missing, st.type};
}

}  // namespace
}  // namespace asyncio::detail

namespace asyncio::fs {

auto stat(std::filesystem::path path, bool follow_symlinks) -> task<stat_result> {
  struct statx sx {};
  io::operation op = detail::fs_op(io::opcode::statx);
  op.path = path.c_str();
  op.flags = follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW;
  op.buffer = &sx;
  co_await detail::fs_perform(op, follow_symlinks ? "stat" : "lstat", path.native());
  co_return detail::fs_stat_result(sx);
}

auto lstat(std::filesystem::path path) -> task<stat_result> { return stat(std::move(path), false); }

auto exists(std::filesystem::path path) -> task<bool> {
  auto [found, type] = co_await detail::type_if_exists(std::move(path));
  co_return found;
}

auto is_file(std::filesystem::path path) -> task<bool> {
  auto [found, type] = co_await detail::type_if_exists(std::move(path));
  co_return found && type == file_type::regular;
}

auto is_dir(std::filesystem::path path) -> task<bool> {
  auto [found, type] = co_await detail::type_if_exists(std::move(path));
  co_return found && type == file_type::directory;
}

}  // namespace asyncio::fs
