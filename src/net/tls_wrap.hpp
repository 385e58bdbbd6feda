#pragma once
// Private: the TLS entry points the plain network code calls (no OpenSSL here, so that a build
// without OpenSSL can stub them: src/net/tls_disabled.cpp).
#include <any>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asyncio/core/clock.hpp>
#include <asyncio/core/task.hpp>
#include <asyncio/net/ssl_context.hpp>
#include <asyncio/net/ssl_session.hpp>
#include <asyncio/net/detail/stream_transport.hpp>

namespace asyncio::detail {

/// Puts TLS on the transport and runs the handshake with a deadline (nullopt = none). On any
/// failure the transport is closed (after sending the alert, if any) and the error re-raised.
/// Throws: timeout_error at the deadline; ssl_error...; cancelled_error.
/// `session` (client side): a session to offer for resumption.
auto tls_wrap(std::shared_ptr<stream_transport> t, ssl_context ctx, bool server_side,
              std::string server_hostname, std::optional<duration> timeout,
              std::optional<ssl_session> session = std::nullopt) -> task<void>;

/// The TLS keys of stream_writer::get_extra_info; empty for other names or a plain stream.
auto tls_extra_info(const std::shared_ptr<stream_transport>& t, std::string_view name) -> std::any;

}  // namespace asyncio::detail
