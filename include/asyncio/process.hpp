#pragma once
// Process layer: child processes driven by the event loop (Python's asyncio.subprocess).
//
//   create_subprocess_exec(program, {args...}, options)   start a program (PATH lookup), no shell
//   create_subprocess_shell(cmd, options)                 start `/bin/sh -c cmd`
//   process_options{.std_in/.std_out/.std_err = redirect::pipe | devnull | inherit | to_stdout}
//   process::std_in() / std_out() / std_err()             the pipe ends: stream_writer / stream_reader
//   process::communicate(input) -> {std_out, std_err}     feed stdin, read both outputs, wait
//   process::wait(), returncode(), pid()                  exit status: code, or -N for signal N
//   process::send_signal(sig), terminate(), kill()
//   subprocess_exec(factory, program, args) /             Python's loop.subprocess_exec/_shell:
//     subprocess_shell(factory, cmd)                      a subprocess_protocol's callbacks
//
// No zombie, no fd leak: children are reaped through pidfds by the loop; a process object destroyed
// while its child runs kills it; the loop kills and reaps what is left when it closes. Cancelling
// wait()/communicate() leaves the child running. <asyncio/process/process.hpp> has the details.

#include <asyncio/process/process.hpp>
#include <asyncio/process/subprocess_transport.hpp>
