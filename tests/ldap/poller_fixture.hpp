#pragma once
// The fixture of the poller's unit tests (poller_test.cpp, poller_guards_test.cpp): a
// DomainPoller over a fake domain of two DCs (fake_directory.hpp) and a sink that stores as
// the store does (recording_sink.hpp), with an injected clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ldap/poller.hpp"
#include "tests/ldap/fake_directory.hpp"
#include "tests/ldap/recording_sink.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::ldap::testing {

using dirfeed::testing::ManualClock;

using Changes = std::vector<std::string>;

class PollerTest : public ::testing::Test {
 protected:
  PollerTest() : dc1_(domain_.add_dc("dc1")), dc2_(domain_.add_dc("dc2")) {
    options_.name = domain_.domain();
    options_.controllers = {dc1_.uri(), dc2_.uri()};
    options_.bind.dn = "svc-dirfeed@example.test";
    options_.sync.strategy = Strategy::kUsn;
    options_.sync.page_size = 2;
  }

  // The poller, made on first use (so that a test may change options_ before).
  DomainPoller& poller() {
    if (!poller_) {
      poller_ = std::make_unique<DomainPoller>(options_, sink_, clock_, domain_.opener());
    }
    return *poller_;
  }

  // One pass; the records of the sink and the DCs opened are those of this pass only.
  PassResult pass() {
    sink_.clear_records();
    domain_.take_opened();
    std::atomic<bool> stop{false};
    return poller().run_pass(stop);
  }

  // alice and bob, and the group staff of both, on DC1; the two DCs replicate both ways.
  void add_staff() {
    alice_ = dc1_.add_user("alice");
    bob_ = dc1_.add_user("bob");
    staff_ = dc1_.add_group("staff", {alice_, bob_});
    dc2_.replicate_from(dc1_);
    dc1_.replicate_from(dc2_);
  }

  // The objects of every page committed in the last pass, by name.
  std::vector<std::string> committed_names() const {
    std::vector<std::string> names;
    for (const auto& commit : sink_.commits) {
      for (const auto& observed : commit.objects) {
        names.push_back(observed.object().sam_account_name());
      }
    }
    return names;
  }

  FakeDomain domain_;
  FakeDc& dc1_;
  FakeDc& dc2_;
  ManualClock clock_;
  RecordingSink sink_;
  DomainOptions options_;
  std::unique_ptr<DomainPoller> poller_;
  std::string alice_, bob_, staff_;
};

class DirSyncPollerTest : public PollerTest {
 protected:
  DirSyncPollerTest() { options_.sync.strategy = Strategy::kDirSync; }
};

}  // namespace dirfeed::ldap::testing
