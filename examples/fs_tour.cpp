// examples/fs_tour.cpp: a tour of asyncio::fs, Python's aiofiles + os + pathlib + tempfile in one
// place (docs/fs.md): a temporary directory, writing and reading files (whole, by lines, at
// offsets), stat, mkdir with parents, rename, listing and walking the tree, and the error a
// missing file raises. Everything it creates goes away with the temporary directory.
//
// Run: ./fs_tour
// ctest-expect: wrote 3 lines, 17 bytes
// ctest-expect: line 1: alpha
// ctest-expect: line 3: gamma
// ctest-expect: pread at 6: beta
// ctest-expect: notes/2024/march.txt is a file of 17 bytes, mode 644
// ctest-expect: walk: \. dirs=\[notes\] files=\[\]
// ctest-expect: walk: notes/2024 dirs=\[\] files=\[april.txt march.txt\]
// ctest-expect: open '.*/missing.txt': No such file or directory
// ctest-expect: temporary directory removed: yes
#include <asyncio/asyncio.hpp>

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace fs = asyncio::fs;

namespace {

auto join(const std::vector<std::string>& names) -> std::string {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

auto tour() -> asyncio::task<void> {
  ::umask(022);
  std::filesystem::path root;
  {
    auto dir = co_await fs::temporary_directory("fs_tour-");  // tempfile.TemporaryDirectory()
    root = dir.path();

    // makedirs(root / "notes" / "2024", exist_ok=True)
    std::filesystem::path notes = root / "notes" / "2024";
    co_await fs::mkdir(notes, fs::parents | fs::exist_ok);

    // async with aiofiles.open(path, "w") as f: await f.write(...)
    auto f = co_await fs::open(notes / "draft.txt", "w");
    for (const char* word : {"alpha", "beta", "gamma"}) {
      co_await f.write(word);
      co_await f.write("\n");  // buffered: neither call suspends
    }
    std::printf("wrote 3 lines, %lld bytes\n", static_cast<long long>(f.tell()));
    co_await f.close();

    // async for line in f:
    auto r = co_await fs::open(notes / "draft.txt");
    int n = 0;
    auto lines = r.lines();
    while (auto line = co_await lines.next()) {
      std::printf("line %d: %s", ++n, line->c_str());
    }
    std::array<char, 4> word{};
    std::size_t got = co_await r.pread(word, 6);  // os.pread(fd, 4, 6)
    std::printf("pread at 6: %.*s\n", static_cast<int>(got), word.data());
    co_await r.close();

    // os.rename, os.stat
    co_await fs::rename(notes / "draft.txt", notes / "march.txt");
    co_await fs::write_file(notes / "april.txt", "spring\n");
    fs::stat_result st = co_await fs::stat(notes / "march.txt");
    std::printf("notes/2024/march.txt is %s of %llu bytes, mode %o\n", st.is_file() ? "a file" : "not a file",
                static_cast<unsigned long long>(st.size), st.permissions());

    // for root, dirs, files in os.walk(top):
    auto tree = fs::walk(root);
    while (auto level = co_await tree.next()) {
      std::string where = level->root.lexically_relative(root).native();
      std::printf("walk: %s dirs=[%s] files=[%s]\n", where.c_str(), join(level->dirs).c_str(),
                  join(level->files).c_str());
    }

    // FileNotFoundError, with the path in the message
    try {
      auto missing = co_await fs::open(root / "missing.txt");
    } catch (const asyncio::file_not_found_error& e) {
      std::printf("%s\n", e.what());
    }
  }  // the temp_dir's destructor removes the tree (await dir.remove() does it on a thread)
  bool still_there = co_await fs::exists(root);
  std::printf("temporary directory removed: %s\n", still_there ? "no" : "yes");
}

}  // namespace

int main() { asyncio::run(tour()); }
