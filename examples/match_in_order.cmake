# match_in_order(<text> <failures-var> <label> <regex>...): for each regex that does not match <text>
# after the previous regex's match, appends "<label>not found (after the previous match): <regex>"
# to the variable <failures-var>. Matching goes on after each match, so that the regexes also check
# the order of events. Regexes are CMake's (no \d; `.` matches a newline too).
# Used by expect_output.cmake and run_together.cmake.
function(match_in_order text failures_var label)
  set(rest "${text}")
  set(failures "${${failures_var}}")
  foreach(regex IN LISTS ARGN)
    string(REGEX MATCH "${regex}" found "${rest}")
    if(found STREQUAL "")
      string(APPEND failures "  ${label}not found (after the previous match): ${regex}\n")
      continue()
    endif()
    string(FIND "${rest}" "${found}" at)
    string(LENGTH "${found}" length)
    math(EXPR next "${at} + ${length}")
    string(SUBSTRING "${rest}" ${next} -1 rest)
  endforeach()
  set(${failures_var} "${failures}" PARENT_SCOPE)
endfunction()
