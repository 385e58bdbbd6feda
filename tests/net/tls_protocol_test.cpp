// Transports and protocols over TLS (Python's create_connection(ssl=) / create_server(ssl=) with an
// asyncio.Protocol): the handshake runs before the factory is called, the protocol sees plaintext,
// and close() ends both sides with connection_lost(nullptr). Certificates from
// support/tls_certs.hpp; loopback, real clock, bounded waits.
#include <asyncio/core/run.hpp>
#include <asyncio/net/ssl_error.hpp>
#include <asyncio/net/transport.hpp>
#include <asyncio/time/sleep.hpp>
#include <gtest/gtest.h>

#include <support/tls_certs.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
using asyncio::task;
using test_support::eventually;

namespace {

struct peer : asyncio::protocol {
  std::shared_ptr<asyncio::transport> t;
  std::string data;
  int lost = 0;
  std::exception_ptr error;
  bool echo = false;
  bool tls_at_start = false;
  void connection_made(asyncio::transport& tr) override {
    t = tr.shared_from_this();
    tls_at_start = tr.get_ssl_object().has_value();
  }
  void data_received(std::string_view d) override {
    data += d;
    if (echo) t->write(d);
  }
  void connection_lost(std::exception_ptr e) override {
    ++lost;
    error = e;
  }
};

TEST(TlsProtocol, EchoOverTls) {
  asyncio::run([]() -> task<void> {
    const auto& pki = test_support::test_pki();
    asyncio::server_options so;
    so.ssl = asyncio::ssl_context::server(pki.server_cert, pki.server_key);
    std::vector<std::shared_ptr<peer>> made;
    auto server_factory = [&made] {
      made.push_back(std::make_shared<peer>());
      made.back()->echo = true;
      return made.back();
    };
    auto srv = co_await asyncio::create_server(server_factory, "127.0.0.1", 0, so);

    asyncio::connect_options co;
    co.ssl = asyncio::ssl_context::client();
    co.ssl->load_verify_locations(pki.ca_cert);
    co.server_hostname = "localhost";
    auto client_factory = [] { return std::make_shared<peer>(); };
    auto [tr, proto] = co_await asyncio::create_connection(client_factory, "127.0.0.1", srv.port(), co);
    EXPECT_TRUE(proto->tls_at_start);  // the handshake is done before connection_made
    tr->write("secret");
    EXPECT_TRUE(co_await eventually([&] { return proto->data == "secret"; }));
    EXPECT_TRUE(made.front()->tls_at_start);
    tr->close();
    EXPECT_TRUE(co_await eventually([&] { return proto->lost == 1 && made.front()->lost == 1; }));
    EXPECT_FALSE(proto->error);
    EXPECT_FALSE(made.front()->error);
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(TlsProtocol, UntrustedServerFailsBeforeTheFactory) {
  asyncio::run([]() -> task<void> {
    const auto& pki = test_support::test_pki();
    asyncio::server_options so;
    so.ssl = asyncio::ssl_context::server(pki.rogue_server_cert, pki.rogue_server_key);
    auto server_factory = [] { return std::make_shared<peer>(); };
    auto srv = co_await asyncio::create_server(server_factory, "127.0.0.1", 0, so);
    asyncio::connect_options co;
    co.ssl = asyncio::ssl_context::client();
    co.ssl->load_verify_locations(pki.ca_cert);
    co.server_hostname = "localhost";
    bool called = false;
    auto client_factory = [&called] {
      called = true;
      return std::make_shared<peer>();
    };
    EXPECT_THROW(co_await asyncio::create_connection(client_factory, "127.0.0.1", srv.port(), co),
                 asyncio::ssl_certificate_verify_error);
    EXPECT_FALSE(called);
    srv.close();
    srv.abort_clients();
    co_await srv.wait_closed();
  }());
}

}  // namespace
