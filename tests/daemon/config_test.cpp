#include "daemon/config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/daemon/config_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using namespace std::chrono_literals;
using dirfeed::testing::TempDir;
using testing::all_errors;
using testing::kDesignExample;
using testing::kOneDomain;
using testing::parse;
using testing::replace;

TEST(ConfigTest, ParsesTheDesignExample) {
  const ConfigResult result = parse(kDesignExample);
  ASSERT_TRUE(result.ok()) << all_errors(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.path, "test.yaml");
  EXPECT_EQ(c.state_dir, "/var/lib/dirfeed");
  EXPECT_EQ(c.log.level, LogLevel::kInfo);
  ASSERT_EQ(c.domains.size(), 1u);
  const ldap::DomainOptions& d = c.domains[0];
  EXPECT_EQ(d.name, "example.test");
  EXPECT_EQ(d.base_dn, "DC=example,DC=test");
  EXPECT_EQ(d.netbios_name, "EXAMPLE");
  EXPECT_EQ(d.controllers,
            (std::vector<std::string>{"ldaps://dc1.example.test", "ldaps://dc2.example.test"}));
  EXPECT_EQ(d.tls.ca_file, "/etc/dirfeed/ad-ca.pem");
  EXPECT_TRUE(d.tls.verify);
  EXPECT_FALSE(d.tls.start_tls);
  EXPECT_EQ(d.bind.method, ldap::BindMethod::kSimple);
  EXPECT_EQ(d.bind.dn, "svc-dirfeed@example.test");
  EXPECT_EQ(d.bind.password_file, "/etc/dirfeed/example.test.password");
  EXPECT_EQ(d.sync.strategy, ldap::Strategy::kDirSync);
  EXPECT_EQ(d.sync.interval, 60s);
  EXPECT_TRUE(d.sync.notifications);
  EXPECT_EQ(d.sync.page_size, 1000);
  EXPECT_TRUE(d.sync.search_bases.empty());
  EXPECT_EQ(d.sync.user_filter, "(&(objectCategory=person)(objectClass=user))");
  EXPECT_EQ(d.sync.group_filter, "(objectClass=group)");
  EXPECT_EQ(d.sync.max_deletes, 500u);
  EXPECT_EQ(d.sync.member_range_step, 0);
  EXPECT_EQ(d.sync.timeout, 30s);
  EXPECT_EQ(c.api.listen_host, "0.0.0.0");
  EXPECT_EQ(c.api.listen_port, 5000);
  ASSERT_TRUE(c.api.tls.has_value());
  EXPECT_EQ(c.api.tls->cert_file, "/etc/dirfeed/tls.crt");
  EXPECT_EQ(c.api.tls->key_file, "/etc/dirfeed/tls.key");
  EXPECT_TRUE(c.api.anonymous_read);
  EXPECT_EQ(c.api.users_file, "/etc/dirfeed/api-users");
  EXPECT_EQ(c.api.keys_file, "/etc/dirfeed/api-keys");
  EXPECT_EQ(c.api.ip_mapping_timeout, 6h);
  EXPECT_EQ(c.feed.retention, 24h * 30);
  // Lines are kept for later checks.
  EXPECT_EQ(c.lines.at("domains[0].bind.password_file"), 18);
  EXPECT_EQ(c.lines.at("domains[0].controllers[1]"), 10);
  EXPECT_EQ(c.lines.at("api.tls.key_file"), 32);
}

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  const ConfigResult result = parse(kOneDomain);
  ASSERT_TRUE(result.ok()) << all_errors(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.state_dir, "/var/lib/dirfeed");
  EXPECT_EQ(c.log.level, LogLevel::kInfo);
  ASSERT_EQ(c.domains.size(), 1u);
  const ldap::DomainOptions& d = c.domains[0];
  EXPECT_EQ(d.base_dn, "DC=example,DC=test");
  EXPECT_EQ(d.netbios_name, "");
  EXPECT_EQ(d.tls.ca_file, "");
  EXPECT_TRUE(d.tls.verify);
  EXPECT_FALSE(d.tls.start_tls);
  EXPECT_EQ(d.sync.strategy, ldap::Strategy::kDirSync);
  EXPECT_EQ(d.sync.interval, 60s);
  EXPECT_EQ(d.sync.page_size, 1000);
  EXPECT_EQ(d.sync.max_deletes, 500u);
  EXPECT_EQ(c.api.listen_host, "0.0.0.0");
  EXPECT_EQ(c.api.listen_port, 5000);
  EXPECT_FALSE(c.api.tls.has_value());
  EXPECT_TRUE(c.api.anonymous_read);
  EXPECT_EQ(c.api.ip_mapping_timeout, 6h);
  EXPECT_TRUE(c.api.webhook_allowed_networks.empty());
  EXPECT_FALSE(c.api.webhook_proxy) << "the environment's";
  EXPECT_EQ(c.api.max_directories, 1000u);
  EXPECT_FALSE(c.api.metrics_detail);
  EXPECT_EQ(c.api.webhook_event_retention, 168h);
  EXPECT_EQ(c.api.max_webhook_events, 10000u);
  EXPECT_EQ(c.feed.retention, 720h);
}

TEST(ConfigTest, ParsesEveryOptionalValue) {
  const ConfigResult result = parse(R"(state_dir: /srv/dirfeed
log: {level: debug}
domains:
  - name: Corp.Example.COM
    controllers: ["ldap://10.0.0.1:389", "LDAPS://[2001:db8::1]:636/"]
    tls: {verify: false, start_tls: yes}
    bind: {method: simple, dn: "CN=svc,OU=Service Accounts,DC=corp,DC=example,DC=com",
           password_file: /etc/dirfeed/corp.pw}
    sync:
      strategy: usn
      interval: 1h30m
      notifications: off
      page_size: 1
      search_bases: ["OU=Staff,DC=corp,DC=example,DC=com", "OU=Groups,DC=corp,DC=example,DC=com"]
      user_filter: (objectClass=user)
      group_filter: (|(objectClass=group)(objectClass=posixGroup))
      max_deletes: 0
      member_range_step: 3
      timeout: 5s
api:
  listen: "[::]:0"
  anonymous_read: false
  users_file: /var/lib/dirfeed/users
  keys_file: /var/lib/dirfeed/keys
  ip_mapping_timeout: 90s
  webhook_allowed_networks: [127.0.0.0/8, "::1", 10.1.0.0/16, "::ffff:192.0.2.0/120"]
  webhook_proxy: proxy.corp.example:3128
  webhook_no_proxy: [.corp.example, 10.0.0.0/8]
  max_directories: 50
  metrics_detail: true
  webhook_event_retention: 2d
  max_webhook_events: 25
feed:
  retention: 1d
)");
  ASSERT_TRUE(result.ok()) << all_errors(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.state_dir, "/srv/dirfeed");
  EXPECT_EQ(c.log.level, LogLevel::kDebug);
  const ldap::DomainOptions& d = c.domains.at(0);
  EXPECT_EQ(d.name, "corp.example.com");
  EXPECT_EQ(d.base_dn, "DC=corp,DC=example,DC=com");
  EXPECT_EQ(d.controllers,
            (std::vector<std::string>{"ldap://10.0.0.1:389", "ldaps://[2001:db8::1]:636/"}));
  EXPECT_FALSE(d.tls.verify);
  EXPECT_TRUE(d.tls.start_tls);
  EXPECT_EQ(d.bind.dn, "CN=svc,OU=Service Accounts,DC=corp,DC=example,DC=com");
  EXPECT_EQ(d.sync.strategy, ldap::Strategy::kUsn);
  EXPECT_EQ(d.sync.interval, 90min);
  EXPECT_FALSE(d.sync.notifications);
  EXPECT_EQ(d.sync.page_size, 1);
  EXPECT_EQ(d.sync.search_bases.size(), 2u);
  EXPECT_EQ(d.sync.search_bases[1], "OU=Groups,DC=corp,DC=example,DC=com");
  EXPECT_EQ(d.sync.user_filter, "(objectClass=user)");
  EXPECT_EQ(d.sync.group_filter, "(|(objectClass=group)(objectClass=posixGroup))");
  EXPECT_EQ(d.sync.max_deletes, 0u);
  EXPECT_EQ(d.sync.member_range_step, 3);
  EXPECT_EQ(d.sync.timeout, 5s);
  EXPECT_EQ(c.api.listen_host, "::");
  EXPECT_EQ(c.api.listen_port, 0);
  EXPECT_FALSE(c.api.anonymous_read);
  EXPECT_EQ(c.api.users_file, "/var/lib/dirfeed/users");
  EXPECT_EQ(c.api.keys_file, "/var/lib/dirfeed/keys");
  EXPECT_EQ(c.api.ip_mapping_timeout, 90s);
  std::vector<std::string> networks;
  for (const rest::IpNetwork& network : c.api.webhook_allowed_networks) {
    networks.push_back(network.to_string());
  }
  EXPECT_EQ(networks, (std::vector<std::string>{"127.0.0.0/8", "::1/128", "10.1.0.0/16",
                                                "192.0.2.0/24"}));
  ASSERT_TRUE(c.api.webhook_proxy);
  EXPECT_EQ(c.api.webhook_proxy->describe(),
            "http://proxy.corp.example:3128 (not for corp.example 10.0.0.0/8)");
  EXPECT_EQ(c.api.webhook_proxy->proxy_for(true, "hooks.example.com"),
            "http://proxy.corp.example:3128");
  EXPECT_EQ(c.api.webhook_proxy->proxy_for(true, "hooks.corp.example"), "");
  EXPECT_EQ(c.api.max_directories, 50u);
  EXPECT_TRUE(c.api.metrics_detail);
  EXPECT_EQ(c.api.webhook_event_retention, 48h);
  EXPECT_EQ(c.api.max_webhook_events, 25u);
  EXPECT_EQ(c.feed.retention, 24h);
}

TEST(ConfigTest, ExplicitBaseDnIsKept) {
  const ConfigResult result = parse(replace(kOneDomain, "    controllers:",
                                            "    base_dn: DC=Ad,DC=Example,DC=Test\n"
                                            "    controllers:"));
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_EQ(result.config->domains[0].base_dn, "DC=Ad,DC=Example,DC=Test");
}

TEST(ConfigTest, SeveralDomains) {
  const ConfigResult result = parse(std::string(kOneDomain) + R"(  - name: other.test
    controllers: [ldap://dc.other.test]
    tls: {start_tls: true}
    bind: {dn: svc@other.test, password_file: /etc/dirfeed/other}
)");
  ASSERT_TRUE(result.ok()) << all_errors(result);
  ASSERT_EQ(result.config->domains.size(), 2u);
  EXPECT_EQ(result.config->domains[1].name, "other.test");
  EXPECT_EQ(result.config->domains[1].base_dn, "DC=other,DC=test");
}

TEST(ConfigTest, NullValueMeansDefault) {
  const ConfigResult result = parse(std::string(kOneDomain) + "    netbios_name:\n    sync:\n");
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_EQ(result.config->domains[0].netbios_name, "");
  EXPECT_EQ(result.config->domains[0].sync.interval, 60s);
}

TEST(ConfigTest, BaseDnFromDomain) {
  EXPECT_EQ(ldap::base_dn_from_domain("example.test"), "DC=example,DC=test");
  EXPECT_EQ(ldap::base_dn_from_domain("a.b.example.com"), "DC=a,DC=b,DC=example,DC=com");
  EXPECT_EQ(ldap::base_dn_from_domain("corp"), "DC=corp");
  EXPECT_EQ(ldap::base_dn_from_domain("example.test."), "DC=example,DC=test");
  EXPECT_EQ(ldap::base_dn_from_domain(""), "");
  EXPECT_EQ(ldap::base_dn_from_domain("we,ird.test"), "DC=we\\,ird,DC=test");
}

TEST(ConfigTest, LoadConfigReadsTheFile) {
  TempDir dir;
  const std::string path = dir.write("dirfeed.yaml", kOneDomain);
  const ConfigResult result = load_config(path);
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_EQ(result.config->path, path);

  const std::string bad =
      dir.write("bad.yaml", std::string(kOneDomain) + "    sync: {interval: 6x}\n");
  const ConfigResult bad_result = load_config(bad);
  ASSERT_EQ(bad_result.errors.size(), 1u);
  EXPECT_EQ(bad_result.errors[0].to_string(),
            bad + ":7: domains[0].sync.interval: \"6x\" is not a duration (use s, m, h, d)");
}

TEST(ConfigTest, LoadConfigOfAMissingFile) {
  TempDir dir;
  const ConfigResult result = load_config(dir.path() + "/absent.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            dir.path() + "/absent.yaml: cannot read: No such file or directory");
  const ConfigResult directory = load_config(dir.path());
  ASSERT_EQ(directory.errors.size(), 1u);
  EXPECT_EQ(directory.errors[0].to_string(), dir.path() + ": is a directory, not a file");
}

TEST(ConfigTest, ExampleFileParses) {
  const ConfigResult result = load_config(DIRFEED_EXAMPLE_CONFIG);
  ASSERT_TRUE(result.ok()) << all_errors(result);
  // The example documents the same settings as DESIGN.md section 7.
  const ConfigResult design = parse(kDesignExample);
  ASSERT_TRUE(design.ok());
  const Config& a = *result.config;
  const Config& b = *design.config;
  EXPECT_EQ(a.state_dir, b.state_dir);
  EXPECT_EQ(a.log.level, b.log.level);
  ASSERT_EQ(a.domains.size(), 1u);
  EXPECT_EQ(a.domains[0].name, b.domains[0].name);
  EXPECT_EQ(a.domains[0].base_dn, b.domains[0].base_dn);
  EXPECT_EQ(a.domains[0].controllers, b.domains[0].controllers);
  EXPECT_EQ(a.domains[0].bind.password_file, b.domains[0].bind.password_file);
  EXPECT_EQ(a.domains[0].sync.interval, b.domains[0].sync.interval);
  EXPECT_EQ(a.domains[0].sync.user_filter, b.domains[0].sync.user_filter);
  EXPECT_EQ(a.api.listen_port, b.api.listen_port);
  ASSERT_TRUE(a.api.tls.has_value());
  EXPECT_EQ(a.api.tls->cert_file, b.api.tls->cert_file);
  EXPECT_EQ(a.api.tls->key_file, b.api.tls->key_file);
  EXPECT_EQ(a.api.ip_mapping_timeout, b.api.ip_mapping_timeout);
  EXPECT_EQ(a.feed.retention, b.feed.retention);
}

}  // namespace
}  // namespace dirfeed::daemon
