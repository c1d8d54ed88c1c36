smoes_module(model DEPS smoes_moe smoes_core)

# The fused attention softmax and RMSNorm spread rows over threads with
# at::parallel_for (through moe/parallel.h): like the expert loops, these files
# need -fopenmp and skip the torch PCH, which was parsed without it
# (src/moe/module.cmake says why).
find_package(OpenMP REQUIRED)
set_source_files_properties(
  ${PROJECT_SOURCE_DIR}/src/model/attention.cpp ${PROJECT_SOURCE_DIR}/src/model/norm_rope.cpp
  TARGET_DIRECTORY smoes_model PROPERTIES COMPILE_OPTIONS "${OpenMP_CXX_FLAGS}" SKIP_PRECOMPILE_HEADERS ON)
