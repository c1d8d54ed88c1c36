smoes_module(moe DEPS smoes_core)

# The expert loops and the fused router spread work over threads with
# at::parallel_for, an inline template whose `#pragma omp parallel` is
# compiled in *our* translation unit: without -fopenmp it silently runs on one
# thread (each expert GEMM then threads itself inside the GEMM library, much slower on
# these small GEMMs; docs/PERFORMANCE.md). The torch PCH was parsed without
# -fopenmp, so these files skip it. A new file using at::parallel_for goes here.
find_package(OpenMP REQUIRED)
set_source_files_properties(
  ${PROJECT_SOURCE_DIR}/src/moe/experts.cpp ${PROJECT_SOURCE_DIR}/src/moe/softmax_topk.cpp ${PROJECT_SOURCE_DIR}/src/moe/bench.cpp
  TARGET_DIRECTORY smoes_moe PROPERTIES COMPILE_OPTIONS "${OpenMP_CXX_FLAGS}" SKIP_PRECOMPILE_HEADERS ON)
target_link_libraries(smoes_moe PUBLIC ${OpenMP_CXX_LIBRARIES})

# oneDNN's sgemm (moe/gemm.h): Debian's libdnnl, the one LibTorch links. Its
# CMake package config also demands OpenCL headers, so find it directly.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h REQUIRED)
find_library(DNNL_LIBRARY NAMES dnnl REQUIRED)
target_include_directories(smoes_moe SYSTEM PRIVATE ${DNNL_INCLUDE_DIR})
target_link_libraries(smoes_moe PUBLIC ${DNNL_LIBRARY})
