// examples/subprocess.cpp: run `ls` and stream its output line by line; then give a slow child
// (`sleep 10`) a deadline and kill it when the deadline passes.
// Run: ./subprocess [directory] [deadline-ms]      e.g. ./subprocess /usr 500
// Shows: create_subprocess_exec, redirect::pipe, stream_reader::readline on the pipe, wait/returncode, kill,
//        asyncio::wait_for as the deadline (the wait is cancelled, not the child: kill it, then reap it).
// ctest-args: . 100
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

// Streams `ls -1 dir`, numbering the lines as they arrive.
auto list_directory(std::string dir) -> asyncio::task<int> {
  asyncio::process_options options{.std_out = asyncio::redirect::pipe};
  auto ls = co_await asyncio::create_subprocess_exec("ls", "-1", dir, options);
  int n = 0;
  for (;;) {
    std::string line = co_await ls.std_out().readline();
    if (line.empty()) break;  // EOF
    std::printf("%3d  %s", ++n, line.c_str());
  }
  int status = co_await ls.wait();
  std::printf("ls exited with %d after %d lines\n", status, n);
  co_return status;
}

auto run_with_deadline(std::chrono::milliseconds deadline) -> asyncio::task<int> {
  auto slow = co_await asyncio::create_subprocess_exec("sleep", "10");
  int status = 0;
  try {
    status = co_await asyncio::wait_for(slow.wait(), deadline);
  } catch (const asyncio::timeout_error&) {
    std::printf("deadline of %lld ms passed: killing pid %d\n", static_cast<long long>(deadline.count()), slow.pid());
    slow.kill();
  }
  if (auto rc = slow.returncode()) status = *rc;
  else status = co_await slow.wait();  // reap the killed child: no zombie
  std::printf("sleep 10 ended with returncode %d (negative = killed by that signal)\n", status);
  co_return status;
}

auto amain(std::string dir, std::chrono::milliseconds deadline) -> asyncio::task<int> {
  int listed = co_await list_directory(dir);
  if (listed != 0) co_return 1;
  int status = co_await run_with_deadline(deadline);
  co_return status == -9 ? 0 : 1;  // SIGKILL, as expected
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : ".";
  std::chrono::milliseconds deadline(argc > 2 ? std::stoll(argv[2]) : 500);
  try {
    return asyncio::run(amain(dir, deadline));
  } catch (const asyncio::keyboard_interrupt&) {
    asyncio::keyboard_interrupt::exit_by_signal();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "subprocess: %s\n", e.what());
    return 1;
  }
}
