// ChangeNotifier over the fake domain (fake_directory.hpp): which DC it watches, what a
// notification and a reconnect make of on_change, and the refused binds it shares with the
// poller through ControllerHealth. Real time, bounded by kStepTimeout; the notification
// control against Samba is tests/integration/notify_test.cpp.
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

using namespace std::chrono_literals;

// Waits up to 3 s for `done`.
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

  void start() {
    notifier_ = std::make_unique<ChangeNotifier>(
        options_, *health_, [this] { ++changes_; }, domain_.opener());
  }

  FakeDomain domain_;
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
  ASSERT_TRUE(eventually([&] { return changes_ == 1; }));
  std::this_thread::sleep_for(ChangeNotifier::kDebounce + 100ms);
  EXPECT_EQ(changes_, 1);
  EXPECT_EQ(dc2_.opens(), 0);
}

TEST_F(NotifierTest, WatchesTheNextDcAndMovesToThePreferredOneWithAChange) {
  dc1_.set_down(true);
  start();
  ASSERT_TRUE(eventually([&] { return dc2_.opens() == 1; }));
  dc1_.set_down(false);
  notifier_->prefer(dc1_.uri());
  ASSERT_TRUE(eventually([&] { return dc1_.opens() == 1; }));
  // What changed while it moved was not seen: one change, for a pass to catch up.
  EXPECT_TRUE(eventually([&] { return changes_ == 1; }));
  dc2_.notify();
  std::this_thread::sleep_for(ChangeNotifier::kDebounce + 100ms);
  EXPECT_EQ(changes_, 1) << "DC2 is no longer watched";
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
