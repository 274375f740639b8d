// ChangeNotifier over the fake domain (fake_directory.hpp): which DC it watches, what a
// notification and a reconnect make of on_change, and the refused binds it shares with the
// poller through ControllerHealth. Its waits (the debounce, the wait for a notification) are
// on a manual monotonic clock the tests move, so what must not happen yet is checked exactly;
// the notification control against Samba is tests/integration/notify_test.cpp.
#include "ldap/notifier.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "tests/ldap/fake_directory.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::ldap::testing {
namespace {

using dirfeed::testing::ManualClock;
using dirfeed::testing::ManualMonotonicClock;

using namespace std::chrono_literals;

// Waits up to 3 s (real time: for the notifier's thread to get there) for `done`.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() : dc1_(domain_.add_dc("dc1")), dc2_(domain_.add_dc("dc2")) {
    options_.name = domain_.domain();
    options_.controllers = {dc1_.uri(), dc2_.uri()};
    options_.bind.dn = "svc-dirfeed@example.test";
    health_ = std::make_unique<ControllerHealth>(options_.controllers, options_.bind, clock_);
  }

  ~NotifierTest() override {
    if (!notifier_) return;
    notifier_->stop();
    monotonic_.expire_all();  // its thread may be parked in a wait with a timeout
    notifier_.reset();
  }

  void start() {
    notifier_ = std::make_unique<ChangeNotifier>(
        options_, *health_, [this] { ++changes_; }, domain_.opener(), monotonic_);
  }

  // Once the notifier's thread has read `read` notifications from `dc` and is parked in a
  // timed wait, moves time on by `by`.
  void advance_when_parked(const FakeDc& dc, uint64_t read, std::chrono::milliseconds by) {
    ASSERT_TRUE(eventually([&] {
      return dc.notifications_read() == read && monotonic_.waiting() == 1;
    })) << dc.notifications_read()
        << " notifications read, " << monotonic_.waiting() << " threads waiting";
    monotonic_.advance(by);
  }

  ManualMonotonicClock monotonic_;
  FakeDomain domain_{"example.test", monotonic_};
  FakeDc& dc1_;
  FakeDc& dc2_;
  ManualClock clock_;
  DomainOptions options_;
  std::unique_ptr<ControllerHealth> health_;
  std::atomic<int> changes_{0};
  std::unique_ptr<ChangeNotifier> notifier_;  // last: stopped before the rest goes
};

TEST_F(NotifierTest, ABurstOfNotificationsIsOneChange) {
  start();
  ASSERT_TRUE(eventually([&] { return dc1_.operations() == 1; })) << "the notification search";
  EXPECT_EQ(changes_, 0) << "no change before anything was notified";
  dc1_.notify();
  dc1_.notify();
  dc1_.notify();
  // All three read, the notifier waits out the debounce: no change until it has passed.
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 3, ChangeNotifier::kDebounce - 1ms));
  EXPECT_EQ(changes_, 0) << "within the debounce";
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 3, 1ms));
  ASSERT_TRUE(eventually([&] { return changes_ == 1; }));
  // Nothing more comes of the burst, however long it stays quiet.
  for (int step = 0; step < 3; ++step) {
    ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 3, ChangeNotifier::kStepTimeout));
  }
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 3, 0ms));
  EXPECT_EQ(changes_, 1);
  EXPECT_EQ(dc2_.opens(), 0);
}

TEST_F(NotifierTest, WatchesTheNextDcAndMovesToThePreferredOneWithAChange) {
  dc1_.set_down(true);
  start();
  ASSERT_TRUE(eventually([&] { return dc2_.opens() == 1; }));
  dc1_.set_down(false);
  notifier_->prefer(dc1_.uri());
  // The watch of DC2 looks for a switch at the end of each step.
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc2_, 0, ChangeNotifier::kStepTimeout));
  ASSERT_TRUE(eventually([&] { return dc1_.opens() == 1; }));
  // What changed while it moved was not seen: one change, for a pass to catch up.
  EXPECT_TRUE(eventually([&] { return changes_ == 1; }));
  dc2_.notify();
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 0, ChangeNotifier::kDebounce));
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 0, 0ms));
  EXPECT_EQ(changes_, 1) << "DC2 is no longer watched";
  EXPECT_EQ(dc2_.notifications_read(), 0u);
  dc1_.notify();
  ASSERT_NO_FATAL_FAILURE(advance_when_parked(dc1_, 1, ChangeNotifier::kDebounce));
  EXPECT_TRUE(eventually([&] { return changes_ == 2; })) << "DC1 is";
}

TEST_F(NotifierTest, ARefusedBindBacksTheDcOffForThePollerToo) {
  dc1_.set_refuse_bind(true);
  start();
  ASSERT_TRUE(eventually([&] { return dc2_.opens() == 1; }));
  const std::vector<ControllerState> states = health_->snapshot();
  EXPECT_EQ(states[0].credential_problem, "wrong password for svc-dirfeed");
  EXPECT_GT(states[0].retry_after_us, clock_.now_us());
  EXPECT_EQ(states[1].failures, 0);
  EXPECT_FALSE(health_->claim(dc1_.uri())) << "the poller does not bind there either";
}

}  // namespace
}  // namespace dirfeed::ldap::testing
