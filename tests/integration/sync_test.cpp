// Polling the real Samba AD DC into the store, with both strategies (DESIGN.md sections 4-5).
#include <gtest/gtest.h>

#include <functional>
#include <regex>
#include <set>

#include "core/base64.hpp"
#include "tests/integration/harness.hpp"

namespace dirfeed::testing {
namespace {

const std::string kStaff = "OU=Staff,DC=example,DC=test";

// LDIF records without a changetype, made into adds for ldapmodify.
std::string as_adds(const std::string& ldif) {
  std::string out;
  size_t start = 0;
  while (start < ldif.size()) {
    size_t end = ldif.find('\n', start);
    if (end == std::string::npos) end = ldif.size();
    std::string line = ldif.substr(start, end - start);
    out += line + "\n";
    if (line.rfind("dn: ", 0) == 0) out += "changetype: add\n";
    start = end + 1;
  }
  return out;
}

std::string seed_ldif() {
  std::string pw = unicode_pwd_line("Passw0rd!User1");
  return as_adds("dn: " + kStaff + "\nobjectClass: organizationalUnit\n\n"
         "dn: OU=Moved,DC=example,DC=test\nobjectClass: organizationalUnit\n\n"
         "dn: CN=Alice Able," + kStaff + "\nobjectClass: user\nsAMAccountName: alice\n"
         "givenName: Alice\nsn: Able\ndisplayName: Alice Able\nmail: alice@example.test\n"
         "userPrincipalName: alice@example.test\ndepartment: Engineering\ntitle: Engineer\n"
         "telephoneNumber: +1 555 0100\notherTelephone: +1 555 0101\n" + pw +
         "userAccountControl: 512\n\n"
         "dn: CN=Bob Baker," + kStaff + "\nobjectClass: user\nsAMAccountName: bob\n" + pw +
         "userAccountControl: 512\n\n"
         "dn: CN=Smith\\, John," + kStaff + "\nobjectClass: user\nsAMAccountName: jsmith\n"
         "displayName: Smith, John\n\n"
         "dn: CN=Carol Off," + kStaff + "\nobjectClass: user\nsAMAccountName: carol\n"
         "userAccountControl: 514\n\n"
         "dn: CN=Dave Gone," + kStaff + "\nobjectClass: user\nsAMAccountName: dave\n\n"
         "dn: CN=Engineers," + kStaff + "\nobjectClass: group\nsAMAccountName: engineers\n"
         "description: builds things\nmember: CN=Alice Able," + kStaff + "\n"
         "member: CN=Bob Baker," + kStaff + "\n\n"
         "dn: CN=All Staff," + kStaff + "\nobjectClass: group\nsAMAccountName: allstaff\n"
         "member: CN=Engineers," + kStaff + "\nmember: CN=Smith\\, John," + kStaff + "\n\n"
         "dn: CN=Temp Group," + kStaff + "\nobjectClass: group\nsAMAccountName: temp\n"
         "member: CN=Dave Gone," + kStaff + "\n");
}

// Number of entries an ldapsearch LDIF output holds.
size_t count_entries(const std::string& ldif) {
  size_t count = 0;
  for (size_t at = 0; (at = ldif.find("\ndn:", at)) != std::string::npos; ++at) ++count;
  if (ldif.rfind("dn:", 0) == 0) ++count;
  return count;
}

class SyncTest : public ::testing::TestWithParam<ldap::Strategy> {
 protected:
  void SetUp() override {
    dc().reset();
    dc().ldif(seed_ldif());
    harness_ = std::make_unique<SyncHarness>(dc(), GetParam());
  }

  static SambaDc& dc() { return shared_dc(); }

  pb::DirectoryObject by_ntlm(const std::string& sam) {
    auto object = harness_->store().object_by_ntlm("EXAMPLE\\" + sam);
    EXPECT_TRUE(object) << sam;
    return object.value_or(pb::DirectoryObject());
  }

  // GUID -> sAMAccountName of every stored object, for readable change summaries.
  std::map<std::string, std::string> names() {
    std::map<std::string, std::string> names;
    for (auto kind : {pb::USER, pb::GROUP}) {
      harness_->store().objects(kind, "", [&](const pb::DirectoryObject& object) {
        names[object.guid()] = object.sam_account_name();
        return true;
      });
    }
    return names;
  }

  std::vector<std::string> summaries(const std::vector<pb::Change>& changes,
                                     const std::map<std::string, std::string>& names) {
    std::vector<std::string> lines;
    for (const auto& change : changes) lines.push_back(summarize(change, names));
    return sorted(lines);
  }

  std::unique_ptr<SyncHarness> harness_;
};

TEST_P(SyncTest, FirstSyncStoresEveryObjectWithOneAddEach) {
  auto changes = harness_->pass();

  std::string filter = "(|" + harness_->options().sync.user_filter +
                       harness_->options().sync.group_filter + ")";
  size_t in_ad = count_entries(dc().search(dc().base_dn(), filter, {"1.1"}));
  std::set<std::string> added;
  size_t memberships = 0;
  for (const auto& change : changes) {
    if (change.kind() == pb::MEMBERSHIP) {
      EXPECT_EQ(change.type(), pb::ADD);
      ++memberships;
      continue;
    }
    EXPECT_EQ(change.type(), pb::ADD) << change.ShortDebugString();
    EXPECT_TRUE(added.insert(change.object().guid()).second) << "two records for "
                                                             << change.object().dn();
  }
  EXPECT_EQ(added.size(), in_ad);
  size_t stored = 0, user_edges = 0;
  harness_->store().objects(pb::USER, "example.test", [&](const pb::DirectoryObject& user) {
    ++stored;
    user_edges += user.member_of_size();
    return true;
  });
  harness_->store().objects(pb::GROUP, "example.test", [&](const pb::DirectoryObject&) {
    ++stored;
    return true;
  });
  EXPECT_EQ(stored, in_ad);
  EXPECT_EQ(memberships, user_edges);

  pb::DirectoryObject alice = by_ntlm("alice");
  EXPECT_EQ(alice.kind(), pb::USER);
  EXPECT_EQ(alice.dn(), "CN=Alice Able," + kStaff);
  EXPECT_EQ(alice.display_name(), "Alice Able");
  EXPECT_EQ(alice.given_name(), "Alice");
  EXPECT_EQ(alice.surname(), "Able");
  EXPECT_EQ(alice.mail(), "alice@example.test");
  EXPECT_EQ(alice.user_principal_name(), "alice@example.test");
  EXPECT_EQ(alice.department(), "Engineering");
  EXPECT_EQ(alice.title(), "Engineer");
  EXPECT_EQ(alice.telephone_number(), "+1 555 0100");
  ASSERT_EQ(alice.other_telephones_size(), 1);
  EXPECT_EQ(alice.netbios_domain(), "EXAMPLE");
  EXPECT_EQ(alice.user_account_control() & 0x2, 0u);
  EXPECT_TRUE(std::regex_match(alice.sid(), std::regex("S-1-5-21-\\d+-\\d+-\\d+-\\d+")));
  EXPECT_TRUE(std::regex_match(alice.when_created(),
                               std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ")));
  EXPECT_TRUE(alice.from_directory());

  // The GUID string form agrees with the bytes ldapsearch shows.
  std::string ldif = dc().search(kStaff, "(sAMAccountName=alice)", {"objectGUID"});
  std::smatch match;
  ASSERT_TRUE(std::regex_search(ldif, match, std::regex("objectGUID:: (\\S+)")));
  EXPECT_EQ(base64_decode(match[1].str()), alice.guid());
  auto by_guid = harness_->store().object_by_guid(alice.guid());
  ASSERT_TRUE(by_guid);
  EXPECT_EQ(by_guid->sam_account_name(), "alice");
  ASSERT_TRUE(harness_->store().object_by_dn("cn=alice able,ou=staff,dc=EXAMPLE,dc=test"));

  pb::DirectoryObject engineers = by_ntlm("engineers");
  pb::DirectoryObject all_staff = by_ntlm("allstaff");
  pb::DirectoryObject domain_users = by_ntlm("Domain Users");
  EXPECT_EQ(engineers.description(), "builds things");
  EXPECT_EQ(engineers.kind(), pb::GROUP);
  auto has_group = [](const pb::DirectoryObject& object, const pb::DirectoryObject& group) {
    return std::find(object.member_of().begin(), object.member_of().end(), group.guid()) !=
           object.member_of().end();
  };
  EXPECT_TRUE(has_group(alice, engineers));
  EXPECT_TRUE(has_group(alice, domain_users)) << "primary group";
  EXPECT_FALSE(has_group(alice, all_staff)) << "nested membership is not direct";
  EXPECT_TRUE(has_group(engineers, all_staff)) << "nested group";
  EXPECT_TRUE(has_group(by_ntlm("jsmith"), all_staff));
  EXPECT_EQ(by_ntlm("jsmith").dn(), "CN=Smith\\, John," + kStaff);
  EXPECT_NE(by_ntlm("carol").user_account_control() & 0x2, 0u) << "disabled";
  EXPECT_EQ(domain_users.sid(), alice.sid().substr(0, alice.sid().rfind('-')) + "-513");

  std::set<std::string> members;
  harness_->store().members(engineers.guid(), [&](const pb::DirectoryObject& member) {
    members.insert(member.sam_account_name());
    return true;
  });
  EXPECT_EQ(members, (std::set<std::string>{"alice", "bob"}));
}

TEST_P(SyncTest, NextPassRecordsExactlyWhatChangedInAd) {
  harness_->pass();
  auto names_before = names();
  dc().ldif("dn: CN=Alice Able," + kStaff + "\nchangetype: modify\nreplace: title\n"
            "title: Staff Engineer\n\n"
            "dn: CN=Engineers," + kStaff + "\nchangetype: modify\nadd: member\n"
            "member: CN=Carol Off," + kStaff + "\n-\ndelete: member\n"
            "member: CN=Bob Baker," + kStaff + "\n\n"
            "dn: CN=Smith\\, John," + kStaff + "\nchangetype: modrdn\n"
            "newrdn: CN=Smith\\, Johnny\ndeleteoldrdn: 1\n"
            "newsuperior: OU=Moved,DC=example,DC=test\n\n"
            "dn: CN=Dave Gone," + kStaff + "\nchangetype: delete\n\n"
            "dn: CN=Temp Group," + kStaff + "\nchangetype: delete\n");
  auto changes = harness_->pass();
  auto lines = summaries(changes, names_before);
  EXPECT_EQ(lines, sorted({
                       "modify user alice",              // title
                       "modify user carol",              // joined Engineers
                       "add membership carol>engineers",
                       "modify user bob",                // left Engineers
                       "delete membership bob>engineers",
                       "modify group engineers",         // its members changed
                       "modify user jsmith",             // renamed and moved
                       "delete user dave",
                       "delete membership dave>Domain Users",
                       "delete membership dave>temp",
                       "delete group temp",
                   }));
  for (const auto& change : changes) {
    if (change.kind() == pb::USER && change.object().sam_account_name() == "alice") {
      EXPECT_EQ(change.object().title(), "Staff Engineer");
    }
    if (change.kind() == pb::USER && change.object().sam_account_name() == "jsmith") {
      EXPECT_EQ(change.object().dn(), "CN=Smith\\, Johnny,OU=Moved,DC=example,DC=test");
    }
  }
  EXPECT_TRUE(harness_->store().object_by_dn("CN=Smith\\, Johnny,OU=Moved,DC=example,DC=test"));
  EXPECT_FALSE(harness_->store().object_by_dn("CN=Smith\\, John," + kStaff));
  EXPECT_FALSE(harness_->store().object_by_ntlm("EXAMPLE\\dave"));
}

TEST_P(SyncTest, UnchangedDirectoryAndRestartRecordNothing) {
  harness_->pass();
  EXPECT_TRUE(harness_->pass().empty());
  harness_->reopen();
  EXPECT_TRUE(harness_->pass().empty());
  // A forced full resync (a cursor from "another DC") records nothing either.
  pb::Cursor cursor = *harness_->store().cursor("example.test");
  cursor.set_full_sync_done(false);
  ASSERT_TRUE(harness_->store().apply_page("example.test", {}, cursor).is_ok());
  EXPECT_TRUE(harness_->pass().empty());
}

TEST_P(SyncTest, GroupWithMoreMembersThanOneRangeIsReadCompletely) {
  dc().add_users(kStaff, "bulk", 260);
  std::string ldif = "dn: CN=Big Group," + kStaff + "\nchangetype: add\nobjectClass: group\n"
                     "sAMAccountName: biggroup\n";
  for (int i = 1; i <= 260; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "bulk%04d", i);
    ldif += "member: CN=" + std::string(name) + "," + kStaff + "\n";
  }
  dc().ldif(ldif);
  harness_->options().sync.member_range_step = 100;  // ranges 0-99, 100-199, 200-*
  harness_->reopen();
  harness_->pass();
  auto big = harness_->store().object_by_ntlm("EXAMPLE\\biggroup");
  ASSERT_TRUE(big);
  size_t members = 0;
  harness_->store().members(big->guid(), [&](const pb::DirectoryObject&) {
    ++members;
    return true;
  });
  EXPECT_EQ(members, 260u);
  auto bulk7 = harness_->store().object_by_ntlm("EXAMPLE\\bulk0007");
  ASSERT_TRUE(bulk7);
  EXPECT_NE(std::find(bulk7->member_of().begin(), bulk7->member_of().end(), big->guid()),
            bulk7->member_of().end());

  // Removing one member of the big group changes only that edge.
  dc().ldif("dn: CN=Big Group," + kStaff + "\nchangetype: modify\ndelete: member\n"
            "member: CN=bulk0250," + kStaff + "\n");
  auto lines = summaries(harness_->pass(), names());
  EXPECT_EQ(lines, sorted({"modify group biggroup", "modify user bulk0250",
                           "delete membership bulk0250>biggroup"}));

  // Server-chosen ranges (step 0: plain `member`, which Samba answers whole) read the same
  // members: a full resync that way records nothing.
  harness_->options().sync.member_range_step = 0;
  harness_->reopen();
  pb::Cursor cursor = *harness_->store().cursor("example.test");
  cursor.set_full_sync_done(false);
  ASSERT_TRUE(harness_->store().apply_page("example.test", {}, cursor).is_ok());
  EXPECT_TRUE(harness_->pass().empty());
}

// A cursor from another database identity, a USN above the DC's highest, or an unfinished
// full sync: each means a full resync that reconciles (objects gone from AD are deleted) and
// records nothing else.
TEST_P(SyncTest, FullResyncReconcilesWithoutRecordingUnchangedObjects) {
  harness_->pass();
  const std::string stray_guid = std::string(15, '\x5a') + '\x01';
  pb::ObservedObject stray;
  stray.mutable_object()->set_guid(stray_guid);
  stray.mutable_object()->set_kind(pb::USER);
  stray.mutable_object()->set_sam_account_name("stray");
  pb::Cursor cursor = *harness_->store().cursor("example.test");
  ASSERT_TRUE(harness_->store().apply_page("example.test", {stray}, cursor).is_ok());

  std::vector<std::function<void(pb::Cursor&)>> causes = {
      [](pb::Cursor& c) { c.set_full_sync_done(false); }};
  if (GetParam() == ldap::Strategy::kUsn) {
    causes.push_back([](pb::Cursor& c) { c.set_invocation_id(std::string(16, '\x01')); });
    causes.push_back([](pb::Cursor& c) { c.set_usn(c.usn() + 100000); });  // USN rollback
    causes.push_back([](pb::Cursor& c) { c.set_ds_service_name("CN=NTDS Settings,CN=DC9"); });
  }
  for (size_t i = 0; i < causes.size(); ++i) {
    SCOPED_TRACE("cause " + std::to_string(i));
    cursor = *harness_->store().cursor("example.test");
    causes[i](cursor);
    ASSERT_TRUE(harness_->store().apply_page("example.test", {}, cursor).is_ok());
    auto changes = harness_->pass();
    if (i == 0) {
      ASSERT_EQ(changes.size(), 1u);
      EXPECT_EQ(changes[0].type(), pb::DELETE);
      EXPECT_EQ(changes[0].object().guid(), stray_guid);
    } else {
      EXPECT_TRUE(changes.empty());
    }
    EXPECT_TRUE(harness_->store().cursor("example.test")->full_sync_done());
  }
}

// A DirSync cookie the DC cannot use: Samba answers a cookie it cannot parse with
// unavailableCriticalExtension ("Unable to unmarshall cookie as a ldapControlDirSyncCookie
// structure"). The same pass resyncs in full from that DC, records only what changed in AD
// meanwhile, and stores a cookie that works. (A cookie from another DC of the domain is not
// such a case: Samba, like AD, reads it through its up-to-dateness vector; see
// failover_test.cpp.)
TEST(DirSyncCookie, ACookieTheDcRefusesMeansAFullResyncRecordingOnlyChanges) {
  SambaDc& dc = shared_dc();
  dc.reset();
  dc.ldif(seed_ldif());
  SyncHarness harness(dc, ldap::Strategy::kDirSync);
  harness.pass();
  pb::Cursor cursor = *harness.store().cursor("example.test");
  cursor.set_dirsync_cookie("not a cookie");
  cursor.set_dirsync_group_cookie("not a cookie either");
  ASSERT_TRUE(harness.store().apply_page("example.test", {}, cursor).is_ok());
  dc.ldif("dn: CN=Alice Able," + kStaff + "\nchangetype: modify\nreplace: title\n"
          "title: Architect\n");

  const std::vector<pb::Change> changes = harness.pass();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].type(), pb::MODIFY);
  EXPECT_EQ(changes[0].object().sam_account_name(), "alice");
  cursor = *harness.store().cursor("example.test");
  EXPECT_NE(cursor.dirsync_cookie(), "not a cookie");
  EXPECT_NE(cursor.dirsync_group_cookie(), "not a cookie either");
  EXPECT_TRUE(cursor.full_sync_done());
  EXPECT_TRUE(harness.pass().empty()) << "the new cookies work";
}

// StartTLS on ldap:// works, whatever the case of the scheme; a plain ldap:// bind is refused by
// dirfeed before it sends the password, and (when tls.allow_plaintext lets dirfeed try) by AD.
// Samba, like AD, refuses simple binds without TLS: a bind that succeeds went through StartTLS.
TEST(Transport, StartTlsBindsAndPlainLdapIsRefused) {
  SambaDc& dc = shared_dc();
  dc.reset();
  SyncHarness harness(dc, ldap::Strategy::kUsn);
  harness.options().tls.start_tls = true;
  harness.options().controllers = {"LDAP://dc1.example.test"};
  harness.reopen();
  EXPECT_FALSE(harness.pass().empty());  // the first sync
  harness.options().controllers = {"ldap://dc1.example.test"};
  harness.reopen();
  harness.pass();

  auto failed_pass = [&] {
    harness.reopen();
    std::atomic<bool> stop{false};
    SystemClock clock;
    daemon::StoreSink sink(harness.store(), false);
    ldap::DomainPoller poller(harness.options(), sink, clock);
    ldap::PassResult result = poller.run_pass(stop);
    EXPECT_FALSE(result.ok);
    return result.error;
  };
  harness.options().tls.start_tls = false;
  harness.options().controllers = {"ldap://dc1.example.test"};
  std::string error = failed_pass();
  EXPECT_EQ(error, "ldap://dc1.example.test: refusing to bind without TLS (use ldaps://, "
                   "tls.start_tls, or tls.allow_plaintext)");
  harness.options().tls.allow_plaintext = true;
  error = failed_pass();
  EXPECT_NE(error.find("ldap://dc1.example.test"), std::string::npos) << error;
  EXPECT_NE(error.find("Strong"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(Strategies, SyncTest,
                         ::testing::Values(ldap::Strategy::kUsn, ldap::Strategy::kDirSync),
                         [](const auto& info) {
                           return info.param == ldap::Strategy::kUsn ? "usn" : "dirsync";
                         });

}  // namespace
}  // namespace dirfeed::testing
