// The low-level socket coroutines used directly: sock_recv_into (into a caller's buffer: partial
// reads, EOF, cancellation losing nothing), sock_recvfrom_into (UDP) and sock_sendfile. Over a TCP connection on loopback; no timers: a parked
// reader is observed after a few loop iterations (sleep(0)), which is deterministic.
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <support/net_helpers.hpp>
#include <support/sync_helpers.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <utility>

using namespace std::chrono_literals;
using asyncio::task;

namespace {

// A connected pair of TCP sockets on 127.0.0.1.
struct tcp_pair {
  asyncio::socket client;
  asyncio::socket server;
};

auto make_tcp_pair() -> task<tcp_pair> {
  asyncio::socket listener(AF_INET, SOCK_STREAM);
  listener.bind(asyncio::address::ipv4("127.0.0.1", 0));
  listener.listen(1);
  tcp_pair p;
  p.client = asyncio::socket(AF_INET, SOCK_STREAM);
  co_await test_support::bounded(asyncio::sock_connect(p.client, listener.getsockname()));
  asyncio::accepted_socket a = co_await test_support::bounded(asyncio::sock_accept(listener));
  p.server = std::move(a.sock);
  listener.close();
  co_return p;
}

// Lets the loop run a few iterations so that a task just created reaches its first wait.
// Reads until `n` bytes arrived (or EOF), each read bounded in time.
auto recv_bytes(asyncio::socket& s, std::size_t n) -> task<std::string> {
  std::string got;
  std::array<char, 32> buf{};
  while (got.size() < n) {
    std::size_t k = co_await test_support::bounded(asyncio::sock_recv_into(s, buf));
    if (k == 0) break;
    got.append(buf.data(), k);
  }
  co_return got;
}

auto recv_into(asyncio::socket* s, std::span<char> buf) -> task<std::size_t> {
  co_return co_await asyncio::sock_recv_into(*s, buf);
}

auto partial_reads_and_eof() -> task<void> {
  tcp_pair p = co_await make_tcp_pair();
  co_await asyncio::sock_sendall(p.client, "hello world");
  // Wait until all 11 bytes are readable, so the reads below see them together.
  std::array<char, 16> peek{};
  EXPECT_TRUE(co_await test_support::eventually([&] {
    return ::recv(p.server.fileno(), peek.data(), peek.size(), MSG_PEEK | MSG_DONTWAIT) == 11;
  }));

  // A buffer smaller than what is there gets exactly its size; the rest stays for the next read.
  std::array<char, 5> small{};
  std::size_t n = co_await test_support::bounded(asyncio::sock_recv_into(p.server, small));
  EXPECT_EQ(n, 5u);
  EXPECT_EQ(std::string_view(small.data(), n), "hello");
  std::array<char, 64> big{};
  big.fill('#');
  n = co_await test_support::bounded(asyncio::sock_recv_into(p.server, big));
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(std::string_view(big.data(), n), " world");
  EXPECT_EQ(big[6], '#');  // nothing written past what was received

  // A read into part of a buffer writes only there.
  co_await asyncio::sock_sendall(p.client, "xy");
  big.fill('#');
  n = co_await test_support::bounded(asyncio::sock_recv_into(p.server, std::span<char>(big).subspan(3, 10)));
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(std::string_view(big.data(), 6), "###xy#");

  // The peer's shutdown(SHUT_WR) reads as 0 (EOF), every time.
  p.client.shutdown(SHUT_WR);
  EXPECT_EQ(co_await test_support::bounded(asyncio::sock_recv_into(p.server, big)), 0u);
  EXPECT_EQ(co_await test_support::bounded(asyncio::sock_recv_into(p.server, big)), 0u);
  p.client.close();
  p.server.close();
}

TEST(SockRecvInto, PartialReadsAndEof) { asyncio::run(partial_reads_and_eof()); }

auto waits_then_receives() -> task<void> {
  tcp_pair p = co_await make_tcp_pair();
  std::array<char, 32> buf{};
  auto reader = asyncio::create_task(recv_into(&p.server, buf));
  co_await test_support::yield(5);
  EXPECT_FALSE(reader.done());  // nothing sent yet: parked, not spinning to a result
  co_await asyncio::sock_sendall(p.client, "late");
  std::size_t n = co_await test_support::bounded(std::move(reader));
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(std::string_view(buf.data(), n), "late");
  p.client.close();
  p.server.close();
}

TEST(SockRecvInto, WaitsForDataThenResumes) { asyncio::run(waits_then_receives()); }

auto cancel_loses_nothing() -> task<void> {
  tcp_pair p = co_await make_tcp_pair();
  std::array<char, 32> cancelled_buf{};
  cancelled_buf.fill('#');
  auto pending = asyncio::create_task(recv_into(&p.server, cancelled_buf));
  co_await test_support::yield(5);
  EXPECT_FALSE(pending.done());
  pending.cancel();
  bool cancelled = false;
  try {
    (void)co_await pending;
  } catch (const asyncio::cancelled_error&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(pending.cancelled());

  // Bytes sent after the cancel all go to the next reader; the cancelled one's buffer is untouched.
  co_await asyncio::sock_sendall(p.client, "after-cancel");
  std::string got = co_await recv_bytes(p.server, 12);
  EXPECT_EQ(got, "after-cancel");
  for (char c : cancelled_buf) EXPECT_EQ(c, '#');

  // A reader cancelled twice in a row, then data: still delivered whole to the next read.
  for (int round = 0; round < 2; ++round) {
    auto again = asyncio::create_task(recv_into(&p.server, cancelled_buf));
    co_await test_support::yield(5);
    co_await test_support::cancel_and_wait(again);
    EXPECT_TRUE(again.cancelled());
  }
  co_await asyncio::sock_sendall(p.client, "still-there");
  got = co_await recv_bytes(p.server, 11);
  EXPECT_EQ(got, "still-there");
  for (char c : cancelled_buf) EXPECT_EQ(c, '#');
  p.client.close();
  p.server.close();
}

TEST(SockRecvInto, CancelledReadLosesNothing) { asyncio::run(cancel_loses_nothing()); }

// ---- sock_recvfrom_into ------------------------------------------------------------------------

auto recvfrom_into_datagrams() -> task<void> {
  asyncio::socket a = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
  asyncio::socket b = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
  std::array<char, 16> buf{};
  buf.fill('#');

  // A read that waits, cancelled: the datagram sent afterwards goes to the next read.
  auto pending = asyncio::create_task(asyncio::sock_recvfrom_into(a, buf));
  co_await test_support::yield(5);
  EXPECT_FALSE(pending.done());
  co_await test_support::cancel_and_wait(pending);
  EXPECT_TRUE(pending.cancelled());

  co_await asyncio::sock_sendto(b, "hello", a.getsockname());
  asyncio::recvfrom_result r = co_await test_support::bounded(asyncio::sock_recvfrom_into(a, buf));
  EXPECT_EQ(r.size, 5u);
  EXPECT_EQ(std::string_view(buf.data(), r.size), "hello");
  EXPECT_EQ(buf[5], '#');
  EXPECT_EQ(r.from, b.getsockname());

  // nbytes limits the read; the rest of the datagram is dropped (recvfrom(2)).
  co_await asyncio::sock_sendto(b, "truncated", a.getsockname());
  r = co_await test_support::bounded(asyncio::sock_recvfrom_into(a, buf, 4));
  EXPECT_EQ(r.size, 4u);
  EXPECT_EQ(std::string_view(buf.data(), 4), "trun");
  co_await asyncio::sock_sendto(b, "next", a.getsockname());
  r = co_await test_support::bounded(asyncio::sock_recvfrom_into(a, buf));
  EXPECT_EQ(std::string_view(buf.data(), r.size), "next");

  EXPECT_THROW((void)co_await asyncio::sock_recvfrom_into(a, buf, buf.size() + 1), std::invalid_argument);
  a.close();
  b.close();
}

TEST(SockRecvfromInto, ReceivesIntoTheBufferWithTheSender) { asyncio::run(recvfrom_into_datagrams()); }

// ---- sock_sendfile --------------------------------------------------------------------------------

struct temp_file {
  int fd = -1;
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/asyncio_sock_sendfile_XXXXXX";
    fd = ::mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp");
    ::unlink(name);
    if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()))
      throw std::runtime_error("write");
  }
  temp_file(const temp_file&) = delete;
  auto operator=(const temp_file&) -> temp_file& = delete;
  ~temp_file() { ::close(fd); }
};

auto recv_all(asyncio::socket* s) -> task<std::string> {
  std::string got;
  std::array<char, 65536> buf{};
  for (;;) {
    std::size_t n = co_await asyncio::sock_recv_into(*s, buf);
    if (n == 0) break;
    got.append(buf.data(), n);
  }
  co_return got;
}

auto sendfile_ranges() -> task<void> {
  std::string content(5 << 20, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('A' + (i * 13 + i / 4093) % 26);
  temp_file file(content);
  tcp_pair p = co_await make_tcp_pair();
  auto receiver = asyncio::create_task(recv_all(&p.server));
  // 5 MiB is more than the socket buffers hold: the copy waits for the receiver several times.
  std::size_t sent = co_await test_support::bounded(asyncio::sock_sendfile(p.client, file.fd, 3), 60s);
  EXPECT_EQ(sent, content.size() - 3);
  EXPECT_EQ(::lseek(file.fd, 0, SEEK_CUR), static_cast<off_t>(content.size()));  // Python: position updated
  sent = co_await test_support::bounded(asyncio::sock_sendfile(p.client, file.fd, 100, 1000));
  EXPECT_EQ(sent, 1000u);
  EXPECT_EQ(::lseek(file.fd, 0, SEEK_CUR), 1100);
  // A count past the end stops at the end.
  sent = co_await test_support::bounded(asyncio::sock_sendfile(p.client, file.fd, static_cast<off_t>(content.size() - 5), 100));
  EXPECT_EQ(sent, 5u);
  p.client.shutdown(SHUT_WR);
  std::string got = co_await test_support::bounded(std::move(receiver), 60s);
  EXPECT_TRUE(got == content.substr(3) + content.substr(100, 1000) + content.substr(content.size() - 5));
  EXPECT_EQ(got.size(), content.size() - 3 + 1000 + 5);

  EXPECT_THROW((void)co_await asyncio::sock_sendfile(p.client, file.fd, -1), std::invalid_argument);
  EXPECT_THROW((void)co_await asyncio::sock_sendfile(p.client, file.fd, 0, 0), std::invalid_argument);
  asyncio::socket udp = asyncio::create_datagram_socket(asyncio::address::ipv4("127.0.0.1", 0));
  EXPECT_THROW((void)co_await asyncio::sock_sendfile(udp, file.fd), std::invalid_argument);
  udp.close();
  p.client.close();
  p.server.close();
}

TEST(SockSendfile, SendsFileRangesAndUpdatesThePosition) { asyncio::run(sendfile_ranges()); }

auto sendfile_from_a_pipe() -> task<void> {
  // Whether the kernel can sendfile from a pipe or not (then the read+send fallback runs), the
  // bytes arrive, up to the pipe's EOF.
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], "from a pipe", 11), 11);
  ::close(fds[1]);
  tcp_pair p = co_await make_tcp_pair();
  std::size_t sent = co_await test_support::bounded(asyncio::sock_sendfile(p.client, fds[0]));
  EXPECT_EQ(sent, 11u);
  ::close(fds[0]);
  p.client.shutdown(SHUT_WR);
  EXPECT_EQ(co_await test_support::bounded(recv_all(&p.server)), "from a pipe");
  p.client.close();
  p.server.close();
}

TEST(SockSendfile, FromAPipe) { asyncio::run(sendfile_from_a_pipe()); }

}  // namespace
