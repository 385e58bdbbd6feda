// Runs one documentation snippet by name (docs/conventions.md §9): doc_tests <document>.<n>. Exit 77
// (ctest's SKIP_RETURN_CODE) for a snippet that is only compiled; `doc_tests --list` lists them all.
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "doc_fixture.hpp"

namespace doc {
auto registry() -> std::vector<entry>& {
  static std::vector<entry> r;
  return r;
}
}  // namespace doc

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <document>.<n> | --list\n", argv[0]);
    return 2;
  }
  for (const doc::entry& e : doc::registry()) {
    if (std::strcmp(argv[1], "--list") == 0) {
      std::printf("%s%s\n", e.name, e.compile_only ? " (compile-only)" : e.run ? "" : " (declarations)");
      continue;
    }
    if (std::strcmp(argv[1], e.name) != 0) continue;
    if (e.compile_only || e.run == nullptr) {
      std::printf("%s: %s\n", e.name, e.compile_only ? "compile-only, compiled" : "declarations only, compiled");
      return 77;
    }
    try {
      return e.run();
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "%s threw: %s\n", e.name, ex.what());
      return 1;
    }
  }
  if (std::strcmp(argv[1], "--list") == 0) return 0;
  std::fprintf(stderr, "no snippet %s\n", argv[1]);
  return 2;
}
