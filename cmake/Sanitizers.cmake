# One switch turns the sanitizers on for everything built here (docs/conventions.md §7,
# docs/toolchain.md §4.3).
if(ASYNCIO_SANITIZE)
  string(REPLACE ";" "," _asyncio_san "${ASYNCIO_SANITIZE}")
  add_compile_options(-fsanitize=${_asyncio_san} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${_asyncio_san})
  if(_asyncio_san MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(_asyncio_san MATCHES "address" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++'s use-after-scope instrumentation defeats the tail call of symmetric transfer (docs/toolchain.md §4.2).
    add_compile_options(-fno-sanitize-address-use-after-scope)
  endif()
endif()
