# The test of examples/udp_echo.cpp, with examples/udp_echo_client.cpp as its client (helpers in
# examples/run_together.cmake): three datagrams from an unconnected socket, one from a connected
# socket, each echoed; then SIGINT, as Ctrl-C would: the server counts the datagrams it echoed.
include(${CMAKE_CURRENT_LIST_DIR}/run_together.cmake)

example_start(server ${PROGRAM} 127.0.0.1 0)
example_wait_for(server "echo server on 127[.]0[.]0[.]1:([0-9]+)" port)
example_run(client udp_echo_client 127.0.0.1 ${port} "ping 0" "ping 1" "ping 2")
example_run(connected udp_echo_client 127.0.0.1 ${port} --connect "hello from a connected socket")
example_signal(server INT)
example_wait(server)

example_expect(client "got 'ping 0' from 127[.]0[.]0[.]1:[0-9]+" "got 'ping 1'" "got 'ping 2'")
example_expect(connected "got 'hello from a connected socket'")
example_expect(server "echo server on 127[.]0[.]0[.]1:[0-9]+" "server stopped after 4 datagrams")
example_done()
