// The "coroutine was never awaited" report (Python's RuntimeWarning), and the symbolisation it needs.
//
// task<T>'s destructor pays one branch (has the frame ever run?); everything here runs only when a
// report is made. A coroutine frame starts with its resume function's address on clang and g++
// (docs/lessons.md §3.9), and that function is named after the coroutine, but it is a *local*
// symbol (`t` in nm): dladdr and backtrace_symbols read only the dynamic symbol table and never see
// it, not even with -rdynamic. So the name comes from the ELF file's own symbol table (.symtab),
// read from disk at report time; a stripped binary falls back to the address and an addr2line hint.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/core/task.hpp>

#include <cxxabi.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace asyncio::detail {
namespace {

// ---- which loaded object holds an address ---------------------------------------------------------

struct code_object {
  std::string file;         // path of the ELF file ("/proc/self/exe" for the main program)
  std::uintptr_t bias = 0;  // load bias: address in the file = runtime address - bias
};

// The path to show for a file: the main program's own, rather than "/proc/self/exe".
auto display_path(const std::string& file) -> std::string {
  if (file != "/proc/self/exe") return file;
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
  return n > 0 && static_cast<std::size_t>(n) < sizeof buf ? std::string(buf, static_cast<std::size_t>(n)) : file;
}

auto find_object(std::uintptr_t addr, code_object& out) -> bool {
  struct search {
    std::uintptr_t addr;
    code_object* out;
    bool found;
  } s{addr, &out, false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) -> int {
        auto& s = *static_cast<search*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type != PT_LOAD || s.addr < start || s.addr >= start + ph.p_memsz) continue;
          const char* name = info->dlpi_name;
          s.out->file = (name && *name) ? name : "/proc/self/exe";
          s.out->bias = info->dlpi_addr;
          s.found = true;
          return 1;
        }
        return 0;
      },
      &s);
  return s.found;
}

// ---- the ELF symbol table ---------------------------------------------------------------------------

// A read-only mapping of a whole file, unmapped on scope exit.
class mapped_file {
 public:
  explicit mapped_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const unsigned char*>(p);
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);
  }
  ~mapped_file() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  mapped_file(const mapped_file&) = delete;
  auto operator=(const mapped_file&) -> mapped_file& = delete;

  // A pointer to `n` bytes at `offset`, or null if they are not all inside the file.
  [[nodiscard]] auto at(std::uint64_t offset, std::uint64_t n) const -> const unsigned char* {
    if (!data_ || offset > size_ || n > size_ - offset) return nullptr;
    return data_ + offset;
  }

 private:
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// The mangled name of the function symbol of `file` whose range holds `vaddr` (an address as the file
// states it), searching .symtab (all symbols, local ones included) and then .dynsym. "" if none.
auto function_symbol(const std::string& file, std::uint64_t vaddr) -> std::string {
  mapped_file f(file);
  const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(f.at(0, sizeof(ElfW(Ehdr))));
  if (!eh || std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
      eh->e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32) || eh->e_shentsize != sizeof(ElfW(Shdr)))
    return {};
  const auto* sections =
      reinterpret_cast<const ElfW(Shdr)*>(f.at(eh->e_shoff, std::uint64_t{eh->e_shnum} * sizeof(ElfW(Shdr))));
  if (!sections) return {};
  for (const std::uint32_t wanted : {std::uint32_t{SHT_SYMTAB}, std::uint32_t{SHT_DYNSYM}}) {
    for (unsigned i = 0; i < eh->e_shnum; ++i) {
      const ElfW(Shdr)& sh = sections[i];
      if (sh.sh_type != wanted || sh.sh_link >= eh->e_shnum || sh.sh_entsize != sizeof(ElfW(Sym))) continue;
      const auto* syms = reinterpret_cast<const ElfW(Sym)*>(f.at(sh.sh_offset, sh.sh_size));
      const ElfW(Shdr)& str = sections[sh.sh_link];
      const auto* names = reinterpret_cast<const char*>(f.at(str.sh_offset, str.sh_size));
      if (!syms || !names) continue;
      for (std::uint64_t k = 0; k < sh.sh_size / sizeof(ElfW(Sym)); ++k) {
        const ElfW(Sym)& s = syms[k];
        if ((s.st_info & 0xf) != STT_FUNC || s.st_name >= str.sh_size) continue;
        const bool inside = s.st_size ? (vaddr >= s.st_value && vaddr - s.st_value < s.st_size) : vaddr == s.st_value;
        if (!inside) continue;
        const char* name = names + s.st_name;
        return std::string(name, strnlen(name, str.sh_size - s.st_name));
      }
    }
  }
  return {};
}

auto demangle(const std::string& mangled) -> std::string {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  if (!d) return mangled;
  std::string out(d);
  std::free(d);
  return out;
}

// Where a code address is, for a report: the function's display name if the symbol table has it,
// else "<file>+0x<offset>" and an addr2line command that names it from the debug information.
struct code_place {
  std::string name;   // empty if unknown; then:
  std::string where;  // "<file>+0x<offset>", or the bare address outside any loaded file
  std::string hint;   // the addr2line command that names it from the file's debug information
};

auto place_of(const void* code) -> code_place {
  code_place p;
  code_object obj;
  const auto addr = reinterpret_cast<std::uintptr_t>(code);
  char buf[64];
  if (!find_object(addr, obj)) {
    std::snprintf(buf, sizeof buf, "%p", code);
    p.where = buf;
    return p;
  }
  const std::uint64_t vaddr = addr - obj.bias;
  if (std::string sym = function_symbol(obj.file, vaddr); !sym.empty()) {
    p.name = coroutine_display_name(demangle(sym));
    return p;
  }
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(vaddr));
  const std::string path = display_path(obj.file);
  p.where = path + "+" + buf;
  p.hint = "addr2line -Cfie " + path + " " + buf;
  return p;
}

// The function that dropped the coroutine: the first caller that is not this report's own code
// (asyncio::detail), task<T>'s destructor or assignment when they are not inlined, or the standard
// library destroying a container of tasks. Any other library function is named as it is.
auto dropping_function() -> std::string {
  void* frames[24];
  const int n = ::backtrace(frames, 24);
  for (int i = 1; i < n; ++i) {
    // A return address follows the call; one byte back is inside the calling function.
    const code_place p = place_of(static_cast<const char*>(frames[i]) - 1);
    if (p.name.empty()) return {};  // no symbols: say nothing rather than guess
    const std::string_view name = p.name;
    if (name.starts_with("asyncio::detail::") || name.starts_with("asyncio::task<") || name.starts_with("std::") ||
        name.starts_with("__gnu_cxx::"))
      continue;
    return p.name;
  }
  return {};
}

// Sends a report to the running loop's exception handler, or to stderr without a loop.
void deliver(std::string message) noexcept {
  if (event_loop* loop = running_loop()) {
    loop->call_exception_handler(exception_context(std::move(message)));
    return;
  }
  message = "asyncio: " + message + "\n";  // as event_loop::default_exception_handler prints
  std::fputs(message.c_str(), stderr);
}

// Removes every occurrence of `what` from `s`.
void erase_all(std::string& s, std::string_view what) {
  for (std::size_t at; (at = s.find(what)) != std::string::npos;) s.erase(at, what.size());
}

}  // namespace

auto coroutine_display_name(std::string_view demangled) -> std::string {
  std::string name(demangled);
  // g++: "f(f(int)::_Z1fi.Frame*) [clone .actor]": the coroutine's own signature is the scope of the
  // frame type, inside the outermost parentheses.
  if (const std::size_t frame = name.rfind(".Frame*)"); frame != std::string::npos) {
    const std::size_t close = frame + 7;
    const std::size_t scope = name.rfind("::_Z", frame);
    int depth = 0;
    std::size_t open = close;
    for (std::size_t i = close + 1; i-- > 0;) {
      depth += name[i] == ')' ? 1 : name[i] == '(' ? -1 : 0;
      if (depth == 0) {
        open = i;
        break;
      }
    }
    if (scope != std::string::npos && open < scope) name = name.substr(open + 1, scope - open - 1);
  }
  // clang's " [clone .resume]", g++'s " [clone .actor]" (and " [clone .cold]" after it).
  for (std::size_t at; (at = name.rfind(" [clone ")) != std::string::npos && name.back() == ']';) name.erase(at);
  erase_all(name, "(anonymous namespace)::");
  // A function template's name starts with its return type ("asyncio::task<int> f<int>(int)"): drop
  // everything up to the last space outside brackets before the parameter list.
  int depth = 0;
  std::size_t cut = std::string::npos;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '(' && depth == 0) break;
    if (c == '<' || c == '(' || c == '[')
      ++depth;
    else if (c == '>' || c == ')' || c == ']')
      --depth;
    else if (c == ' ' && depth == 0)
      cut = i;
  }
  if (cut != std::string::npos) name.erase(0, cut + 1);
  return name;
}

[[gnu::noinline]] void report_never_awaited(void* frame_address) noexcept {
  try {
    // The first word of a clang or g++ coroutine frame is its resume function (docs/lessons.md §3.9).
    const void* resume = *static_cast<void* const*>(frame_address);
    const code_place coro = place_of(resume);
    std::string message;
    if (!coro.name.empty()) {
      message = "coroutine '" + coro.name + "' was never awaited";
    } else {
      message = "coroutine at " + coro.where + " was never awaited";
      if (!coro.hint.empty()) message += " (no symbol table; name it with: " + coro.hint + ")";
    }
    if (const std::string by = dropping_function(); !by.empty()) message += "\n  dropped in: " + by;
    deliver(std::move(message));
  } catch (...) {
    // Out of memory while describing it: the report is lost, the destruction goes on.
  }
}

}  // namespace asyncio::detail
