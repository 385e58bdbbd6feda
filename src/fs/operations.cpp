// rename, remove, rmdir, mkdir (one operation each through the fs dispatch, src/fs/dispatch.hpp)
// and remove_all (one thread job for the whole tree).
#include <asyncio/fs/operations.hpp>

#include <asyncio/errors.hpp>
#include <asyncio/fs/stat.hpp>

#include "dispatch.hpp"

#include <fcntl.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace asyncio::fs {

auto rename(std::filesystem::path from, std::filesystem::path to) -> task<void> {
  io::operation op = detail::fs_op(io::opcode::renameat);
  op.path = from.c_str();
  op.path2 = to.c_str();
  std::string both = from.native() + "' -> '" + to.native();  // "rename '<from>' -> '<to>'"
  co_await detail::fs_perform(op, "rename", both);
}

auto remove(std::filesystem::path path) -> task<void> {
  io::operation op = detail::fs_op(io::opcode::unlinkat);
  op.path = path.c_str();
  co_await detail::fs_perform(op, "remove", path.native());
}

auto rmdir(std::filesystem::path path) -> task<void> {
  io::operation op = detail::fs_op(io::opcode::unlinkat);
  op.path = path.c_str();
  op.flags = AT_REMOVEDIR;
  co_await detail::fs_perform(op, "rmdir", path.native());
}

auto remove_all(std::filesystem::path path) -> task<std::uintmax_t> {
  // std::filesystem::remove_all does not follow symbolic links; one job removes the whole tree.
  auto [count, ec] = co_await detail::fs_on_thread([&path]() {
    std::error_code e;
    std::uintmax_t n = std::filesystem::remove_all(path, e);
    return std::pair{n, e};
  });
  if (ec) detail::throw_fs_error(ec.value(), "remove_all", path.native());
  co_return count;
}

auto mkdir(std::filesystem::path path, mkdir_flags flags, unsigned mode) -> task<void> {
  // "a/b/" names "a/b": without this its parent would be "a/b" itself.
  while (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
  const bool with_parents = (flags & parents) == parents;
  const bool ok_if_exists = (flags & exist_ok) == exist_ok;
  int err = 0;
  try {
    io::operation op = detail::fs_op(io::opcode::mkdirat);
    op.path = path.c_str();
    op.mode = mode;
    co_await detail::fs_perform(op, "mkdir", path.native());
    co_return;
  } catch (const os_error& e) {
    err = e.code().value();
    if (!(err == ENOENT && with_parents) && !(err == EEXIST && ok_if_exists)) throw;
  }
  if (err == ENOENT) {
    // A parent is missing: create it (and its own parents), then this one (Path.mkdir's way).
    std::filesystem::path parent = path.parent_path();
    if (parent.empty() || parent == path) detail::throw_fs_error(ENOENT, "mkdir", path.native());
    co_await mkdir(parent, parents | exist_ok, mode);
    co_await mkdir(std::move(path), flags & exist_ok, mode);
    co_return;
  }
  // EEXIST with exist_ok: fine if it is a directory.
  if (!co_await is_dir(path)) detail::throw_fs_error(EEXIST, "mkdir", path.native());
}

}  // namespace asyncio::fs
