// Where webhooks may go (rest/webhook_target.hpp): addresses, CIDR networks, the default
// refusals of every range, IPv4-mapped IPv6 forms, and the allow-list override.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "rest/webhook_target.hpp"

namespace dirfeed::rest {
namespace {

IpNetwork network(const std::string& text) {
  std::string error;
  std::optional<IpNetwork> parsed = IpNetwork::parse(text, &error);
  EXPECT_TRUE(parsed) << text << ": " << error;
  return parsed.value_or(IpNetwork());
}

// The refusal of `address` under `policy`: "" when allowed, "?" when it is not an address.
std::string refusal(const std::string& address, const WebhookTargetPolicy& policy = {}) {
  std::optional<IpAddress> parsed = IpAddress::parse(address);
  if (!parsed) return "?";
  return policy.refusal(*parsed).value_or("");
}

TEST(IpAddressTest, ParsesBothFamiliesAndHoldsMappedAddressesAsIpv4) {
  EXPECT_TRUE(IpAddress::parse("192.0.2.1")->is_v4());
  EXPECT_FALSE(IpAddress::parse("2001:db8::1")->is_v4());
  EXPECT_EQ(IpAddress::parse("2001:DB8:0::1")->to_string(), "2001:db8::1");
  EXPECT_EQ(*IpAddress::parse("::ffff:127.0.0.1"), *IpAddress::parse("127.0.0.1"));
  EXPECT_EQ(*IpAddress::parse("::ffff:a9fe:a9fe"), *IpAddress::parse("169.254.169.254"));
  for (const char* bad : {"", "localhost", "127.1", "0x7f000001", "2130706433", "[::1]",
                          "fe80::1%eth0", "1.2.3.4.5"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(IpNetworkTest, ParsesCidrsAndSingleAddresses) {
  EXPECT_TRUE(network("10.0.0.0/8").contains(*IpAddress::parse("10.255.0.1")));
  EXPECT_FALSE(network("10.0.0.0/8").contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_TRUE(network("172.16.0.0/12").contains(*IpAddress::parse("172.31.255.255")));
  EXPECT_FALSE(network("172.16.0.0/12").contains(*IpAddress::parse("172.32.0.0")));
  EXPECT_TRUE(network("0.0.0.0/0").contains(*IpAddress::parse("203.0.113.9")));
  EXPECT_FALSE(network("0.0.0.0/0").contains(*IpAddress::parse("2001:db8::1")))
      << "families never mix";
  EXPECT_TRUE(network("fd00::/8").contains(*IpAddress::parse("fdff::1")));
  EXPECT_TRUE(network("192.0.2.7").is_single_address());
  EXPECT_EQ(network("192.0.2.7").to_string(), "192.0.2.7/32");
  EXPECT_EQ(network("::1").to_string(), "::1/128");
  // An IPv4-mapped network is the IPv4 network it maps.
  EXPECT_EQ(network("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"10.0.0.1/8", "\"10.0.0.1/8\" has bits set after the prefix (did you mean 10.0.0.0/8?)"},
      {"fd00::1/8", "\"fd00::1/8\" has bits set after the prefix (did you mean fd00::/8?)"},
      {"10.0.0.0/33", "\"10.0.0.0/33\": the prefix length must be 0 to 32"},
      {"::/129", "\"::/129\": the prefix length must be 0 to 128"},
      {"10.0.0.0/", "\"10.0.0.0/\": the prefix length must be 0 to 32"},
      {"10.0.0.0/x", "\"10.0.0.0/x\": the prefix length must be 0 to 32"},
      {"::ffff:0.0.0.0/80", "\"::ffff:0.0.0.0/80\": an IPv4-mapped network needs a prefix of at "
                            "least 96"},
      {"example.com/24",
       "\"example.com/24\" is not a network (use CIDR notation such as 10.0.0.0/8 or fd00::/8)"},
  };
  for (const auto& [text, message] : bad) {
    std::string error;
    EXPECT_FALSE(IpNetwork::parse(text, &error)) << text;
    EXPECT_EQ(error, message);
  }
}

TEST(WebhookTargetPolicyTest, RefusesEveryDefaultRangeAtItsEdges) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"127.0.0.1", "a loopback address"},
      {"127.255.255.255", "a loopback address"},
      {"::1", "a loopback address"},
      {"169.254.0.1", "a link-local address"},
      {"169.254.255.255", "a link-local address"},
      {"fe80::1", "a link-local address"},
      {"febf:ffff::1", "a link-local address"},
      {"224.0.0.1", "a multicast address"},
      {"239.255.255.255", "a multicast address"},
      {"ff02::1", "a multicast address"},
      {"0.0.0.0", "an unspecified address"},
      {"0.255.255.255", "an unspecified address"},
      {"::", "the unspecified address"},
      {"255.255.255.255", "the broadcast address"},
  };
  for (const auto& [address, reason] : refused) EXPECT_EQ(refusal(address), reason) << address;
}

TEST(WebhookTargetPolicyTest, NamesTheCloudMetadataAddresses) {
  for (const char* address : {"169.254.169.254", "169.254.170.2", "fd00:ec2::254",
                              "100.100.100.200", "192.0.0.192", "168.63.129.16"}) {
    const std::string reason = refusal(address);
    EXPECT_TRUE(reason.starts_with("a cloud ")) << address << ": " << reason;
  }
  EXPECT_EQ(refusal("169.254.169.254"),
            "a cloud metadata address (AWS, Azure, Google Cloud, Oracle Cloud, OpenStack, "
            "DigitalOcean)");
  // Their neighbours are ordinary addresses of their ranges.
  EXPECT_EQ(refusal("169.254.169.253"), "a link-local address");
  EXPECT_EQ(refusal("100.100.100.201"), "");
  EXPECT_EQ(refusal("fd00:ec2::253"), "");
}

TEST(WebhookTargetPolicyTest, AllowsPrivateAndPublicNetworks) {
  for (const char* address : {"10.0.0.1", "172.16.5.4", "192.168.1.10", "fd12:3456::1",
                              "100.64.0.1", "203.0.113.9", "2001:db8::1", "128.0.0.1",
                              "223.255.255.255", "169.253.255.255", "169.255.0.0", "fec0::1"}) {
    EXPECT_EQ(refusal(address), "") << address;
  }
}

TEST(WebhookTargetPolicyTest, Ipv4MappedFormsAreRefusedLikeTheirIpv4) {
  EXPECT_EQ(refusal("::ffff:127.0.0.1"), "a loopback address");
  EXPECT_EQ(refusal("::ffff:7f00:1"), "a loopback address");
  EXPECT_EQ(refusal("::ffff:169.254.1.1"), "a link-local address");
  EXPECT_EQ(refusal("::ffff:224.0.0.1"), "a multicast address");
  EXPECT_EQ(refusal("::ffff:0.0.0.0"), "an unspecified address");
  EXPECT_TRUE(refusal("::ffff:169.254.169.254").starts_with("a cloud metadata address"));
  EXPECT_EQ(refusal("::ffff:10.0.0.1"), "");
}

TEST(WebhookTargetPolicyTest, AllowedNetworksOverrideTheDefaults) {
  const WebhookTargetPolicy loopback({network("127.0.0.0/8"), network("::1")});
  EXPECT_EQ(refusal("127.0.0.1", loopback), "");
  EXPECT_EQ(refusal("127.9.9.9", loopback), "");
  EXPECT_EQ(refusal("::ffff:127.0.0.1", loopback), "") << "mapped: the IPv4 network applies";
  EXPECT_EQ(refusal("::1", loopback), "");
  EXPECT_EQ(refusal("169.254.0.1", loopback), "a link-local address") << "only what is listed";

  const WebhookTargetPolicy narrow({network("127.0.0.1")});
  EXPECT_EQ(refusal("127.0.0.1", narrow), "");
  EXPECT_EQ(refusal("127.0.0.2", narrow), "a loopback address");
}

TEST(WebhookTargetPolicyTest, MetadataAddressesNeedToBeAllowedAlone) {
  const WebhookTargetPolicy link_local({network("169.254.0.0/16"), network("0.0.0.0/0")});
  EXPECT_EQ(refusal("169.254.1.1", link_local), "");
  EXPECT_TRUE(refusal("169.254.169.254", link_local).starts_with("a cloud metadata address"));
  EXPECT_TRUE(refusal("100.100.100.200", link_local).starts_with("a cloud metadata address"));
  const WebhookTargetPolicy metadata({network("169.254.169.254/32")});
  EXPECT_EQ(refusal("169.254.169.254", metadata), "");
  EXPECT_EQ(refusal("::ffff:169.254.169.254", metadata), "");
}

TEST(WebhookHostRefusalTest, ChecksLiteralsAndWhatNamesResolveTo) {
  const WebhookTargetPolicy defaults;
  EXPECT_EQ(webhook_host_refusal("127.0.0.1", defaults),
            "127.0.0.1 is a loopback address: webhooks are not sent there unless "
            "api.webhook_allowed_networks allows it");
  EXPECT_EQ(webhook_host_refusal("::ffff:169.254.169.254", defaults),
            "169.254.169.254 is a cloud metadata address (AWS, Azure, Google Cloud, Oracle "
            "Cloud, OpenStack, DigitalOcean): webhooks are not sent there unless "
            "api.webhook_allowed_networks allows it");
  const std::string localhost = webhook_host_refusal("localhost", defaults);
  EXPECT_TRUE(localhost.starts_with("localhost resolves to ")) << localhost;
  EXPECT_NE(localhost.find(", a loopback address: "), std::string::npos) << localhost;
  EXPECT_EQ(webhook_host_refusal("10.1.2.3", defaults), "");
  // A name that does not resolve (.invalid never does) is left to the delivery's check.
  EXPECT_EQ(webhook_host_refusal("receiver.invalid", defaults), "");

  const WebhookTargetPolicy loopback({network("127.0.0.0/8"), network("::1")});
  EXPECT_EQ(webhook_host_refusal("127.0.0.1", loopback), "");
  EXPECT_EQ(webhook_host_refusal("localhost", loopback), "");
}

}  // namespace
}  // namespace dirfeed::rest
