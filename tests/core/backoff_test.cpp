#include "core/backoff.hpp"

#include <gtest/gtest.h>

namespace dirfeed {
namespace {

using namespace std::chrono_literals;

TEST(DoublingDelay, DoublesFromTheBaseUpToTheCap) {
  EXPECT_EQ(doubling_delay(0, 5s, 300s), 5s);
  EXPECT_EQ(doubling_delay(1, 5s, 300s), 5s);
  EXPECT_EQ(doubling_delay(2, 5s, 300s), 10s);
  EXPECT_EQ(doubling_delay(7, 5s, 300s), 300s);  // 320 s capped
  EXPECT_EQ(doubling_delay(4'000'000'000u, 5s, 300s), 300s);
}

TEST(RetryDelay, DoublesFromTheBaseUpToTheCapWithJitterTakingUpToHalf) {
  const auto base = 1000ms;
  const auto cap = 300'000ms;
  EXPECT_EQ(retry_delay(1, base, cap, 0.0), 500ms);
  EXPECT_EQ(retry_delay(1, base, cap, 0.5), 750ms);
  EXPECT_EQ(retry_delay(2, base, cap, 0.0), 1000ms);
  EXPECT_EQ(retry_delay(3, base, cap, 0.999), 3998ms);
  EXPECT_EQ(retry_delay(9, base, cap, 0.0), 128'000ms);
  EXPECT_EQ(retry_delay(10, base, cap, 0.0), 150'000ms);  // 512 s capped at 300 s
  EXPECT_EQ(retry_delay(4'000'000'000u, base, cap, 0.5), 225'000ms);
}

}  // namespace
}  // namespace dirfeed
