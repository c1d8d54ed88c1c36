// The world from the environment: torchrun's variables, mpirun's, none, and
// bad values named by variable.
#include "dist/world.h"

#include <gtest/gtest.h>

#include <map>

#include "../error_of.h"

using namespace smoes;

namespace {

dist::WorldInfo from(std::map<std::string, std::string> env) {
  return dist::world_from_env([env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST(DistWorld, ReadsTorchrunMpirunOrNothing) {
  auto t = from({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "10.0.0.2"}, {"MASTER_PORT", "1234"}});
  EXPECT_EQ(t.source, "torchrun");
  EXPECT_EQ(t.rank, 1);
  EXPECT_EQ(t.size, 4);
  EXPECT_EQ(t.addr, "10.0.0.2");
  EXPECT_EQ(t.port, 1234);
  auto m = from({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "3"}});
  EXPECT_EQ(m.source, "mpirun");
  EXPECT_EQ(m.rank, 2);
  EXPECT_EQ(m.size, 3);
  EXPECT_EQ(m.addr, "127.0.0.1");
  EXPECT_EQ(m.port, 29500);
  auto s = from({});
  EXPECT_EQ(s.source, "single");
  EXPECT_EQ(s.size, 1);
}

TEST(DistWorld, BadValuesNameTheVariable) {
  EXPECT_NE(error_of([] {
              from({{"RANK", "2"}, {"WORLD_SIZE", "2"}});
            }).find("RANK='2': expected an integer in [0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of([] { from({{"RANK", "0"}}); }).find("WORLD_SIZE is missing"), std::string::npos);
  EXPECT_NE(error_of([] { from({{"RANK", "0"}, {"WORLD_SIZE", "two"}}); }).find("WORLD_SIZE='two'"), std::string::npos);
  EXPECT_NE(error_of([] {
              from({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_PORT", "70000"}});
            }).find("MASTER_PORT='70000'"),
            std::string::npos);
}

TEST(DistWorld, FreePortIsUsable) {
  int p = dist::free_local_port();
  EXPECT_GT(p, 0);
  EXPECT_LT(p, 65536);
}
