# `make test` (ctest) runs every fuzz target for a few seconds on its seeds
# and once on its regression inputs (tests/fixtures/fuzz/<target>/), so the
# targets keep building and the findings stay fixed. scripts/fuzz.sh builds
# them itself with clang, in <build>/fuzz (a project of its own:
# fuzz/CMakeLists.txt). Not in `make sanitize`'s build: the targets are
# sanitizer builds already.
if(NOT SMOES_SANITIZE)
  add_test(NAME fuzz_smoke COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh smoke)
  set_tests_properties(fuzz_smoke PROPERTIES ENVIRONMENT "FUZZ_BUILD=${PROJECT_BINARY_DIR}/fuzz" TIMEOUT 3600
                                             LABELS fuzz)
endif()
