#pragma once
// A Clock (core/clock.hpp) that tests move by hand. Thread-safe; starts at kStartUs
// (2023-11-14T22:13:20Z) so that times are far from 0 and from now.
#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/clock.hpp"

namespace dirfeed::testing {

class ManualClock final : public Clock {
 public:
  static constexpr int64_t kStartUs = 1'700'000'000'000'000;

  int64_t now_us() const override { return now_us_.load(); }
  void set(int64_t now_us) { now_us_ = now_us; }
  void advance(int64_t us) { now_us_ += us; }
  void advance(std::chrono::microseconds by) { now_us_ += by.count(); }

 private:
  std::atomic<int64_t> now_us_{kStartUs};
};

}  // namespace dirfeed::testing
