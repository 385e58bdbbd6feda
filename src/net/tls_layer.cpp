// The TLS layer of stream_transport: an OpenSSL session driven through two memory BIOs by the
// transport's own non-blocking socket code (no SSL_set_fd, so the edge-triggered readiness rules of
// the plain path hold unchanged: a short recv() means "wait for the next edge").
//
//   reading task:  SSL_read(plaintext) <- rbio <- recv() ciphertext (tls_pull, waits on EAGAIN)
//   write():       SSL_write(plaintext) -> wbio -> raw_write() (send now, or buffer + writability cb)
//
// Whatever OpenSSL emits while reading (TLS 1.3 key update replies, alerts) goes out the same way.
#include "net/tls_layer.hpp"

#include <asyncio/core/timeout.hpp>
#include <asyncio/errors.hpp>
#include <asyncio/lowlevel/wait_io.hpp>
#include <asyncio/net/ssl_error.hpp>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <stdexcept>

namespace asyncio::detail {

void tls_layer_deleter::operator()(tls_layer* p) const noexcept { delete p; }

namespace {

auto is_ip_literal(const std::string& host) -> bool {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Plaintext handed to SSL_write per call: bounds the ciphertext staged in the memory BIO.
constexpr std::size_t tls_write_chunk = 64 * 1024;

}  // namespace

void throw_ssl_error(SSL* ssl, int err, const char* what) {
  unsigned long e = ERR_peek_last_error();
  if (ssl && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long v = SSL_get_verify_result(ssl);
    ERR_clear_error();
    std::string msg = X509_verify_cert_error_string(v);
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      auto* layer = static_cast<tls_layer*>(SSL_get_app_data(ssl));
      std::string name = layer ? layer->server_hostname : std::string(host ? host : "");
      msg += ", certificate is not valid for '" + name + "'";
    }
    throw ssl_certificate_verify_error(v, msg);
  }
  std::string msg = std::string("TLS ") + what;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    msg += ": ";
    msg += reason ? reason : "error " + std::to_string(e);
  } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    throw ssl_eof_error(msg + ": EOF occurred in violation of protocol");
  } else {
    msg += ": SSL_get_error " + std::to_string(err);
  }
  ERR_clear_error();
  throw ssl_error(msg);
}

auto make_tls_layer(const ssl_context& ctx, bool server_side, const std::string& server_hostname,
                    const std::optional<ssl_session>& session) -> std::unique_ptr<tls_layer, tls_layer_deleter> {
  const auto& st = ctx.state();
  if (!st) throw std::invalid_argument("TLS: empty ssl_context");
  if (server_side && !st->server) throw std::invalid_argument("TLS: a server needs ssl_context::server()");
  if (!server_side && st->server) throw std::invalid_argument("TLS: a client needs ssl_context::client()");
  if (!server_side && st->check_hostname && server_hostname.empty())
    throw std::invalid_argument("TLS: check_hostname requires a server_hostname");
  if (server_side && session) throw std::invalid_argument("TLS: a session can only be resumed by a client");
  std::unique_ptr<tls_layer, tls_layer_deleter> l(new tls_layer);
  l->ctx = st;
  l->server_side = server_side;
  l->server_hostname = server_hostname;
  ERR_clear_error();
  l->ssl = SSL_new(st->ctx);
  if (!l->ssl) throw_ssl_error(nullptr, SSL_ERROR_SSL, "SSL_new");
  SSL_set_app_data(l->ssl, l.get());
  l->rbio = BIO_new(BIO_s_mem());
  l->wbio = BIO_new(BIO_s_mem());
  if (!l->rbio || !l->wbio) {
    BIO_free(l->rbio);
    BIO_free(l->wbio);
    throw_ssl_error(nullptr, SSL_ERROR_SSL, "BIO_new");
  }
  // An empty input BIO means "no data yet" (retry), never EOF: the transport tracks the TCP EOF.
  BIO_set_mem_eof_return(l->rbio, -1);
  SSL_set_bio(l->ssl, l->rbio, l->wbio);
  if (server_side) {
    SSL_set_accept_state(l->ssl);
  } else {
    SSL_set_connect_state(l->ssl);
    // A session that cannot be resumed (wrong context, expired) just means a full handshake.
    if (session && session->native_handle() && SSL_set_session(l->ssl, session->native_handle()) != 1)
      ERR_clear_error();
    if (!server_hostname.empty()) {
      bool ip = is_ip_literal(server_hostname);
      // SNI carries DNS names only (RFC 6066 §3).
      if (!ip && SSL_set_tlsext_host_name(l->ssl, server_hostname.c_str()) != 1)
        throw_ssl_error(nullptr, SSL_ERROR_SSL, "server_hostname");
      if (st->check_hostname) {
        X509_VERIFY_PARAM* param = SSL_get0_param(l->ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, server_hostname.c_str(), server_hostname.size());
        if (ok != 1) throw_ssl_error(nullptr, SSL_ERROR_SSL, "server_hostname");
      }
    }
  }
  l->scratch.reset(new char[tls_scratch_size]);
  return l;
}

auto tls_wrap(std::shared_ptr<stream_transport> t, ssl_context ctx, bool server_side, std::string server_hostname,
              std::optional<duration> timeout, std::optional<ssl_session> session) -> task<void> {
  try {
    t->set_tls(make_tls_layer(ctx, server_side, server_hostname, session));
  } catch (...) {
    t->abort();  // a bad argument must not leave an open connection behind
    throw;
  }
  try {
    if (timeout) co_await asyncio::timeout(timeout, t->tls_handshake());
    else co_await t->tls_handshake();
  } catch (const cancelled_error&) {
    t->abort();
    throw;
  } catch (const ssl_error&) {
    t->close();  // the alert OpenSSL queued tells the peer why
    throw;
  } catch (...) {
    t->abort();
    throw;
  }
}

// ---- stream_transport's TLS members ---------------------------------------------------------------

void stream_transport::set_tls(std::unique_ptr<tls_layer, tls_layer_deleter> layer) {
  if (tls_) throw invalid_state_error("the stream already uses TLS");
  tls_ = std::move(layer);
  // Bytes read before the upgrade but not consumed are the peer's first TLS bytes.
  if (std::size_t n = buffered()) {
    BIO_write(tls_->rbio, rdata(), static_cast<int>(n));
    consume(n);
  }
}

auto stream_transport::tls_pull() -> task<bool> {
  for (;;) {
    if (tls_->raw_eof || !sock_.is_open()) {
      tls_->raw_eof = true;
      co_return false;
    }
    int fd = sock_.fileno();
    if (read_drained_) {
      co_await lowlevel::wait_readable(fd);
      read_drained_ = false;
      continue;
    }
    ssize_t n = sys_read(std::span<char>(tls_->scratch.get(), tls_scratch_size));
    if (n > 0) {
      if (static_cast<std::size_t>(n) < tls_scratch_size) read_drained_ = true;  // see recv_into
      BIO_write(tls_->rbio, tls_->scratch.get(), static_cast<int>(n));
      co_return true;
    }
    if (n == 0) {
      tls_->raw_eof = true;
      co_return false;
    }
    if (errno == EAGAIN) {
      read_drained_ = true;
    } else if (errno != EINTR) {
      throw_os_error(errno, "recv");
    }
  }
}

auto stream_transport::tls_handshake() -> task<void> {
  SSL* ssl = tls_->ssl;
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
    tls_flush_output();
    if (r == 1) {
      tls_->handshake_done = true;
      co_return;
    }
    if (err != SSL_ERROR_WANT_READ) {
      tls_->fatal = true;
      throw_ssl_error(ssl, err, "handshake");
    }
    check_write_error();
    if (!co_await tls_pull()) {
      throw connection_reset_error(std::make_error_code(std::errc::connection_reset),
                                   "TLS handshake: the peer closed the connection");
    }
  }
}

auto stream_transport::tls_recv_into(std::span<char> buf) -> task<std::size_t> {
  SSL* ssl = tls_->ssl;
  for (;;) {
    if (eof_ || !sock_.is_open()) {
      eof_ = true;
      co_return 0;
    }
    ERR_clear_error();
    int n = SSL_read(ssl, buf.data(), static_cast<int>(std::min<std::size_t>(buf.size(), INT_MAX)));
    int err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, n);
    tls_flush_output();
    if (n > 0) co_return static_cast<std::size_t>(n);
    if (err == SSL_ERROR_ZERO_RETURN) {  // close_notify: a clean end of the stream
      tls_->close_notify_received = true;
      eof_ = true;
      co_return 0;
    }
    if (err != SSL_ERROR_WANT_READ) {
      // The session is dead (bad record, alert from the peer): close as Python's transport does,
      // after the alert OpenSSL queued, so the caller has nothing left to clean up.
      tls_->fatal = true;
      eof_ = true;
      close();
      throw_ssl_error(ssl, err, "read");
    }
    if (!co_await tls_pull()) {
      // TCP FIN without close_notify (a "ragged EOF").
      eof_ = true;
      if (tls_->ctx->suppress_ragged_eofs) co_return 0;
      throw ssl_eof_error("TLS read: EOF occurred in violation of protocol (no close_notify)");
    }
  }
}

void stream_transport::tls_write(std::string_view data) {
  SSL* ssl = tls_->ssl;
  while (!data.empty() && write_errno_ == 0 && sock_.is_open()) {
    std::size_t chunk = std::min(data.size(), tls_write_chunk);
    ERR_clear_error();
    int n = SSL_write(ssl, data.data(), static_cast<int>(chunk));
    if (n <= 0) {
      // With memory BIOs and no renegotiation this means a broken session: report it in drain().
      tls_->fatal = true;
      ERR_clear_error();
      tls_flush_output();
      fail_write(EPROTO);
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    tls_flush_output();
  }
}

void stream_transport::tls_flush_output() noexcept {
  char* p = nullptr;
  long n = BIO_get_mem_data(tls_->wbio, &p);
  if (n <= 0) return;
  // After write_eof's FIN nothing more may go out; a failed connection takes nothing either.
  if (!eof_requested_ && write_errno_ == 0 && sock_.is_open()) {
    try {
      raw_write(std::string_view(p, static_cast<std::size_t>(n)));
    } catch (...) {
      fail_write(ENOMEM);
    }
  }
  (void)BIO_reset(tls_->wbio);
}

void stream_transport::tls_shutdown() noexcept {
  if (!tls_->handshake_done || tls_->fatal || tls_->shutdown_sent || eof_requested_ || write_errno_ != 0 || !sock_.is_open())
    return;
  tls_->shutdown_sent = true;
  ERR_clear_error();
  (void)SSL_shutdown(tls_->ssl);  // queues close_notify; the peer's reply is not awaited
  ERR_clear_error();
  tls_flush_output();
}

}  // namespace asyncio::detail
