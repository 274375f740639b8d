#include "ipsource/event_queue.hpp"

#include <algorithm>

namespace dirfeed::ipsource {

EventQueue::EventQueue(size_t capacity, std::function<void(size_t source)> on_drop)
    : capacity_(capacity), on_drop_(std::move(on_drop)) {}

void EventQueue::push(size_t source, std::vector<changefeed::IpEvent>* events) {
  if (events->empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (changefeed::IpEvent& event : *events) {
      if (entries_.size() >= capacity_) {
        on_drop_(entries_.front().source);
        entries_.pop_front();
      }
      entries_.push_back(Entry{source, std::move(event)});
    }
  }
  events->clear();
  wake_.notify_one();
}

bool EventQueue::take(size_t max, std::vector<Entry>* batch) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return stopping_ || !entries_.empty(); });
  if (entries_.empty()) return false;
  const size_t n = std::min(max, entries_.size());
  std::move(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n),
            std::back_inserter(*batch));
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n));
  return true;
}

void EventQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

size_t EventQueue::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace dirfeed::ipsource
