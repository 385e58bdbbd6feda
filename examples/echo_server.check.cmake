# The test of examples/echo_server.cpp, with examples/echo_client.cpp as its clients (helpers in
# examples/run_together.cmake): three clients each echo a line, a fourth stays connected, then the
# test sends the server SIGINT, as Ctrl-C would: the server stops accepting, gives the idle
# connection its 1 s grace, cancels it (the client sees EOF), and counts the three that ended.
include(${CMAKE_CURRENT_LIST_DIR}/run_together.cmake)

example_start(server ${PROGRAM} 127.0.0.1 0 --duration 30)
example_wait_for(server "serving on 127[.]0[.]0[.]1:([0-9]+)" port)
foreach(i 0 1 2)
  example_run(client${i} echo_client 127.0.0.1 ${port} "hello ${i}")
endforeach()
example_start(idle echo_client 127.0.0.1 ${port} --stay "still here")
example_wait_for(idle "staying connected")
example_signal(server INT)
example_wait(idle)
example_wait(server)

example_expect(client2 "echoed: hello 2")
example_expect(idle "echoed: still here" "the server closed the connection")
example_expect(server
  "serving on 127[.]0[.]0[.]1:[0-9]+"
  "SIGINT: shutting down gracefully"
  "connection from 127[.]0[.]0[.]1:[0-9]+ cancelled at shutdown"
  "served 3 connection[(]s[)]")
example_done()
