#pragma once
// TLS errors (Python's ssl.SSLError family). As in Python, ssl_error is an os_error (SSLError
// derives from OSError), so code that handles connection failures generically also sees TLS ones.
#include <memory>
#include <string>
#include <system_error>

#include <asyncio/errors.hpp>

namespace asyncio {

/// A TLS protocol or library error (Python's ssl.SSLError): a failed handshake, a bad record, an
/// alert from the peer, an unreadable certificate or key file. what() carries OpenSSL's reason
/// ("wrong version number", "sslv3 alert handshake failure"...). code() is
/// std::errc::protocol_error (EPROTO) unless the failure came from a system call.
class ssl_error : public os_error {
 public:
  explicit ssl_error(const std::string& what, std::error_code code = std::make_error_code(std::errc::protocol_error))
      : os_error(code, what), message_(std::make_shared<std::string>(what)) {}
  /// OpenSSL's reason alone (os_error would append strerror(EPROTO), which says nothing here).
  [[nodiscard]] auto what() const noexcept -> const char* override { return message_->c_str(); }

 private:
  std::shared_ptr<const std::string> message_;  // shared: copying an exception must not throw
};

/// The peer's certificate did not verify (Python's ssl.SSLCertVerificationError): unknown CA,
/// expired, or not valid for the host name. verify_code() is OpenSSL's X509_V_ERR_* value and
/// verify_message() its text ("unable to get local issuer certificate", "Hostname mismatch"...).
class ssl_certificate_verify_error : public ssl_error {
 public:
  ssl_certificate_verify_error(long verify_code, std::string verify_message)
      : ssl_error("certificate verify failed: " + verify_message),
        verify_code_(verify_code),
        verify_message_(std::move(verify_message)) {}
  [[nodiscard]] auto verify_code() const noexcept -> long { return verify_code_; }
  [[nodiscard]] auto verify_message() const noexcept -> const std::string& { return verify_message_; }

 private:
  long verify_code_;
  std::string verify_message_;
};

/// The TLS connection was cut without a close_notify alert while data was expected (Python's
/// ssl.SSLEOFError). Raised only when the context's suppress_ragged_eofs is false; by default such
/// an EOF reads as an ordinary EOF, as in Python's asyncio.
class ssl_eof_error : public ssl_error {
 public:
  using ssl_error::ssl_error;
};

}  // namespace asyncio
