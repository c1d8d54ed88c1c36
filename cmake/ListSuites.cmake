# Script mode (cmake -P), run after a test executable links: one ctest per
# googletest suite, written to OUT for ctest to include.
#   -D EXE=<test executable> -D OUT=<file> -D LABEL=<label>
# A suite runs in one process: a test process costs ~0.75 s of CPU before its
# first test (libtorch's static initialisers and its ~290 shared libraries),
# so 491 processes were a third of `make test`'s ctest time
# (docs/PERFORMANCE.md, "Build"). Suites named *Worker are the
# child processes other tests launch; alone they only skip, so they get no ctest.
execute_process(COMMAND ${EXE} --gtest_list_tests OUTPUT_VARIABLE listing RESULT_VARIABLE rc TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --gtest_list_tests failed (${rc}): ${listing}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
foreach(line IN LISTS lines)
  # A suite line has no indent: "Suite." or "Prefix/Suite/0.  # TypeParam = ...".
  if(line MATCHES "^([A-Za-z0-9_/]+)\\.")
    set(suite ${CMAKE_MATCH_1})
    if(NOT suite MATCHES "Worker$")
      string(APPEND script "add_test([=[${suite}]=] [=[${EXE}]=] [=[--gtest_filter=${suite}.*]=])\n"
                           "set_tests_properties([=[${suite}]=] PROPERTIES LABELS ${LABEL})\n")
    endif()
  endif()
endforeach()
file(WRITE ${OUT}.tmp "${script}")
file(RENAME ${OUT}.tmp ${OUT})
