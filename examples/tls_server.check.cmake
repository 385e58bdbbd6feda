# The test of examples/tls_server.cpp, with examples/tls_client.cpp as its client (helpers in
# examples/run_together.cmake): the server makes its throwaway certificates and prints their paths;
# the client trusts exactly those, connects to 127.0.0.1 under the name localhost, echoes a line,
# is refused under a wrong name, connects as other.test (SNI: the other certificate) and resumes its
# first session; then the test sends the server SIGINT, as Ctrl-C would: it shuts down gracefully
# and removes its temporary directory.
include(${CMAKE_CURRENT_LIST_DIR}/run_together.cmake)

example_start(server ${PROGRAM} 127.0.0.1 0 --duration 30)
example_wait_for(server "TLS echo server on 127[.]0[.]0[.]1:([0-9]+)" port)
example_wait_for(server "certificate for localhost and 127[.]0[.]0[.]1: ([^\n]+)" cert)
example_wait_for(server "certificate for other[.]test [(]chosen by SNI[)]: ([^\n]+)" other_cert)
example_run(client tls_client 127.0.0.1 ${port} --cafile ${cert} --cafile ${other_cert}
            --server-hostname localhost --echo "hello over TLS" --also-as other.test)
example_signal(server INT)
example_wait(server)

example_expect(client
  "negotiated TLSv1[.]3, cipher TLS_[A-Z0-9_]+, ALPN h2"
  "server certificate: CN=localhost"
  "echo: hello over TLS"
  "wrong host name rejected: certificate verify failed: hostname mismatch"
  "as other[.]test: server certificate CN=other[.]test"
  "resumed the first session: yes"
  "closed cleanly")
example_expect(server
  "TLS echo server on 127[.]0[.]0[.]1:[0-9]+"
  "server saw SNI localhost, ALPN h2 [(]TLSv1[.]3, full handshake[)]"
  "server saw SNI other[.]test, ALPN h2"
  "server saw SNI localhost, ALPN h2 [(]TLSv1[.]3, resumed session[)]"
  "SIGINT: shutting down gracefully"
  "served 3 connection[(]s[)]"
  "removed [^\n]*tls_server-[^\n]*: yes")
example_done()
if(EXISTS "${cert}")
  message(FATAL_ERROR "the server left its certificate behind: ${cert}")
endif()
