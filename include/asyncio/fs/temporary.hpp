#pragma once
// Temporary files and directories that remove themselves (Python's tempfile.NamedTemporaryFile and
// TemporaryDirectory; mkstemp / mkdtemp semantics: a fresh random name, created exclusively,
// readable only by the owner).
//
//   auto dir = co_await asyncio::fs::temporary_directory();   // e.g. /tmp/tmpk3x9q1ab, mode 0700
//   auto tmp = co_await asyncio::fs::temporary_file("data-", dir.path());   // opened "w+", mode 0600
//   co_await tmp.write("scratch");
//   co_await tmp.seek(0);
//   std::string back = co_await tmp.read();
//   if (back != "scratch") throw std::logic_error("temporary_file");
//   co_await dir.remove();   // or let the destructor remove it
//
// Removal: `remove()` is awaited and runs on the thread pool. A temp_dir or temp_file destroyed
// without it is removed synchronously by its destructor (blocking the loop for that long: a
// directory with a large tree is better removed with remove()). release() keeps it instead.
#include <filesystem>
#include <string>
#include <utility>

#include <asyncio/core/task.hpp>
#include <asyncio/fs/file.hpp>

namespace asyncio::fs {

/// A directory removed, with everything in it, when this object is destroyed or remove() is
/// awaited (Python's TemporaryDirectory). Move-only; a moved-from temp_dir owns nothing.
///
/// Thread safety: loop-affine (remove() is awaited on a loop); the destructor may run anywhere.
class temp_dir {
 public:
  temp_dir() noexcept = default;
  explicit temp_dir(std::filesystem::path path) noexcept : path_(std::move(path)) {}
  temp_dir(temp_dir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  auto operator=(temp_dir&& other) noexcept -> temp_dir&;
  temp_dir(const temp_dir&) = delete;
  auto operator=(const temp_dir&) -> temp_dir& = delete;
  /// Removes the directory tree synchronously unless removed or released; a failure goes to the
  /// running loop's exception handler (or stderr).
  ~temp_dir();

  /// The directory's path (empty once removed or released).
  [[nodiscard]] auto path() const noexcept -> const std::filesystem::path& { return path_; }
  /// Removes the directory and everything in it (fs::remove_all).
  /// Cancellation: as remove_all; the object owns nothing afterwards, whatever happened.
  /// Resumes: once removed. Throws: as remove_all.
  auto remove() -> task<void>;
  /// Gives up ownership: the directory stays; returns its path (Python's mkdtemp).
  auto release() noexcept -> std::filesystem::path { return std::exchange(path_, {}); }

 private:
  std::filesystem::path path_;
};

/// A file, open "w+", removed when this object is destroyed or remove() is awaited (Python's
/// NamedTemporaryFile). It is an fs::file: read, write and seek it as one. Closing it does not
/// remove it (it may be reopened by name until then).
///
/// Thread safety: as fs::file.
class temp_file : public file {
 public:
  temp_file() noexcept = default;
  temp_file(file f, std::filesystem::path path) noexcept : file(std::move(f)), name_(std::move(path)) {}
  temp_file(temp_file&& other) noexcept = default;
  auto operator=(temp_file&& other) noexcept -> temp_file&;
  temp_file(const temp_file&) = delete;
  auto operator=(const temp_file&) -> temp_file& = delete;
  /// Drops what is still buffered (the file is going away), closes and removes it synchronously.
  ~temp_file();

  /// close() (writing the buffer out), then removes the file.
  /// Cancellation: as close, then as fs::remove; the object owns nothing afterwards, whatever happened.
  /// Resumes: once removed. Throws: as close and fs::remove.
  auto remove() -> task<void>;
  /// Gives up ownership of the name: the file stays after this object (its fd stays open, as
  /// any file's, until closed or destroyed); returns its path (Python's mkstemp).
  auto release() noexcept -> std::filesystem::path { return std::exchange(name_, {}); }

 private:
  void discard() noexcept;
  std::filesystem::path name_;
};

/// Creates a fresh directory `dir`/`prefix`XXXXXXXX (8 random characters [a-z0-9_]) with mode 0700
/// (Python's TemporaryDirectory / mkdtemp). An empty `dir` means the system's temporary directory
/// ($TMPDIR, else /tmp).
/// Cancellation: safe: a directory created before the cancel took effect is removed.
/// Resumes: once created.
/// Throws: os_error (permission_error, file_not_found_error for a missing `dir`...).
auto temporary_directory(std::string prefix = "tmp", std::filesystem::path dir = {}) -> task<temp_dir>;

/// Creates and opens "w+" a fresh file `dir`/`prefix`XXXXXXXX with mode 0600 (Python's
/// NamedTemporaryFile / mkstemp); `options` as open()'s (its permissions are ignored).
/// Cancellation: safe: a file created before the cancel took effect is removed.
/// Resumes: once open.
/// Throws: as temporary_directory.
auto temporary_file(std::string prefix = "tmp", std::filesystem::path dir = {}, open_options options = {})
    -> task<temp_file>;

}  // namespace asyncio::fs
