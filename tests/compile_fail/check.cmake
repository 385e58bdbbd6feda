# Runs one compile-fail case (see CMakeLists.txt next to this file).
# Inputs: CXX (compiler), SOURCE (the case), INCLUDE_DIR (the library's include/).
foreach(var CXX SOURCE INCLUDE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check.cmake: ${var} is not set")
  endif()
endforeach()

file(STRINGS ${SOURCE} expect_lines REGEX "^// expect: " LIMIT_COUNT 1)
if(NOT expect_lines)
  message(FATAL_ERROR "${SOURCE}: no '// expect: <regex>' line")
endif()
string(REGEX REPLACE "^// expect: " "" expect "${expect_lines}")

# -fsyntax-only still instantiates templates and runs every semantic check that warns.
set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${INCLUDE_DIR})

execute_process(COMMAND ${CXX} ${flags} -DASYNCIO_COMPILE_FAIL_CONTROL ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "control build (correct use) of ${SOURCE} failed; the case itself is broken:\n${out}")
endif()

execute_process(COMMAND ${CXX} ${flags} ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but the misuse must be rejected (expected: ${expect})")
endif()
if(NOT out MATCHES "${expect}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but not with the expected diagnostic '${expect}':\n${out}")
endif()
message(STATUS "rejected as expected (${expect})")
