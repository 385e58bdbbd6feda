#pragma once
// Throwaway PKI for the TLS tests, generated at test time with the OpenSSL API (no openssl CLI, no
// committed keys): a test CA, a server certificate it signed (CN=localhost, SAN DNS:localhost and
// IP:127.0.0.1), and a second CA nobody trusts with a server certificate of its own. EC P-256 keys
// (fast to make). Written as PEM into a temporary directory that is removed at exit.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace test_support {

struct tls_files {
  std::string dir;
  std::string ca_cert;           // trusted test CA
  std::string server_cert;       // CN=localhost, signed by ca
  std::string server_key;
  std::string rogue_ca_cert;     // a CA nobody trusts
  std::string rogue_server_cert; // CN=localhost, signed by the rogue CA
  std::string rogue_server_key;
  std::string sni_server_cert;   // CN=sni.test (SAN DNS:sni.test), signed by ca: for SNI tests
  std::string sni_server_key;
  ~tls_files() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

namespace detail_tls {

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

inline auto new_key() -> EVP_PKEY* {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  check(k != nullptr, "EVP_EC_gen");
  return k;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named CN=cn; self-signed when issuer is null (a CA), else a leaf.
inline auto make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial,
                      const char* san = "DNS:localhost,IP:127.0.0.1") -> X509* {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365 * 10);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("asyncio tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : x;
  add_ext(x, signer, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
    add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
    add_ext(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_ext(x, signer, NID_subject_alt_name, san);
  }
  check(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return x;
}

inline void write_cert(const std::string& path, X509* x) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  PEM_write_X509(f, x);
  std::fclose(f);
}

inline void write_key(const std::string& path, EVP_PKEY* k) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

inline void make_pair(const std::string& dir, const std::string& prefix, std::string& ca_path, std::string& cert_path,
                      std::string& key_path, long serial, std::string* sni_cert_path = nullptr,
                      std::string* sni_key_path = nullptr) {
  EVP_PKEY* ca_key = new_key();
  X509* ca = make_cert((prefix + " test CA").c_str(), ca_key, nullptr, nullptr, serial);
  EVP_PKEY* key = new_key();
  X509* leaf = make_cert("localhost", key, ca, ca_key, serial + 1);
  ca_path = dir + "/" + prefix + "_ca.pem";
  cert_path = dir + "/" + prefix + "_server.pem";
  key_path = dir + "/" + prefix + "_server.key";
  write_cert(ca_path, ca);
  write_cert(cert_path, leaf);
  write_key(key_path, key);
  if (sni_cert_path && sni_key_path) {  // a second leaf of the same CA, for another host name
    EVP_PKEY* sni_key = new_key();
    X509* sni_leaf = make_cert("sni.test", sni_key, ca, ca_key, serial + 2, "DNS:sni.test");
    *sni_cert_path = dir + "/" + prefix + "_sni_server.pem";
    *sni_key_path = dir + "/" + prefix + "_sni_server.key";
    write_cert(*sni_cert_path, sni_leaf);
    write_key(*sni_key_path, sni_key);
    X509_free(sni_leaf);
    EVP_PKEY_free(sni_key);
  }
  X509_free(leaf);
  X509_free(ca);
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
}

}  // namespace detail_tls

/// The PKI, made on first use (once per test binary).
inline auto test_pki() -> const tls_files& {
  static tls_files f;
  static const bool made = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "asyncio-tls-XXXXXX").string();
    char* d = ::mkdtemp(tmpl.data());
    detail_tls::check(d != nullptr, "mkdtemp");
    f.dir = d;
    detail_tls::make_pair(f.dir, "good", f.ca_cert, f.server_cert, f.server_key, 1000, &f.sni_server_cert,
                          &f.sni_server_key);
    detail_tls::make_pair(f.dir, "rogue", f.rogue_ca_cert, f.rogue_server_cert, f.rogue_server_key, 2000);
    return true;
  }();
  (void)made;
  return f;
}

}  // namespace test_support
