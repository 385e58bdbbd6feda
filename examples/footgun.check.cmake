# The test of examples/footgun.cpp (run by ctest with PROGRAM and ARGS, see examples/CMakeLists.txt).
# Checks the printed output, not the machine's speed: every variant's `variant <name> total <s>` line
# is present, and each total, in units of --scale seconds, is what this library's semantics give. With
# --virtual-clock (the ctest) the totals are exact: the tolerance is the printing's rounding, 0.01 unit.
# On the real clock CPU work is a busy loop and writes are timers, so the totals are exact up to
# scheduling noise, which can only add time: the tolerance is then one unit.
#   lazy task<T> awaited in turn (1, 2): 9 units; eager create_task / eager_task / a plain function
#   that starts the write (6, 7, 2-fixed, 10): 7 units; gather of lazy tasks (3): 6 units of work,
#   then the writes in parallel: 7; task_group (4): eager children, 7; task_group with a lock around
#   each write (5): the lock changes hands only at join(), 8; the same under `async for` over
#   to_async (9): write 0 completes at the second sleep(0), then 1 and 2 in turn, 8 (as in Python).
set(expected
  example1_await_immediately=9
  example2_await_before_next_write=9
  example3_gather=7
  example4_taskgroup_create_task_outside_loop=7
  example5_taskgroup_create_task_outside_loop_with_lock=8
  example6_await_before_next_write_with_task=7
  example7_sleep_with_task=7
  example9_task_with_async_for=8
  example2_await_before_next_write_fixed_function=7
  example10_fixed_write_with_gather=7)

separate_arguments(args UNIX_COMMAND "${ARGS}")
set(scale 1)
if(ARGS MATCHES "--scale ([0-9.]+)")
  set(scale ${CMAKE_MATCH_1})
endif()
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "footgun exited with ${rc}")
endif()

set(tolerance 1000)  # thousandths of a unit
if(ARGS MATCHES "--virtual-clock")
  set(tolerance 10)
endif()
set(failures "")
foreach(entry IN LISTS expected)
  string(REPLACE "=" ";" pair ${entry})
  list(GET pair 0 name)
  list(GET pair 1 want)
  if(NOT out MATCHES "\nvariant ${name} total ([0-9.]+)\n")
    string(APPEND failures "  ${name}: no 'variant ${name} total' line\n")
    continue()
  endif()
  set(total ${CMAKE_MATCH_1})
  # CMake's math() is integer-only: read total and scale as fixed point (millionths), then compare
  # total / scale in thousandths of a unit.
  foreach(v total scale)
    string(REGEX MATCH "^([0-9]*)\\.?([0-9]*)$" _ "${${v}}")
    set(int "${CMAKE_MATCH_1}")
    set(frac "${CMAKE_MATCH_2}000000")
    string(SUBSTRING "${frac}" 0 6 frac)
    if(int STREQUAL "")
      set(int 0)
    endif()
    string(REGEX MATCH "[1-9][0-9]*$" frac "${frac}")  # no leading zeros (not octal, just tidy)
    if(frac STREQUAL "")
      set(frac 0)
    endif()
    math(EXPR ${v}_micro "${int} * 1000000 + ${frac}")
  endforeach()
  math(EXPR milli_units "${total_micro} * 1000 / ${scale_micro}")
  math(EXPR low "${want} * 1000 - ${tolerance}")
  math(EXPR high "${want} * 1000 + ${tolerance}")
  if(milli_units LESS low OR milli_units GREATER high)
    string(APPEND failures "  ${name}: total ${total} s = ${milli_units}/1000 units, expected ${want} +- ${tolerance}/1000\n")
  else()
    message(STATUS "${name}: ${milli_units}/1000 units (expected ${want} +- ${tolerance}/1000)")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "footgun output check failed:\n${failures}")
endif()
