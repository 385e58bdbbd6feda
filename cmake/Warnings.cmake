# Warnings: -Wall -Wextra everywhere; -Werror when ASYNCIO_WERROR is on (CI).
function(asyncio_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-gnu-zero-variadic-macro-arguments)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-pedantic)
  endif()
  # Dead code is reported too: an unused function, private field, member function or template
  # (the last three are clang's; g++ has only -Wunused-function, which -Wall turns on).
  target_compile_options(${target} PRIVATE -Wunused-function)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wunused-private-field -Wunused-member-function -Wunused-template)
  endif()
  if(ASYNCIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
