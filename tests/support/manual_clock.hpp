#pragma once
// A Clock and a MonotonicClock (core/clock.hpp) that tests move by hand. Thread-safe. The
// Clock starts at kStartUs (2023-11-14T22:13:20Z) so that times are far from 0 and from now.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

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

// Monotonic time that moves only by advance(): a wait_until() returns when its condition holds
// or when advance() has brought the clock to its deadline, never on its own. waiting() tells a
// test that a thread is parked in a timed wait, so that what it checks next is exact.
class ManualMonotonicClock final : public MonotonicClock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }

  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline, const std::function<bool()>& done) const override {
    const Waiter self{lock.mutex(), &cv};
    {
      std::lock_guard guard(mutex_);
      waiters_.push_back(self);
    }
    // `lock` is held from each check to cv.wait(), and advance() takes that mutex before it
    // notifies: no advance falls between the check and the wait unseen.
    while (!done() && !expired() && now() < deadline) cv.wait(lock);
    std::lock_guard guard(mutex_);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), self));
    return done();
  }

  // Moves time on and wakes every timed wait, whose deadline may have come.
  void advance(std::chrono::steady_clock::duration by) {
    std::vector<Waiter> waiters;
    {
      std::lock_guard lock(mutex_);
      now_ += by;
      waiters = waiters_;
    }
    for (const Waiter& waiter : waiters) {
      { std::lock_guard pause(*waiter.mutex); }
      waiter.cv->notify_all();
    }
  }

  // From now on every timed wait returns at once, as if its deadline had come: for a test's
  // end, so that threads parked in timed waits finish.
  void expire_all() {
    {
      std::lock_guard lock(mutex_);
      expired_ = true;
    }
    advance(std::chrono::steady_clock::duration::zero());
  }

  // How many threads are in wait_until() now.
  size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiters_.size();
  }

 private:
  struct Waiter {
    std::mutex* mutex;
    std::condition_variable* cv;
    bool operator==(const Waiter&) const = default;
  };

  mutable std::mutex mutex_;  // guards the members below
  bool expired() const {
    std::lock_guard lock(mutex_);
    return expired_;
  }

  TimePoint now_{std::chrono::hours(1000)};
  bool expired_ = false;
  mutable std::vector<Waiter> waiters_;
};

}  // namespace dirfeed::testing
