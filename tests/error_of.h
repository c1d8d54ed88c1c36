// Shared by the tests of every module: run `f`, return the smoes::Error
// message it throws, and fail the test when it throws none.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const smoes::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected smoes::Error";
  return "";
}
