# Helpers for the test of an example that runs as a user would run it from terminals: a server and
# its client examples (examples/<server>.check.cmake runs them together and checks what each
# printed), or a program and the signals a user sends it from another terminal. Everything runs on
# loopback; every wait is bounded; on a failure the programs still running are killed, so that a
# test never leaves a server behind.
#
#   example_start(<name> <program> <arg>...)     start in the background; <program> is an example's
#                                                name (a sibling of PROGRAM) or a path
#   example_wait_for(<name> <regex> [<var>])     wait until <name>'s output matches <regex>; <var>
#                                                gets what its first parenthesised group matched
#   example_signal(<name> <SIGNAL>)              send a signal (INT, TERM...) to a running program
#   example_wait(<name> [<status>])              wait until <name> exits; it must exit with <status>
#                                                (default 0; 130 = killed by SIGINT)
#   example_run(<name> <program> <arg>...)       example_start, then example_wait
#   example_expect(<name> <regex>...)            <name>'s output matches every regex, in this order
#   example_done()                               prints every output; fails if any check failed
#
# How a program runs: `setsid -f` starts a small sh in a session of its own (so that a Ctrl-C aimed at
# ctest does not reach it), which runs the program under `timeout` (the bound if this script dies
# before it can stop it) and records the exit status. The pid file holds the program's own pid
# (`sh -c 'echo $$ ...; exec program'`), which example_signal signals; a failure signals the whole
# session. The program keeps the default SIGINT action, as when started from a terminal (a shell's
# `prog &` would start it with SIGINT ignored, and asyncio::run would then leave Ctrl-C alone).
# Regexes are CMake's (no \d; `.` matches a newline too).

cmake_policy(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/match_in_order.cmake)

if(NOT DEFINED PROGRAM)
  message(FATAL_ERROR "run by examples/CMakeLists.txt through an <example>.check.cmake script, with PROGRAM set")
endif()
get_filename_component(_example_bin "${PROGRAM}" DIRECTORY)
get_filename_component(_example_test "${PROGRAM}" NAME)
set(_example_dir "${CMAKE_CURRENT_BINARY_DIR}/${_example_test}.run")
file(REMOVE_RECURSE "${_example_dir}")
file(MAKE_DIRECTORY "${_example_dir}")
set(_example_names "")
set(_example_failures "")
set(example_poll_seconds 0.02)
set(example_wait_seconds 30)      # the longest wait for a line or an exit
set(example_kill_seconds 90)      # `timeout` kills a program still running after this long

function(_example_output name var)
  set(text "")
  if(EXISTS "${_example_dir}/${name}.out")
    file(READ "${_example_dir}/${name}.out" text)
  endif()
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

function(_example_pid name var)
  set(pid "")
  if(EXISTS "${_example_dir}/${name}.pid")
    file(STRINGS "${_example_dir}/${name}.pid" pid LIMIT_COUNT 1)
  endif()
  set(${var} "${pid}" PARENT_SCOPE)
endfunction()

# Stops everything still running (SIGTERM to each program's session, then SIGKILL), prints every
# output, and fails with `why`.
function(_example_fail why)
  foreach(signal TERM KILL)
    set(running "")
    foreach(name IN LISTS _example_names)
      if(NOT EXISTS "${_example_dir}/${name}.status" AND EXISTS "${_example_dir}/${name}.session")
        file(STRINGS "${_example_dir}/${name}.session" session LIMIT_COUNT 1)
        execute_process(COMMAND kill -s ${signal} -- -${session} OUTPUT_QUIET ERROR_QUIET)
        list(APPEND running ${name})
      endif()
    endforeach()
    foreach(i RANGE 100)
      set(still "")
      foreach(name IN LISTS running)
        if(NOT EXISTS "${_example_dir}/${name}.status")
          list(APPEND still ${name})
        endif()
      endforeach()
      if(NOT still)
        break()
      endif()
      execute_process(COMMAND ${CMAKE_COMMAND} -E sleep ${example_poll_seconds})
    endforeach()
  endforeach()
  _example_print_outputs()
  message(FATAL_ERROR "${why}")
endfunction()

function(_example_print_outputs)
  foreach(name IN LISTS _example_names)
    _example_output(${name} text)
    message("---- ${name} ----\n${text}")
  endforeach()
endfunction()

# One step of a bounded wait that began at `start` (seconds since the epoch): sleeps a poll interval,
# or fails with `why` once the wait has lasted example_wait_seconds.
function(_example_poll start why)
  string(TIMESTAMP now "%s")
  math(EXPR elapsed "${now} - ${start}")
  if(elapsed GREATER example_wait_seconds)
    _example_fail("${why} after ${example_wait_seconds} s")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E sleep ${example_poll_seconds})
endfunction()

function(example_start name program)
  if(NOT IS_ABSOLUTE "${program}")
    set(program "${_example_bin}/${program}")
  endif()
  set(base "${_example_dir}/${name}")
  file(REMOVE "${base}.out" "${base}.pid" "${base}.session" "${base}.status")
  execute_process(
    COMMAND setsid -f sh -c [=[
      base=$1; limit=$2; shift 2
      echo $$ > "$base.session"
      timeout --foreground -s KILL "$limit" sh -c 'echo $$ > "$0.pid"; exec "$@"' "$base" "$@" \
        > "$base.out" 2>&1 < /dev/null
      echo $? > "$base.status.tmp" && mv "$base.status.tmp" "$base.status"
    ]=] sh "${base}" ${example_kill_seconds} "${program}" ${ARGN}
    INPUT_FILE /dev/null OUTPUT_FILE /dev/null ERROR_FILE /dev/null RESULT_VARIABLE rc)
  list(APPEND _example_names ${name})
  set(_example_names "${_example_names}" PARENT_SCOPE)
  if(NOT rc EQUAL 0)
    _example_fail("could not start ${name}: ${program} ${ARGN}")
  endif()
  # The pid is written before the program starts: wait for it, so that example_signal has it.
  foreach(i RANGE 500)
    if(EXISTS "${base}.pid")
      _example_pid(${name} pid)
      if(pid)
        return()
      endif()
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E sleep ${example_poll_seconds})
  endforeach()
  _example_fail("${name} did not start")
endfunction()

function(example_wait_for name regex)
  string(TIMESTAMP start "%s")
  while(TRUE)
    _example_output(${name} text)
    if(text MATCHES "${regex}")
      if(ARGC GREATER 2)
        set(${ARGV2} "${CMAKE_MATCH_1}" PARENT_SCOPE)
      endif()
      return()
    endif()
    if(EXISTS "${_example_dir}/${name}.status")
      _example_fail("${name} exited before printing a line matching: ${regex}")
    endif()
    _example_poll(${start} "${name}: no line matching '${regex}'")
  endwhile()
endfunction()

function(example_signal name signal)
  _example_pid(${name} pid)
  execute_process(COMMAND kill -s ${signal} ${pid} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    _example_fail("could not send SIG${signal} to ${name} (pid ${pid})")
  endif()
endfunction()

function(example_wait name)
  string(TIMESTAMP start "%s")
  while(NOT EXISTS "${_example_dir}/${name}.status")
    _example_poll(${start} "${name} still running")
  endwhile()
  set(expected 0)
  if(ARGC GREATER 1)
    set(expected ${ARGV1})
  endif()
  file(STRINGS "${_example_dir}/${name}.status" status LIMIT_COUNT 1)
  if(NOT status EQUAL expected)
    _example_fail("${name} exited with status ${status}, not ${expected}")
  endif()
endfunction()

function(example_run name program)
  example_start(${name} ${program} ${ARGN})
  set(_example_names "${_example_names}" PARENT_SCOPE)
  example_wait(${name})
endfunction()

function(example_expect name)
  _example_output(${name} text)
  match_in_order("${text}" _example_failures "${name}: " ${ARGN})
  set(_example_failures "${_example_failures}" PARENT_SCOPE)
endfunction()

function(example_done)
  if(_example_failures)
    _example_fail("output check failed:\n${_example_failures}")
  endif()
  _example_print_outputs()
  list(LENGTH _example_names n)
  message(STATUS "${n} program(s) exited as expected and printed every expected line")
endfunction()
