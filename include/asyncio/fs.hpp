#pragma once
// fs layer: files and directories without blocking the event loop (what Python gets from aiofiles,
// aiofiles.os and pathlib, in one place). docs/fs.md is the guide; the table below is the map.
//
//   open(path, "r" | "w" | "a" | "x" [+], options) -> file    aiofiles.open (file.hpp)
//   file: read(n) read() read_some(buf) readline() lines()     read / readinto / readline / async for
//         write(data) pread(buf, off) pwrite(data, off)        write / os.pread / os.pwrite
//         seek(off, whence) tell() flush() fsync() close()     seek / tell / flush / os.fsync / close
//         stat() fd() path()                                   os.fstat / fileno / name
//   read_file(path) read_text(path)                            Path.read_bytes / read_text
//   write_file(path, data) append_file(path, data)             Path.write_bytes / open(path, "a")
//   stat(path) lstat(path) exists is_file is_dir               os.stat / os.lstat / Path.exists ... (stat.hpp)
//   rename(a, b) remove(p) rmdir(p) remove_all(p)              os.rename / os.remove / os.rmdir / shutil.rmtree
//   mkdir(p, parents | exist_ok, mode)                         os.mkdir / os.makedirs / Path.mkdir (operations.hpp)
//   list_dir(p) scan_dir(p) walk(top)                          os.listdir / os.scandir / os.walk (directory.hpp)
//   temporary_file() temporary_directory()                     tempfile.NamedTemporaryFile / TemporaryDirectory
//
// Two backends, one behaviour: with the io_uring backend every file call is an operation on the
// loop's ring; with epoll (where a file read would block the loop) the same system call runs on
// the loop's default executor. Directory reads always use the executor (the ring cannot read a
// directory). Either way a cancel withdraws a call not yet started and otherwise waits for the
// running system call, keeping its result: a cancelled write says how much it wrote.
//
// Errors are os_error subclasses chosen by errno (file_not_found_error, file_exists_error,
// permission_error, is_a_directory_error, not_a_directory_error...), with the path in the
// message: "open '/tmp/x': No such file or directory".

#include <asyncio/fs/directory.hpp>
#include <asyncio/fs/file.hpp>
#include <asyncio/fs/operations.hpp>
#include <asyncio/fs/stat.hpp>
#include <asyncio/fs/temporary.hpp>
