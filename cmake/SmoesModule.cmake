# smoes_module(NAME [DEPS targets...] [TEST_DEPS targets...])
#   Library smoes_NAME from src/NAME/*.cpp, and test executable test_NAME from
#   tests/NAME/*.cpp (googletest, each suite one ctest: cmake/ListSuites.cmake).
#   A module's module.cmake (src/NAME/module.cmake) calls this; new folders need
#   no edit of the top-level CMakeLists.txt beyond the list there.

# Whether FILE reaches torch through its includes: directly (<torch/...>,
# <ATen/...>, <c10/...>) or through one of our headers ("model/vlm.h" brings
# <torch/torch.h>). Each file is read once; the answer is kept in a global
# property. A direct-include check alone left most torch TUs parsing torch
# from scratch (~9 s more each, docs/PERFORMANCE.md "Build").
function(smoes_includes_torch file out)
  get_property(known GLOBAL PROPERTY "SMOES_TORCH:${file}" SET)
  if(known)
    get_property(answer GLOBAL PROPERTY "SMOES_TORCH:${file}")
    set(${out} ${answer} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "SMOES_TORCH:${file}" OFF)  # an include cycle ends here
  file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include")
  get_filename_component(dir ${file} DIRECTORY)
  set(answer OFF)
  foreach(line IN LISTS includes)
    if(line MATCHES "include[ \t]*<(torch|ATen|c10)/")
      set(answer ON)
    elseif(line MATCHES "include[ \t]*\"([^\"]+)\"")
      set(name ${CMAKE_MATCH_1})
      foreach(candidate ${dir}/${name} ${PROJECT_SOURCE_DIR}/src/${name})
        if(EXISTS ${candidate})
          get_filename_component(candidate ${candidate} ABSOLUTE)
          smoes_includes_torch(${candidate} answer)
          break()
        endif()
      endforeach()
    endif()
    if(answer)
      break()
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY "SMOES_TORCH:${file}" ${answer})
  set(${out} ${answer} PARENT_SCOPE)
endfunction()

# Sources that reach torch reuse the shared PCH; the others skip it (a torch
# PCH costs seconds to load even where nothing uses it).
function(smoes_use_torch_pch target sources)
  target_precompile_headers(${target} REUSE_FROM smoes_pch)
  foreach(src IN LISTS sources)
    smoes_includes_torch(${src} uses_torch)
    if(NOT uses_torch)
      set_source_files_properties(${src} TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()

# The test main (runtime set-up, then every test), compiled once for all modules.
add_library(smoes_test_main STATIC ${PROJECT_SOURCE_DIR}/tests/test_main.cpp)
target_link_libraries(smoes_test_main PUBLIC smoes_core GTest::gtest)

function(smoes_module name)
  cmake_parse_arguments(M "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(smoes_${name} STATIC ${srcs})
  # Libraries, tests and the CLI compile in unity batches: each batch
  # instantiates the torch, json and gtest templates once instead of once per
  # file (docs/PERFORMANCE.md, "Build"). File-scope names in a folder must differ.
  set_target_properties(smoes_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  target_link_libraries(smoes_${name} PUBLIC smoes_flags ${M_DEPS})
  smoes_use_torch_pch(smoes_${name} "${srcs}")
  set(SMOES_MODULES ${SMOES_MODULES} smoes_${name} PARENT_SCOPE)

  file(GLOB tsrcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*.cpp)
  if(tsrcs)
    add_executable(test_${name} ${tsrcs})
    set_target_properties(test_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests
                                                  UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    target_link_libraries(test_${name} PRIVATE smoes_${name} ${M_TEST_DEPS} smoes_test_main GTest::gmock)
    target_compile_definitions(test_${name} PRIVATE SMOES_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
    smoes_use_torch_pch(test_${name} "${tsrcs}")
    # Each suite is one ctest, listed after every link (gtest_discover_tests
    # would make one process per test). Until the executable is built, ctest
    # has a failing placeholder instead of nothing.
    set(suites ${PROJECT_BINARY_DIR}/tests/test_${name}_suites.cmake)
    add_custom_command(TARGET test_${name} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -D EXE=$<TARGET_FILE:test_${name}> -D OUT=${suites} -D LABEL=${name}
              -P ${PROJECT_SOURCE_DIR}/cmake/ListSuites.cmake
      VERBATIM)
    set(include ${PROJECT_BINARY_DIR}/tests/test_${name}_include.cmake)
    file(WRITE ${include} "if(EXISTS [=[${suites}]=])\n  include([=[${suites}]=])\nelse()\n"
                          "  add_test(test_${name}_NOT_BUILT test_${name}_NOT_BUILT)\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include})
  endif()
endfunction()
