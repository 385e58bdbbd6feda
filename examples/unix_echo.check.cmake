# The test of examples/unix_echo.cpp, with examples/unix_echo_client.cpp as its clients (helpers in
# examples/run_together.cmake): three clients, one after the other, each send a line and read it
# back; then SIGINT, as Ctrl-C would: the server shuts down gracefully and removes its socket file.
include(${CMAKE_CURRENT_LIST_DIR}/run_together.cmake)

example_start(server ${PROGRAM})
example_wait_for(server "serving on (/[^\n]*unix_echo[.][0-9]+[.]sock)" path)
foreach(i 0 1 2)
  example_run(client${i} unix_echo_client ${path} "hello ${i}")
endforeach()
example_signal(server INT)
example_wait(server)

foreach(i 0 1 2)
  example_expect(client${i} "got: hello ${i}")
endforeach()
example_expect(server
  "serving on /.*unix_echo[.][0-9]+[.]sock"
  "server closed after 3 connections, socket file removed: yes")
example_done()
