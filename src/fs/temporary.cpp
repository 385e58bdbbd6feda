// Temporary files and directories: random names created exclusively (O_EXCL, mkdir), retried on a
// collision, removed by the owner (remove() on the thread pool, or the destructor synchronously).
#include <asyncio/fs/temporary.hpp>

#include <asyncio/errors.hpp>
#include <asyncio/fs/operations.hpp>

#include "dispatch.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <system_error>

namespace asyncio::fs {
namespace {

constexpr int max_attempts = 100;  // as Python's tempfile (TMP_MAX is larger, never needed)

/// prefix followed by 8 random characters from [a-z0-9_] (Python's tempfile alphabet).
auto random_name(const std::string& prefix) -> std::string {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
  std::string name = prefix;
  for (int i = 0; i < 8; ++i) name += alphabet[pick(rng)];
  return name;
}

auto base_directory(std::filesystem::path dir) -> std::filesystem::path {
  if (!dir.empty()) return dir;
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  return ec ? std::filesystem::path("/tmp") : tmp;
}

}  // namespace

auto temp_dir::operator=(temp_dir&& other) noexcept -> temp_dir& {
  if (this != &other) {
    temp_dir old(std::exchange(path_, std::exchange(other.path_, {})));
  }
  return *this;
}

temp_dir::~temp_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) {
    try {
      detail::fs_report("fs: temporary directory '" + path_.native() + "' not removed: " + ec.message());
    } catch (...) {
    }
  }
}

auto temp_dir::remove() -> task<void> {
  std::filesystem::path path = std::exchange(path_, {});
  if (path.empty()) co_return;
  co_await fs::remove_all(std::move(path));
}

auto temp_file::operator=(temp_file&& other) noexcept -> temp_file& {
  if (this != &other) {
    discard();
    file::operator=(std::move(other));
    name_ = std::exchange(other.name_, {});
  }
  return *this;
}

temp_file::~temp_file() { discard(); }

void temp_file::discard() noexcept {
  discard_buffer();
  if (!name_.empty()) ::unlink(name_.c_str());
  name_.clear();
}

auto temp_file::remove() -> task<void> {
  std::filesystem::path name = std::exchange(name_, {});
  std::exception_ptr error;
  try {
    co_await close();
  } catch (...) {
    error = std::current_exception();  // closed all the same (file::close); still remove it
  }
  if (!name.empty()) {
    if (error) {
      ::unlink(name.c_str());
    } else {
      co_await fs::remove(std::move(name));
    }
  }
  if (error) std::rethrow_exception(error);
}

auto temporary_directory(std::string prefix, std::filesystem::path dir) -> task<temp_dir> {
  std::filesystem::path base = base_directory(std::move(dir));
  for (int attempt = 0;; ++attempt) {
    std::filesystem::path candidate = base / random_name(prefix);
    io::operation op = detail::fs_op(io::opcode::mkdirat);
    op.path = candidate.c_str();
    op.mode = 0700;
    try {
      co_await detail::fs_perform(op, "mkdir", candidate.native());
    } catch (const file_exists_error&) {
      if (attempt + 1 == max_attempts) throw;
      continue;
    }
    // Owned from here: a cancel pending for the next suspension finds it removed by temp_dir.
    co_return temp_dir(std::move(candidate));
  }
}

auto temporary_file(std::string prefix, std::filesystem::path dir, open_options options) -> task<temp_file> {
  std::filesystem::path base = base_directory(std::move(dir));
  options.permissions = 0600;
  for (int attempt = 0;; ++attempt) {
    std::filesystem::path candidate = base / random_name(prefix);
    file f;
    try {
      f = co_await open(candidate, open_mode::read | open_mode::write | open_mode::create | open_mode::exclusive,
                        options);
    } catch (const file_exists_error&) {
      if (attempt + 1 == max_attempts) throw;
      continue;
    } catch (...) {
      // open() may have created the file before it raised (a cancel during its second step):
      // the random name is ours, so remove it.
      ::unlink(candidate.c_str());
      throw;
    }
    co_return temp_file(std::move(f), std::move(candidate));
  }
}

}  // namespace asyncio::fs
