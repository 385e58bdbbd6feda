#pragma once
// Private: the OpenSSL objects behind ssl_context and a TLS stream_transport.
#include <asyncio/core/clock.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/ssl_session.hpp>
#include <asyncio/net/detail/stream_transport.hpp>

#include "net/tls_wrap.hpp"

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace asyncio::detail {

struct ssl_context_state {
  SSL_CTX* ctx = nullptr;
  bool server = false;
  bool check_hostname = false;
  bool suppress_ragged_eofs = true;
  asyncio::verify_mode mode = asyncio::verify_mode::none;
  std::string alpn_wire;  // ALPN list in wire format (length-prefixed names)
  // Server: picks the context for the SNI name (ssl_context::set_sni_callback); empty = none.
  std::function<std::optional<ssl_context>(std::string_view)> sni_callback;
  ~ssl_context_state() { SSL_CTX_free(ctx); }
};

/// One connection's TLS session: SSL object + its two memory BIOs.
struct tls_layer {
  SSL* ssl = nullptr;
  BIO* rbio = nullptr;  // ciphertext in (owned by ssl)
  BIO* wbio = nullptr;  // ciphertext out (owned by ssl)
  std::shared_ptr<ssl_context_state> ctx;
  std::shared_ptr<ssl_context_state> sni_ctx;  // the context the SNI callback chose (kept alive)
  std::shared_ptr<SSL_SESSION> session;        // client: the latest resumable session received
  std::string server_hostname;
  std::unique_ptr<char[]> scratch;  // recv() buffer for ciphertext
  bool server_side = false;
  bool handshake_done = false;
  bool shutdown_sent = false;
  bool raw_eof = false;
  bool close_notify_received = false;
  bool fatal = false;  // a fatal TLS error: no SSL_shutdown may follow (OpenSSL forbids it)
  ~tls_layer() { SSL_free(ssl); }
};

/// Size of the ciphertext recv() buffer: two maximal TLS records.
inline constexpr std::size_t tls_scratch_size = 2 * (16 * 1024 + 256);

/// Creates the session for `ctx` (server or client side; the client sends SNI and checks the
/// certificate against server_hostname as the context says).
/// Throws: ssl_error; std::invalid_argument when check_hostname is on and server_hostname is empty.
/// `session` (client side only) is offered for resumption.
auto make_tls_layer(const ssl_context& ctx, bool server_side, const std::string& server_hostname,
                    const std::optional<ssl_session>& session = std::nullopt)
    -> std::unique_ptr<tls_layer, tls_layer_deleter>;

/// Throws the ssl_error that describes the failed SSL call (err = SSL_get_error), built from the
/// OpenSSL error queue and, for a failed verification, the verify result.
[[noreturn]] void throw_ssl_error(SSL* ssl, int err, const char* what);

}  // namespace asyncio::detail
