#include <asyncio/net/ssl_object.hpp>

#include <asyncio/errors.hpp>

#include "net/tls_layer.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/socket.h>

namespace asyncio {
namespace {

auto layer_of(const std::shared_ptr<detail::stream_transport>& t) -> detail::tls_layer& {
  if (!t || !t->tls()) throw invalid_state_error("ssl_object: the stream does not use TLS");
  return *t->tls();
}

// Drains a memory BIO into a string and frees it.
auto take(BIO* bio) -> std::string {
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  std::string out(p, n > 0 ? static_cast<std::size_t>(n) : 0);
  BIO_free(bio);
  return out;
}

auto name_string(const X509_NAME* name) -> std::string {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  return take(bio);
}

auto time_string(const ASN1_TIME* t) -> std::string {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  return take(bio);
}

auto decode(X509* cert) -> certificate {
  certificate c;
  c.subject = name_string(X509_get_subject_name(cert));
  c.issuer = name_string(X509_get_issuer_name(cert));
  c.not_before = time_string(X509_get0_notBefore(cert));
  c.not_after = time_string(X509_get0_notAfter(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      c.serial_number = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        const auto* s = g->d.dNSName;
        c.subject_alt_names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                                           static_cast<std::size_t>(ASN1_STRING_length(s))));
      } else if (g->type == GEN_IPADD) {
        const auto* s = g->d.iPAddress;
        char text[64] = {};
        int len = ASN1_STRING_length(s);
        if (len == 4 || len == 16)
          ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
        c.subject_alt_names.push_back(std::string("IP Address:") + text);
      }
    }
    GENERAL_NAMES_free(names);
  }
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  c.pem = take(bio);
  return c;
}

}  // namespace

auto ssl_object::version() const -> std::string { return SSL_get_version(layer_of(t_).ssl); }

auto ssl_object::cipher() const -> std::string {
  const SSL_CIPHER* c = SSL_get_current_cipher(layer_of(t_).ssl);
  return c ? SSL_CIPHER_get_name(c) : "";
}

auto ssl_object::cipher_bits() const -> int {
  const SSL_CIPHER* c = SSL_get_current_cipher(layer_of(t_).ssl);
  return c ? SSL_CIPHER_get_bits(c, nullptr) : 0;
}

auto ssl_object::selected_alpn_protocol() const -> std::optional<std::string> {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(layer_of(t_).ssl, &p, &n);
  if (!p || n == 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(p), n);
}

auto ssl_object::server_hostname() const -> std::optional<std::string> {
  auto& l = layer_of(t_);
  if (!l.server_side) {
    if (l.server_hostname.empty()) return std::nullopt;
    return l.server_hostname;
  }
  const char* sni = SSL_get_servername(l.ssl, TLSEXT_NAMETYPE_host_name);
  if (!sni) return std::nullopt;
  return std::string(sni);
}

auto ssl_object::getpeercert() const -> std::optional<certificate> {
  X509* cert = SSL_get0_peer_certificate(layer_of(t_).ssl);
  if (!cert) return std::nullopt;
  return decode(cert);
}

auto ssl_object::server_side() const -> bool { return layer_of(t_).server_side; }
auto ssl_object::session_reused() const -> bool { return SSL_session_reused(layer_of(t_).ssl) == 1; }
auto ssl_object::session() const -> std::optional<ssl_session> {
  auto& l = layer_of(t_);
  if (l.server_side) return std::nullopt;
  // The new-session callback (ssl_context.cpp) keeps the latest one; a TLS 1.2 session is also
  // reachable directly once the handshake is done.
  if (l.session && SSL_SESSION_is_resumable(l.session.get()) == 1) return ssl_session(l.session);
  if (SSL_SESSION* s = SSL_get1_session(l.ssl)) {
    std::shared_ptr<SSL_SESSION> held(s, SSL_SESSION_free);
    if (SSL_SESSION_is_resumable(s) == 1) return ssl_session(std::move(held));
  }
  return std::nullopt;
}

auto ssl_object::close_notify_received() const -> bool { return layer_of(t_).close_notify_received; }

auto ssl_object::native_handle() const noexcept -> ssl_st* {
  return t_ && t_->tls() ? t_->tls()->ssl : nullptr;
}

}  // namespace asyncio

namespace asyncio::detail {

auto tls_extra_info(const std::shared_ptr<stream_transport>& t, std::string_view name) -> std::any {
  if (!t || !t->tls()) return {};
  ssl_object o(t);
  if (name == "ssl_object") return o;
  if (name == "peercert") return o.getpeercert();
  if (name == "cipher") return o.cipher();
  if (name == "selected_alpn_protocol") return o.selected_alpn_protocol();
  if (name == "sslcontext") return ssl_context(t->tls()->ctx);
  return {};
}

}  // namespace asyncio::detail
