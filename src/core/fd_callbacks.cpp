// add_reader / add_writer: level-triggered callbacks on file descriptors (Python's loop.add_reader
// and loop.add_writer), kept as io::interest registrations with the loop's io driver.
#include <asyncio/core/event_loop.hpp>
#include <asyncio/errors.hpp>

#include <cstddef>
#include <utility>

namespace asyncio {

struct event_loop::callback_interest : io::interest {
  event_loop* loop = nullptr;
  detail::unique_function<void()> fn;
  bool running = false;
  bool removed = false;

  static void on_ready(io::interest* self) noexcept {
    auto* ci = static_cast<callback_interest*>(self);
    ci->running = true;
    try {
      ci->fn();
    } catch (...) {
      exception_context ctx("Exception in add_reader/add_writer callback", std::current_exception());
      ci->loop->call_exception_handler(ctx);
    }
    ci->running = false;
    if (ci->removed) delete ci;
  }

  // add_reader/add_writer and remove_reader/remove_writer differ only in the direction, so each
  // pair is one function. callback_interests_ is indexed by fd*2 + direction.
  static void add(event_loop& loop, int fd, io::direction d, detail::unique_function<void()> fn);
  static auto remove(event_loop& loop, int fd, io::direction d) -> bool;
};

void event_loop::callback_interest::add(event_loop& loop, int fd, io::direction d, detail::unique_function<void()> fn) {
  std::size_t slot = static_cast<std::size_t>(fd) * 2 + static_cast<std::size_t>(d);
  auto& table = loop.callback_interests_;
  if (slot >= table.size()) table.resize(static_cast<std::size_t>(fd) * 2 + 2, nullptr);  // both directions
  remove(loop, fd, d);
  auto* ci = new callback_interest;
  ci->ready = &on_ready;
  ci->loop = &loop;
  ci->fn = std::move(fn);
  try {
    loop.io_->set_interest(fd, d, ci);
  } catch (...) {
    delete ci;
    throw;
  }
  table[slot] = ci;
}

auto event_loop::callback_interest::remove(event_loop& loop, int fd, io::direction d) -> bool {
  std::size_t slot = static_cast<std::size_t>(fd) * 2 + static_cast<std::size_t>(d);
  auto& table = loop.callback_interests_;
  if (fd < 0 || slot >= table.size() || !table[slot]) return false;
  callback_interest* ci = std::exchange(table[slot], nullptr);
  loop.io_->set_interest(fd, d, nullptr);
  if (ci->running) ci->removed = true;
  else delete ci;
  return true;
}

void event_loop::add_reader(int fd, detail::unique_function<void()> fn) {
  check_thread("add_reader");
  callback_interest::add(*this, fd, io::direction::read, std::move(fn));
}

auto event_loop::remove_reader(int fd) -> bool { return callback_interest::remove(*this, fd, io::direction::read); }

void event_loop::add_writer(int fd, detail::unique_function<void()> fn) {
  check_thread("add_writer");
  callback_interest::add(*this, fd, io::direction::write, std::move(fn));
}

auto event_loop::remove_writer(int fd) -> bool { return callback_interest::remove(*this, fd, io::direction::write); }

}  // namespace asyncio
