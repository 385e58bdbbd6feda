# The test of examples/tcp_chat.cpp, with four examples/tcp_chat_client.cpp members (helpers in
# examples/run_together.cmake): each waits until all four are online, says one line, and stays
# until it heard the three others' lines (it fails if it hears its own); then the test stops the
# server with SIGINT, as Ctrl-C would.
include(${CMAKE_CURRENT_LIST_DIR}/run_together.cmake)

example_start(server ${PROGRAM} 127.0.0.1 0)
example_wait_for(server "chat server on 127[.]0[.]0[.]1:([0-9]+)" port)
foreach(i 0 1 2 3)
  example_start(client${i} tcp_chat_client 127.0.0.1 ${port} --wait-for 4 --hear 3 "hello from client ${i}")
endforeach()
foreach(i 0 1 2 3)
  example_wait(client${i})
endforeach()
example_signal(server INT)
example_wait(server)

foreach(i 0 1 2 3)
  example_expect(client${i} "[*] welcome user[0-9]+ [(][0-9]+ online[)]" "heard 3 of 3")
endforeach()
example_expect(server "chat server on 127[.]0[.]0[.]1:[0-9]+" "bye")
example_done()
