# The test of every example whose source has `// ctest-expect: <regex>` comments (see
# examples/CMakeLists.txt): runs PROGRAM with ARGS, prints what it printed, and fails unless it exited
# with status 0 and its output (stdout and stderr together) matches every regex, in the order the
# comments appear. The expected output thus sits in the example's own header, where a reader sees it.
# Regexes are CMake's (no \d; `.` matches a newline too), each matched after the previous match.
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}")
endif()

file(STRINGS ${SOURCE} expectations REGEX "^// ctest-expect: ")
list(TRANSFORM expectations REPLACE "^// ctest-expect: " "")
include(${CMAKE_CURRENT_LIST_DIR}/match_in_order.cmake)
set(failures "")
match_in_order("${out}${err}" failures "" ${expectations})
if(failures)
  message(FATAL_ERROR "output check failed:\n${failures}")
endif()
list(LENGTH expectations n)
message(STATUS "exit status 0 and all ${n} expected lines found, in order")
