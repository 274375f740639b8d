#pragma once
// Time as every module sees it: injected, so expiry, backoff and timestamps are testable.
// Clock is wall-clock time (timestamps, expiry that survives a restart); MonotonicClock is
// the time of timeouts, debounce and retry waits, with the one timed wait they use, so that
// a test moves time (tests/support/manual_clock.hpp) instead of sleeping.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace dirfeed {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in microseconds since the Unix epoch.
  virtual int64_t now_us() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_us() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class MonotonicClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~MonotonicClock() = default;
  virtual TimePoint now() const = 0;
  // With `lock` held on the mutex `done` reads under: waits on `cv` until done() (checked
  // at once, and whenever `cv` is notified) or until this clock reaches `deadline`. Returns
  // done()'s last value, as std::condition_variable::wait_until does.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint deadline, const std::function<bool()>& done) const = 0;

  bool wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                std::chrono::steady_clock::duration timeout,
                const std::function<bool()>& done) const {
    return wait_until(lock, cv, now() + timeout, done);
  }
};

// std::chrono::steady_clock. Stateless: one instance serves every thread.
class SystemMonotonicClock final : public MonotonicClock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint deadline, const std::function<bool()>& done) const override {
    return cv.wait_until(lock, deadline, done);
  }
};

// The process's SystemMonotonicClock, the default where a MonotonicClock is injected.
inline const MonotonicClock& steady_clock() {
  static const SystemMonotonicClock clock;
  return clock;
}

}  // namespace dirfeed
