// IP mappings from IP sources in the store (Store::apply_ip_events): logon, logoff, one user
// per IP (also through the User ID API), many events in one write, the owner index of an older
// database.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "changefeed/database.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed {
namespace {

using testing::StoreTest;
using Strings = std::vector<std::string>;
using Kind = IpEvent::Kind;

constexpr int64_t kHour = 3'600'000'000;

class IpEventsTest : public StoreTest {
 protected:
  IpEventsTest() { apply({user("alice"), user("bob")}); }

  IpEvent event(Kind kind, const std::string& name, const std::string& ip) {
    return IpEvent{kind, guid(name), ip, kHour};
  }

  Strings events(const std::vector<IpEvent>& list, IpEventStats* stats = nullptr) {
    const uint64_t before = store_->last_sequence();
    const Status status = store_->apply_ip_events(list, stats);
    EXPECT_TRUE(status.is_ok()) << status.message();
    return describe_after(before);
  }

  Strings v4(const std::string& name) {
    const pb::DirectoryObject object = stored(name);
    return Strings(object.ipv4_addresses().begin(), object.ipv4_addresses().end());
  }

  Strings expire(int64_t now_us) {
    const uint64_t before = store_->last_sequence();
    const Status status = store_->expire_ip_mappings(now_us);
    EXPECT_TRUE(status.is_ok()) << status.message();
    return describe_after(before);
  }
};

TEST_F(IpEventsTest, LogonMapsRenewsAndLogoffUnmaps) {
  EXPECT_EQ(events({event(Kind::kLogon, "alice", "192.0.2.7")}), Strings{"IP_ADD USER alice"});
  EXPECT_EQ(v4("alice"), Strings{"192.0.2.7"});
  clock_.advance(kHour / 2);
  EXPECT_EQ(events({event(Kind::kLogon, "alice", "192.0.2.7")}), Strings{})
      << "a new logon from the same IP only renews";
  EXPECT_EQ(expire(clock_.now_us() + kHour / 2 + 1), Strings{})
      << "the renewal restarted the timeout";
  EXPECT_EQ(events({event(Kind::kLogoff, "alice", "192.0.2.7")}), Strings{"IP_DELETE USER alice"});
  EXPECT_EQ(v4("alice"), Strings{});
}

TEST_F(IpEventsTest, LogonExpiresAfterItsLifetime) {
  events({event(Kind::kLogon, "alice", "192.0.2.7")});
  EXPECT_EQ(expire(clock_.now_us() + kHour - 1), Strings{});
  EXPECT_EQ(expire(clock_.now_us() + kHour), Strings{"IP_DELETE USER alice"});
}

// A renewal that extends a mapping writes only the mapping row: the earlier expiry entry is
// moved on when it is due, as often as needed. One that shortens it expires at its own time,
// and the later entry left behind expires nothing.
TEST_F(IpEventsTest, RenewalsExtendAndShortenTheExpiry) {
  const int64_t start = clock_.now_us();
  events({event(Kind::kLogon, "alice", "192.0.2.7")});
  clock_.advance(kHour / 2);
  events({event(Kind::kLogon, "alice", "192.0.2.7")});  // expires at start + 1.5 h
  EXPECT_EQ(expire(start + kHour), Strings{}) << "the first entry is due, the mapping is not";
  clock_.advance(kHour / 2);
  events({event(Kind::kLogon, "alice", "192.0.2.7")});  // expires at start + 2 h
  EXPECT_EQ(expire(start + kHour * 3 / 2), Strings{}) << "the moved entry is due again";
  EXPECT_EQ(expire(start + kHour * 2 - 1), Strings{});
  EXPECT_EQ(expire(start + kHour * 2), Strings{"IP_DELETE USER alice"});
  EXPECT_EQ(expire(start + kHour * 10), Strings{});

  events({IpEvent{Kind::kLogon, guid("bob"), "192.0.2.9", 2 * kHour}});
  events({IpEvent{Kind::kLogon, guid("bob"), "192.0.2.9", kHour / 4}});
  const int64_t now = clock_.now_us();
  EXPECT_EQ(expire(now + kHour / 4 - 1), Strings{});
  EXPECT_EQ(expire(now + kHour / 4), Strings{"IP_DELETE USER bob"});
  EXPECT_EQ(v4("bob"), Strings{});
  EXPECT_EQ(expire(now + 3 * kHour), Strings{}) << "the longer entry left behind expires nothing";
}

TEST_F(IpEventsTest, AnotherUsersLogonMovesTheIp) {
  events({event(Kind::kLogon, "alice", "192.0.2.7"), event(Kind::kLogon, "alice", "192.0.2.8")});
  EXPECT_EQ(events({event(Kind::kLogon, "bob", "192.0.2.7")}),
            (Strings{"IP_DELETE USER alice", "IP_ADD USER bob"}));
  EXPECT_EQ(v4("alice"), Strings{"192.0.2.8"});
  EXPECT_EQ(v4("bob"), Strings{"192.0.2.7"});
  EXPECT_EQ(events({event(Kind::kLogoff, "alice", "192.0.2.7")}), Strings{})
      << "alice's late logoff does not take bob's IP";
  EXPECT_EQ(v4("bob"), Strings{"192.0.2.7"});
  EXPECT_EQ(expire(clock_.now_us() + kHour), (Strings{"IP_DELETE USER alice", "IP_DELETE USER bob"}))
      << "alice's old mapping of the moved IP is gone: only her other IP and bob's expire";
}

TEST_F(IpEventsTest, ApiAddAlsoMovesTheIpAndIsTheSameMapping) {
  events({event(Kind::kLogon, "alice", "192.0.2.7")});
  UserChange change;
  change.op = UserChange::Op::kAdd;
  change.ipv4 = Strings{"192.0.2.7"};
  change.default_lifetime_us = 2 * kHour;
  ApiOutcome outcome{};
  const uint64_t before = store_->last_sequence();
  ASSERT_TRUE(store_->change_user(guid("bob"), change, &outcome).is_ok());
  EXPECT_EQ(describe_after(before), (Strings{"IP_DELETE USER alice", "IP_ADD USER bob"}));
  EXPECT_EQ(events({event(Kind::kLogon, "bob", "192.0.2.7")}), Strings{})
      << "the API's mapping and the source's are one";
  EXPECT_EQ(expire(clock_.now_us() + kHour), Strings{"IP_DELETE USER bob"})
      << "the last writer's timeout (the source's hour) stands";
}

TEST_F(IpEventsTest, ManyEventsAreOneWriteInOrder) {
  IpEventStats stats;
  const Strings entries =
      events({event(Kind::kLogon, "alice", "192.0.2.1"), event(Kind::kLogon, "nobody", "192.0.2.2"),
              event(Kind::kLogon, "bob", "2001:db8::5"), event(Kind::kLogon, "bob", "192.0.2.1"),
              event(Kind::kLogoff, "alice", "192.0.2.9")},
             &stats);
  EXPECT_EQ(entries, (Strings{"IP_ADD USER alice", "IP_ADD USER bob", "IP_DELETE USER alice",
                              "IP_ADD USER bob"}));
  EXPECT_EQ(stats.mapped, 3u);
  EXPECT_EQ(stats.unmapped, 0u);
  EXPECT_EQ(stats.skipped, 2u) << "an unknown user, a logoff of an IP alice does not have";
  EXPECT_EQ(v4("bob"), Strings{"192.0.2.1"});
  EXPECT_EQ(stored("bob").ipv6_addresses_size(), 1);
  EXPECT_FALSE(store_->object_by_guid(guid("nobody")).has_value()) << "never created";
}

TEST_F(IpEventsTest, RepeatedLogonsOfOneBatchAreOneMapping) {
  IpEventStats stats;
  EXPECT_EQ(events({event(Kind::kLogon, "alice", "192.0.2.1"), event(Kind::kLogon, "alice", "192.0.2.1"),
                    event(Kind::kLogoff, "alice", "192.0.2.1"), event(Kind::kLogon, "alice", "192.0.2.1")},
                   &stats),
            (Strings{"IP_ADD USER alice", "IP_DELETE USER alice", "IP_ADD USER alice"}));
  EXPECT_EQ(stats.mapped, 3u);
  EXPECT_EQ(stats.unmapped, 1u);
  EXPECT_EQ(v4("alice"), Strings{"192.0.2.1"});
}

TEST_F(IpEventsTest, MappingsAndOwnersSurviveReopen) {
  events({event(Kind::kLogon, "alice", "192.0.2.7")});
  reopen();
  EXPECT_EQ(v4("alice"), Strings{"192.0.2.7"});
  EXPECT_EQ(events({event(Kind::kLogon, "bob", "192.0.2.7")}),
            (Strings{"IP_DELETE USER alice", "IP_ADD USER bob"}));
}

TEST_F(IpEventsTest, OlderDatabaseGetsTheOwnerIndexBuiltOnOpen) {
  events({event(Kind::kLogon, "alice", "192.0.2.7")});
  store_.reset();
  {  // What a dirfeed without the index left: no such table, no marker.
    std::string error;
    std::unique_ptr<Database> database = Database::open(temp_.path() + "/db", false, &error);
    ASSERT_NE(database, nullptr) << error;
    ASSERT_TRUE(database->db()->DropColumnFamily(database->table(Table::kIpOwners)).ok());
    ASSERT_TRUE(database->db()
                    ->Delete(rocksdb::WriteOptions(), database->table(Table::kState),
                             keys::kIpOwnerIndexKey)
                    .ok());
  }
  open();
  EXPECT_EQ(events({event(Kind::kLogon, "bob", "192.0.2.7")}),
            (Strings{"IP_DELETE USER alice", "IP_ADD USER bob"}));
}

}  // namespace
}  // namespace dirfeed::changefeed
