# The test of examples/signals.cpp (helpers in examples/run_together.cmake): it plays the other
# terminal of the example's "Try it", sending each signal once the previous one was handled:
# SIGUSR1 twice (two reloads), SIGTERM (the first part stops gracefully), then SIGINT, as Ctrl-C
# would (main is cancelled, its cleanup runs, and the process ends as killed by SIGINT: status 130).
include(${CMAKE_CURRENT_LIST_DIR}/run_together.cmake)

example_start(signals ${PROGRAM})
example_wait_for(signals "worker: running")
foreach(i 1 2)
  example_signal(signals USR1)
  example_wait_for(signals "main: reload #${i} seen")
endforeach()
example_signal(signals TERM)
example_wait_for(signals "part 2: press Ctrl-C")
example_signal(signals INT)
example_wait(signals 130)

example_expect(signals
  "pid [0-9]+: SIGUSR1 reloads, SIGTERM stops the worker"
  "worker: running"
  "SIGUSR1 handler: reload #1"
  "main: reload #1 seen"
  "SIGUSR1 handler: reload #2"
  "main: reload #2 seen"
  "SIGTERM handler: shutting down"
  "worker: cancelled, flushing its state"
  "main: worker stopped, handlers removed: yes"
  "part 2: press Ctrl-C"
  "main: cancelled by Ctrl-C, cleaning up"
  "main: connection closed \\(destructor\\)"
  "asyncio::run threw keyboard_interrupt: keyboard interrupt \\(SIGINT\\)")
example_done()
