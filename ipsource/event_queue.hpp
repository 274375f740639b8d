#pragma once
// The bounded queue between the IP sources' receiving threads, which parse and resolve, and
// their writer thread, which stores: IP events, oldest first. A producer never waits for the
// writer: when the queue is full the oldest events go, each reported to `on_drop` with its
// source (the next logon from that address maps it again). Thread-safe.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "changefeed/store.hpp"

namespace dirfeed::ipsource {

class EventQueue {
 public:
  struct Entry {
    size_t source = 0;
    changefeed::IpEvent event;
  };

  // `on_drop` runs under the queue's lock: it must be quick and must not use the queue.
  EventQueue(size_t capacity, std::function<void(size_t source)> on_drop);

  // Appends `events` of `source` in order (moved from; cleared), dropping the oldest entries
  // beyond the capacity (when `events` alone is larger, its own oldest go too).
  void push(size_t source, std::vector<changefeed::IpEvent>* events);

  // Waits until something is queued or stop() was called, then moves up to `max` of the oldest
  // entries to the end of *batch. False, with nothing moved, once stopped and empty.
  bool take(size_t max, std::vector<Entry>* batch);

  // Wakes take(): what is queued is still handed out, then take() returns false.
  void stop();

  size_t size() const;

 private:
  const size_t capacity_;
  const std::function<void(size_t)> on_drop_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Entry> entries_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
};

}  // namespace dirfeed::ipsource
