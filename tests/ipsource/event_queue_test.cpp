// The queue between receivers and the writer: bounded, drops the oldest (counted per source),
// keeps order, wakes the writer, and hands out what is left after stop().
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "ipsource/event_queue.hpp"

namespace dirfeed::ipsource {
namespace {

using Strings = std::vector<std::string>;

std::vector<changefeed::IpEvent> logons(const Strings& ips) {
  std::vector<changefeed::IpEvent> events;
  for (const std::string& ip : ips) {
    events.push_back({changefeed::IpEvent::Kind::kLogon, "guid", ip, 1});
  }
  return events;
}

Strings ips_of(const std::vector<EventQueue::Entry>& entries) {
  Strings ips;
  for (const EventQueue::Entry& entry : entries) ips.push_back(entry.event.ip);
  return ips;
}

TEST(EventQueueTest, AFullQueueDropsTheOldestAndCountsItsSource) {
  std::map<size_t, int> dropped;
  EventQueue queue(3, [&](size_t source) { ++dropped[source]; });
  auto a = logons({"10.0.0.1", "10.0.0.2"});
  auto b = logons({"10.0.0.3", "10.0.0.4"});
  queue.push(0, &a);
  queue.push(1, &b);
  EXPECT_TRUE(a.empty()) << "moved from";
  EXPECT_EQ(dropped, (std::map<size_t, int>{{0, 1}}));
  EXPECT_EQ(queue.size(), 3u);

  std::vector<EventQueue::Entry> batch;
  ASSERT_TRUE(queue.take(2, &batch));
  EXPECT_EQ(ips_of(batch), (Strings{"10.0.0.2", "10.0.0.3"})) << "oldest first, at most 2";
  EXPECT_EQ(batch[0].source, 0u);
  EXPECT_EQ(batch[1].source, 1u);
  ASSERT_TRUE(queue.take(10, &batch));
  EXPECT_EQ(ips_of(batch), (Strings{"10.0.0.2", "10.0.0.3", "10.0.0.4"})) << "appended";

  auto burst = logons({"10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5"});
  queue.push(2, &burst);
  EXPECT_EQ(dropped[2], 2) << "a push larger than the queue loses its own oldest";
  batch.clear();
  ASSERT_TRUE(queue.take(10, &batch));
  EXPECT_EQ(ips_of(batch), (Strings{"10.0.1.3", "10.0.1.4", "10.0.1.5"}));
}

TEST(EventQueueTest, TakeWaitsForAPushAndStopHandsOutWhatIsLeft) {
  EventQueue queue(10, [](size_t) {});
  auto waiting = std::async(std::launch::async, [&] {
    std::vector<EventQueue::Entry> batch;
    const bool got = queue.take(10, &batch);
    return got ? ips_of(batch) : Strings{"stopped"};
  });
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  auto one = logons({"10.0.0.1"});
  queue.push(0, &one);
  EXPECT_EQ(waiting.get(), Strings{"10.0.0.1"});

  auto two = logons({"10.0.0.2", "10.0.0.3"});
  queue.push(0, &two);
  queue.stop();
  std::vector<EventQueue::Entry> batch;
  ASSERT_TRUE(queue.take(10, &batch));
  EXPECT_EQ(ips_of(batch), (Strings{"10.0.0.2", "10.0.0.3"}));
  EXPECT_FALSE(queue.take(10, &batch)) << "stopped and empty";
}

}  // namespace
}  // namespace dirfeed::ipsource
