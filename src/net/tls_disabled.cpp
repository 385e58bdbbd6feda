// Built instead of ssl_context.cpp, ssl_object.cpp and tls_layer.cpp when ASYNCIO_WITH_OPENSSL is
// OFF: the TLS API links and throws at run time, so code that never asks for TLS needs no OpenSSL.
#include <asyncio/errors.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/ssl_object.hpp>

#include "net/tls_wrap.hpp"

namespace asyncio {
namespace {
[[noreturn]] void unavailable() { throw error("TLS is unavailable: asyncio was built with ASYNCIO_WITH_OPENSSL=OFF"); }
}  // namespace

auto ssl_context::client() -> ssl_context { unavailable(); }
auto ssl_context::server() -> ssl_context { unavailable(); }
auto ssl_context::server(const std::string&, const std::string&) -> ssl_context { unavailable(); }
void ssl_context::load_verify_locations(const std::string&, const std::string&) { unavailable(); }
void ssl_context::load_verify_cadata(std::string_view) { unavailable(); }
void ssl_context::load_default_certs() { unavailable(); }
void ssl_context::load_cert_chain(const std::string&, const std::string&, const std::string&) { unavailable(); }
void ssl_context::set_alpn_protocols(const std::vector<std::string>&) { unavailable(); }
void ssl_context::set_verify_mode(asyncio::verify_mode) { unavailable(); }
auto ssl_context::get_verify_mode() const noexcept -> asyncio::verify_mode { return verify_mode::none; }
void ssl_context::set_check_hostname(bool) { unavailable(); }
auto ssl_context::check_hostname() const noexcept -> bool { return false; }
void ssl_context::set_minimum_version(tls_version) { unavailable(); }
void ssl_context::set_maximum_version(tls_version) { unavailable(); }
void ssl_context::set_ciphers(const std::string&) { unavailable(); }
void ssl_context::set_suppress_ragged_eofs(bool) noexcept {}
auto ssl_context::suppress_ragged_eofs() const noexcept -> bool { return true; }
auto ssl_context::native_handle() const noexcept -> ssl_ctx_st* { return nullptr; }
auto ssl_context::is_server() const noexcept -> bool { return false; }
void ssl_context::set_sni_callback(std::function<std::optional<ssl_context>(std::string_view)>) { unavailable(); }

auto ssl_session::is_resumable() const noexcept -> bool { return false; }
auto ssl_session::has_ticket() const noexcept -> bool { return false; }
auto ssl_session::ticket_lifetime_hint() const noexcept -> std::chrono::seconds { return std::chrono::seconds(0); }

auto ssl_object::version() const -> std::string { unavailable(); }
auto ssl_object::cipher() const -> std::string { unavailable(); }
auto ssl_object::cipher_bits() const -> int { unavailable(); }
auto ssl_object::selected_alpn_protocol() const -> std::optional<std::string> { unavailable(); }
auto ssl_object::server_hostname() const -> std::optional<std::string> { unavailable(); }
auto ssl_object::getpeercert() const -> std::optional<certificate> { unavailable(); }
auto ssl_object::server_side() const -> bool { unavailable(); }
auto ssl_object::session_reused() const -> bool { unavailable(); }
auto ssl_object::session() const -> std::optional<ssl_session> { unavailable(); }
auto ssl_object::close_notify_received() const -> bool { unavailable(); }
auto ssl_object::native_handle() const noexcept -> ssl_st* { return nullptr; }

}  // namespace asyncio

namespace asyncio::detail {

struct tls_layer {};
void tls_layer_deleter::operator()(tls_layer* p) const noexcept { delete p; }

auto tls_wrap(std::shared_ptr<stream_transport>, ssl_context, bool, std::string, std::optional<duration>,
              std::optional<ssl_session>) -> task<void> {
  unavailable();
  co_return;
}
auto tls_extra_info(const std::shared_ptr<stream_transport>&, std::string_view) -> std::any { return {}; }

// Never reached: no transport gets a TLS layer in this build.
void stream_transport::set_tls(std::unique_ptr<tls_layer, tls_layer_deleter>) { unavailable(); }
auto stream_transport::tls_handshake() -> task<void> {
  unavailable();
  co_return;
}
auto stream_transport::tls_recv_into(std::span<char>) -> task<std::size_t> {
  unavailable();
  co_return 0;
}
auto stream_transport::tls_pull() -> task<bool> {
  unavailable();
  co_return false;
}
void stream_transport::tls_write(std::string_view) {}
void stream_transport::tls_flush_output() noexcept {}
void stream_transport::tls_shutdown() noexcept {}

}  // namespace asyncio::detail
