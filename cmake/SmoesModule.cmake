# smoes_module(NAME [DEPS targets...] [TEST_DEPS targets...] [ONE_PROCESS_SUITES suites...])
#   Library smoes_NAME from src/NAME/*.cpp, and test executable test_NAME from
#   tests/NAME/*.cpp (googletest, every TEST registered with ctest).
#   A module's module.cmake (src/NAME/module.cmake) calls this; new folders need
#   no edit of the top-level CMakeLists.txt beyond the list there.

# Sources that include torch reuse the shared PCH; the others skip it (a torch
# PCH costs seconds to load even where nothing uses it).
function(smoes_use_torch_pch target sources)
  target_precompile_headers(${target} REUSE_FROM smoes_pch)
  foreach(src IN LISTS sources)
    file(STRINGS ${src} torch_includes REGEX "#include [<\"](torch|ATen|c10)/")
    if(NOT torch_includes)
      set_source_files_properties(${src} TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()

# The test main (runtime set-up, then every test), compiled once for all modules.
add_library(smoes_test_main STATIC ${PROJECT_SOURCE_DIR}/tests/test_main.cpp)
target_link_libraries(smoes_test_main PUBLIC smoes_core GTest::gtest)

function(smoes_module name)
  cmake_parse_arguments(M "" "" "DEPS;TEST_DEPS;ONE_PROCESS_SUITES" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(smoes_${name} STATIC ${srcs})
  target_link_libraries(smoes_${name} PUBLIC smoes_flags ${M_DEPS})
  smoes_use_torch_pch(smoes_${name} "${srcs}")
  set(SMOES_MODULES ${SMOES_MODULES} smoes_${name} PARENT_SCOPE)

  file(GLOB tsrcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*.cpp)
  if(tsrcs)
    add_executable(test_${name} ${tsrcs})
    set_target_properties(test_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
    target_link_libraries(test_${name} PRIVATE smoes_${name} ${M_TEST_DEPS} smoes_test_main GTest::gmock)
    target_compile_definitions(test_${name} PRIVATE SMOES_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
    smoes_use_torch_pch(test_${name} "${tsrcs}")
    # A suite whose SetUpTestSuite does heavy shared work (a study, a
    # reference training run) runs as one ctest, in one process: discovered
    # one test per process, each would redo that work.
    set(filter "")
    foreach(suite IN LISTS M_ONE_PROCESS_SUITES)
      add_test(NAME ${suite} COMMAND test_${name} --gtest_filter=${suite}.*)
      set_tests_properties(${suite} PROPERTIES LABELS ${name})
      string(APPEND filter ":${suite}.*")
    endforeach()
    if(filter)
      string(SUBSTRING "${filter}" 1 -1 filter)
      gtest_discover_tests(test_${name} DISCOVERY_TIMEOUT 60 TEST_FILTER "-${filter}" PROPERTIES LABELS ${name})
    else()
      gtest_discover_tests(test_${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${name})
    endif()
  endif()
endfunction()
