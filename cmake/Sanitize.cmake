# `make sanitize`: every smoes target built with AddressSanitizer and
# UndefinedBehaviorSanitizer (in its own build directory, build-sanitize).
# LibTorch, OpenBLAS and the other system libraries are not instrumented:
# ASan still checks every access our code makes, and LeakSanitizer reports
# leaks wherever they were allocated (scripts/lsan.supp lists the
# third-party ones we accept, each with its reason).
option(SMOES_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(SMOES_SANITIZE)
  # -O1 -g1 (ASan's advice; line tables are enough for its reports): less
  # optimisation and debug info to emit than RelWithDebInfo's -O2 -g for each
  # torch TU, which matters on two cores. Asserts stay on.
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1")
  # gcc 12's ASan instrumentation makes libstdc++'s <regex> warn "may be used
  # uninitialized" (a false positive inside std::function); keep the log readable.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
                      -Wno-maybe-uninitialized)
  add_link_options(-fsanitize=address,undefined)
endif()
