#pragma once
// How many file descriptors this process has open: tests compare the count before and after an
// operation to find a leaked socket, pipe or signal fd.
#include <dirent.h>

namespace test_support {

/// The entries of /proc/self/fd (the directory's own fd included, so compare counts, never values).
inline auto count_open_fds() -> int {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

}  // namespace test_support
