// ssl_session: the accessors over OpenSSL's SSL_SESSION.
#include <asyncio/net/ssl_session.hpp>

#include <openssl/ssl.h>

namespace asyncio {

auto ssl_session::is_resumable() const noexcept -> bool { return s_ && SSL_SESSION_is_resumable(s_.get()) == 1; }

auto ssl_session::has_ticket() const noexcept -> bool { return s_ && SSL_SESSION_has_ticket(s_.get()) == 1; }

auto ssl_session::ticket_lifetime_hint() const noexcept -> std::chrono::seconds {
  return std::chrono::seconds(s_ ? SSL_SESSION_get_ticket_lifetime_hint(s_.get()) : 0);
}

}  // namespace asyncio
