// at::parallel_for for the files that use it. Its `#pragma omp parallel` is
// compiled in the including file, so without -fopenmp it silently runs on one
// thread: src/moe/module.cmake lists the files built with OpenMP, and this
// stops any other file from compiling.
#pragma once
#include <ATen/Parallel.h>

#ifndef _OPENMP
#error "compile with -fopenmp: add this file to the OpenMP list in src/moe/module.cmake"
#endif
