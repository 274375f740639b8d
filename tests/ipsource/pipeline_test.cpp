// The mapping rules between a parsed event and the store: user name forms, unknown users,
// ignore_users, include/exclude networks, counters.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ipsource/pipeline.hpp"
#include "tests/ipsource/ipsource_fixture.hpp"

namespace dirfeed::ipsource {
namespace {

using Strings = std::vector<std::string>;
constexpr int64_t kHour = 3'600'000'000;

class PipelineTest : public testing::IpSourceStoreTest {
 protected:
  PipelineTest() { options_.format = Format::kRegex; options_.regex = kRegex; }

  // Runs the messages through a pipeline of options_ as one batch.
  void run(const Strings& messages, std::vector<DomainName> domains = {{"example.test", ""}}) {
    UserResolver resolver(*store_, std::move(domains));
    Pipeline pipeline(options_, kHour, resolver, counters_);
    std::vector<changefeed::IpEvent> events;
    for (const std::string& message : messages) pipeline.add(message, &events);
    pipeline.write(*store_, &events);
  }

  static constexpr char kRegex[] =
      R"((?<action>login|logout) user=(?<user>\S+)(?: domain=(?<domain>\S+))? ip=(?<ip>\S+))";

  SourceOptions options_;
  SourceCounters counters_;
};

TEST_F(PipelineTest, EveryNameFormResolvesCaseInsensitively) {
  run({"login user=EXAMPLE\\ALICE ip=10.0.0.1", "login user=Alice@Example.Test ip=10.0.0.2",
       "login user=alice@EXAMPLE ip=10.0.0.3", "login user=alice ip=10.0.0.4",
       "login user=alice domain=example.test ip=10.0.0.5",
       "login user=example.test\\alice ip=2001:db8::1", "login user=bob ip=::ffff:10.0.0.9"});
  EXPECT_EQ(ips("alice"), (Strings{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5",
                                   "2001:db8::1"}));
  EXPECT_EQ(ips("bob"), Strings{"10.0.0.9"}) << "IPv4-mapped IPv6 is IPv4";
  EXPECT_EQ(counters_.parsed, 7u);
  EXPECT_EQ(counters_.mapped, 7u);
}

TEST_F(PipelineTest, UpnsResolveAsStoredWhateverTheirSuffix) {
  // An AD user whose UPN has another UPN suffix of the forest than the domain's DNS name, and a
  // sAMAccountName unlike the UPN's first part.
  pb::ObservedObject carol;
  pb::DirectoryObject& user = *carol.mutable_object();
  user.set_guid(guid("carol"));
  user.set_kind(pb::USER);
  user.set_dn("CN=Carol Jones,CN=Users,DC=example,DC=test");
  user.set_sam_account_name("cjones");
  user.set_netbios_domain("EXAMPLE");
  user.set_user_principal_name("Carol.Jones@corp.example.com");
  pb::Cursor cursor;
  cursor.set_domain("example.test");
  cursor.set_netbios_name("EXAMPLE");
  ASSERT_TRUE(store_->apply_page("example.test", {carol}, cursor).is_ok());

  run({"login user=carol.jones@CORP.EXAMPLE.COM ip=10.0.0.1",
       "login user=CJones@example.test ip=10.0.0.2",
       "login user=carol.jones@example.test ip=10.0.0.3",
       "login user=nobody@corp.example.com ip=10.0.0.4",
       "login user=cjones@corp.example.com ip=10.0.0.5"});
  EXPECT_EQ(ips("carol"), (Strings{"10.0.0.1", "10.0.0.2"}))
      << "the stored UPN, and the implicit one (sam@domain)";
  EXPECT_EQ(counters_.unknown_user, 3u)
      << "neither a UPN nor sam@domain: the first part is not the sam, the suffix no domain";
}

TEST_F(PipelineTest, BareNamesNeedOneDomainOrTheSourceDomain) {
  const std::vector<DomainName> two = {{"example.test", "EXAMPLE"}, {"other.test", "OTHER"}};
  run({"login user=alice ip=10.0.0.1"}, two);
  EXPECT_EQ(counters_.unknown_user, 1u) << "which of two domains is not known";
  options_.domain = "EXAMPLE";
  run({"login user=alice ip=10.0.0.1"}, two);
  EXPECT_EQ(ips("alice"), Strings{"10.0.0.1"});
}

TEST_F(PipelineTest, UnknownUsersAreCountedNeverCreated) {
  run({"login user=mallory ip=10.0.0.1", "login user=OTHER\\alice ip=10.0.0.2",
       "login user=alice@other.test ip=10.0.0.3"});
  EXPECT_EQ(counters_.unknown_user, 3u);
  EXPECT_EQ(counters_.mapped, 0u);
  EXPECT_FALSE(store_->object_by_ntlm("EXAMPLE\\mallory").has_value());
  EXPECT_EQ(ips("alice"), Strings{});
}

TEST_F(PipelineTest, IgnoreUsersDefaultsToMachineAccounts) {
  run({"login user=WS1$ ip=10.0.0.1", "login user=EXAMPLE\\ws1$ ip=10.0.0.2"});
  EXPECT_EQ(counters_.ignored, 2u);
  EXPECT_EQ(ips("WS1$"), Strings{});
  options_.ignore_users = {"svc-*", "BOB"};
  run({"login user=bob ip=10.0.0.3", "login user=WS1$ ip=10.0.0.4"});
  EXPECT_EQ(ips("bob"), Strings{});
  EXPECT_EQ(ips("WS1$"), Strings{"10.0.0.4"}) << "the list replaces the default";
}

TEST_F(PipelineTest, IncludeAndExcludeNetworks) {
  options_.include_networks = {*parse_network("10.0.0.0/8"), *parse_network("2001:db8::/32")};
  options_.exclude_networks = {*parse_network("10.99.0.0/16")};
  run({"login user=alice ip=10.1.1.1", "login user=alice ip=192.168.1.1",
       "login user=alice ip=10.99.1.1", "login user=alice ip=2001:db8::5",
       "login user=alice ip=not-an-ip"});
  EXPECT_EQ(ips("alice"), (Strings{"10.1.1.1", "2001:db8::5"}));
  EXPECT_EQ(counters_.ignored, 3u);
}

TEST_F(PipelineTest, LogoutRegexUnmapsAndMessagesThatMatchNothingAreNotParsed) {
  options_.regex = R"(login user=(?<user>\S+) ip=(?<ip>\S+))";
  options_.logout_regex = R"(logout user=(?<user>\S+) ip=(?<ip>\S+))";
  run({"login user=alice ip=10.0.0.1", "login user=alice ip=10.0.0.2",
       "logout user=alice ip=10.0.0.1", "something else"});
  EXPECT_EQ(ips("alice"), Strings{"10.0.0.2"});
  EXPECT_EQ(counters_.parsed, 3u);
  EXPECT_EQ(counters_.mapped, 3u);
  run({"logout user=bob ip=10.0.0.2"});
  EXPECT_EQ(ips("alice"), Strings{"10.0.0.2"}) << "bob's logoff does not take alice's IP";
  EXPECT_EQ(counters_.ignored, 1u);
}

TEST_F(PipelineTest, OneUserPerIpAcrossABatch) {
  run({"login user=alice ip=10.0.0.1", "login user=bob ip=10.0.0.1"});
  EXPECT_EQ(ips("alice"), Strings{});
  EXPECT_EQ(ips("bob"), Strings{"10.0.0.1"});
}

}  // namespace
}  // namespace dirfeed::ipsource
