#include <asyncio/net/ssl_context.hpp>

#include <asyncio/net/ssl_error.hpp>

#include "net/tls_layer.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <stdexcept>

namespace asyncio {
namespace {

// The OpenSSL error queue as one line (and empty it), e.g. "SSL routines: wrong version number".
auto openssl_reason(const char* what) -> std::string {
  std::string msg = what;
  unsigned long e = ERR_peek_last_error();
  if (e != 0) {
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    msg += ": ";
    if (lib) msg += std::string(lib) + ": ";
    msg += reason ? reason : "unknown error " + std::to_string(e);
  }
  ERR_clear_error();
  return msg;
}

[[noreturn]] void fail(const char* what) { throw ssl_error(openssl_reason(what)); }

// Server side ALPN: the first of our protocols that the client offers (server preference).
auto select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                 unsigned int inlen, void* arg) -> int {
  auto* st = static_cast<detail::ssl_context_state*>(arg);
  const auto* ours = reinterpret_cast<const unsigned char*>(st->alpn_wire.data());
  std::size_t ours_len = st->alpn_wire.size();
  for (std::size_t i = 0; i < ours_len; i += 1 + ours[i]) {
    for (unsigned int j = 0; j < inlen; j += 1u + in[j]) {
      if (in[j] == ours[i] && j + 1u + in[j] <= inlen && std::memcmp(in + j + 1, ours + i + 1, ours[i]) == 0) {
        *out = in + j + 1;
        *outlen = in[j];
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_NOACK;  // no overlap: go on without ALPN (as Python)
}

// Server side SNI: let the user's callback pick the context (and so the certificate).
auto select_context_for_sni(SSL* ssl, int* alert, void* arg) -> int {
  auto* st = static_cast<detail::ssl_context_state*>(arg);
  if (!st->sni_callback) return SSL_TLSEXT_ERR_OK;
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  try {
    std::optional<ssl_context> chosen = st->sni_callback(name ? std::string_view(name) : std::string_view());
    if (!chosen) return SSL_TLSEXT_ERR_OK;
    const std::shared_ptr<detail::ssl_context_state>& cs = chosen->state();
    if (!cs || !cs->server) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (cs.get() != st && SSL_set_SSL_CTX(ssl, cs->ctx) == nullptr) {
      ERR_clear_error();
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (auto* layer = static_cast<detail::tls_layer*>(SSL_get_app_data(ssl))) layer->sni_ctx = cs;
    return SSL_TLSEXT_ERR_OK;
  } catch (...) {
    // OpenSSL's C stack must not unwind; refusing the name is what the callback asked for.
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
}

// Client side: keep the newest resumable session of each connection (TLS 1.3 tickets arrive after
// the handshake, possibly several) for ssl_object::session().
auto keep_new_session(SSL* ssl, SSL_SESSION* session) -> int {
  auto* layer = static_cast<detail::tls_layer*>(SSL_get_app_data(ssl));
  if (!layer) return 0;  // not ours: OpenSSL frees it
  layer->session.reset(session, SSL_SESSION_free);
  return 1;  // we took the reference
}

auto password_cb(char* buf, int size, int, void* userdata) -> int {
  const auto* pw = static_cast<const std::string*>(userdata);
  if (!pw || pw->empty()) return 0;
  int n = static_cast<int>(std::min<std::size_t>(pw->size(), static_cast<std::size_t>(size)));
  std::memcpy(buf, pw->data(), static_cast<std::size_t>(n));
  return n;
}

auto make_state(bool server) -> std::shared_ptr<detail::ssl_context_state> {
  auto st = std::make_shared<detail::ssl_context_state>();
  st->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!st->ctx) fail("SSL_CTX_new");
  st->server = server;
  SSL_CTX_set_min_proto_version(st->ctx, TLS1_2_VERSION);
  // Renegotiation would let SSL_write need a read (and is a DoS vector); compression leaks (CRIME).
  SSL_CTX_set_options(st->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Each SSL_write hands its whole input to the memory BIO: no partial writes to track.
  SSL_CTX_set_mode(st->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!server) {
    // Sessions are handed to the application (ssl_object::session), not cached by OpenSSL.
    SSL_CTX_set_session_cache_mode(st->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(st->ctx, keep_new_session);
  }
  return st;
}

auto version_number(tls_version v) -> int { return v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION; }

}  // namespace

auto ssl_context::client() -> ssl_context {
  ssl_context c(make_state(false));
  c.s_->check_hostname = true;
  c.set_verify_mode(verify_mode::required);
  c.load_default_certs();
  return c;
}

auto ssl_context::server() -> ssl_context { return ssl_context(make_state(true)); }

auto ssl_context::server(const std::string& cert_file, const std::string& key_file) -> ssl_context {
  ssl_context c = server();
  c.load_cert_chain(cert_file, key_file);
  return c;
}

void ssl_context::load_verify_locations(const std::string& cafile, const std::string& capath) {
  if (cafile.empty() && capath.empty()) throw std::invalid_argument("load_verify_locations: cafile and capath are empty");
  if (SSL_CTX_load_verify_locations(s_->ctx, cafile.empty() ? nullptr : cafile.c_str(),
                                    capath.empty() ? nullptr : capath.c_str()) != 1)
    fail(("load_verify_locations(" + cafile + ")").c_str());
}

void ssl_context::load_verify_cadata(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) fail("BIO_new_mem_buf");
  X509_STORE* store = SSL_CTX_get_cert_store(s_->ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (added == 0) throw ssl_error("load_verify_cadata: no certificate in the PEM data");
}

void ssl_context::load_default_certs() {
  if (SSL_CTX_set_default_verify_paths(s_->ctx) != 1) fail("set_default_verify_paths");
}

void ssl_context::load_cert_chain(const std::string& cert_file, const std::string& key_file,
                                  const std::string& password) {
  SSL_CTX_set_default_passwd_cb(s_->ctx, password_cb);
  SSL_CTX_set_default_passwd_cb_userdata(s_->ctx, const_cast<std::string*>(&password));
  struct reset {
    SSL_CTX* c;
    ~reset() {
      SSL_CTX_set_default_passwd_cb(c, nullptr);
      SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);
    }
  } guard{s_->ctx};
  if (SSL_CTX_use_certificate_chain_file(s_->ctx, cert_file.c_str()) != 1)
    fail(("load_cert_chain: certificate " + cert_file).c_str());
  const std::string& kf = key_file.empty() ? cert_file : key_file;
  if (SSL_CTX_use_PrivateKey_file(s_->ctx, kf.c_str(), SSL_FILETYPE_PEM) != 1)
    fail(("load_cert_chain: private key " + kf).c_str());
  if (SSL_CTX_check_private_key(s_->ctx) != 1) fail("load_cert_chain: the key does not match the certificate");
}

void ssl_context::set_alpn_protocols(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) throw std::invalid_argument("ALPN protocol name must be 1..255 bytes: '" + p + "'");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  s_->alpn_wire = wire;
  if (s_->server) {
    if (wire.empty()) SSL_CTX_set_alpn_select_cb(s_->ctx, nullptr, nullptr);
    else SSL_CTX_set_alpn_select_cb(s_->ctx, select_alpn, s_.get());
  } else if (SSL_CTX_set_alpn_protos(s_->ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                     static_cast<unsigned>(wire.size())) != 0) {
    fail("set_alpn_protocols");
  }
}

void ssl_context::set_verify_mode(asyncio::verify_mode mode) {
  if (mode == verify_mode::none && s_->check_hostname)
    throw std::invalid_argument("cannot set verify_mode none when check_hostname is on (turn it off first)");
  s_->mode = mode;
  int flags = SSL_VERIFY_NONE;
  if (mode == verify_mode::optional) flags = SSL_VERIFY_PEER;
  if (mode == verify_mode::required) flags = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(s_->ctx, flags, nullptr);
}

auto ssl_context::get_verify_mode() const noexcept -> asyncio::verify_mode { return s_->mode; }

void ssl_context::set_check_hostname(bool on) {
  if (on && s_->mode == verify_mode::none) set_verify_mode(verify_mode::required);
  s_->check_hostname = on;
}

auto ssl_context::check_hostname() const noexcept -> bool { return s_->check_hostname; }

void ssl_context::set_minimum_version(tls_version v) {
  if (SSL_CTX_set_min_proto_version(s_->ctx, version_number(v)) != 1) fail("set_minimum_version");
}

void ssl_context::set_maximum_version(tls_version v) {
  if (SSL_CTX_set_max_proto_version(s_->ctx, version_number(v)) != 1) fail("set_maximum_version");
}

void ssl_context::set_ciphers(const std::string& ciphers) {
  if (SSL_CTX_set_cipher_list(s_->ctx, ciphers.c_str()) != 1) fail(("set_ciphers(" + ciphers + ")").c_str());
}

void ssl_context::set_suppress_ragged_eofs(bool on) noexcept { s_->suppress_ragged_eofs = on; }
auto ssl_context::suppress_ragged_eofs() const noexcept -> bool { return s_->suppress_ragged_eofs; }
void ssl_context::set_sni_callback(std::function<std::optional<ssl_context>(std::string_view)> fn) {
  if (!s_->server) throw std::invalid_argument("set_sni_callback: only a server context receives SNI");
  s_->sni_callback = std::move(fn);
  if (s_->sni_callback) {
    SSL_CTX_set_tlsext_servername_callback(s_->ctx, select_context_for_sni);
    SSL_CTX_set_tlsext_servername_arg(s_->ctx, s_.get());
  } else {
    SSL_CTX_set_tlsext_servername_callback(s_->ctx, nullptr);
  }
}

auto ssl_context::native_handle() const noexcept -> ssl_ctx_st* { return s_->ctx; }
auto ssl_context::is_server() const noexcept -> bool { return s_->server; }

}  // namespace asyncio
