#include "daemon/config.hpp"
#include "tests/daemon/config_fixture.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using namespace std::chrono_literals;
using dirfeed::testing::TempDir;

// DESIGN.md section 7, verbatim.
constexpr char kDesignExample[] = R"yaml(state_dir: /var/lib/dirfeed
log:
  level: info                    # trace | debug | info | warning | error
domains:
  - name: example.test           # DNS name of the domain (required)
    base_dn: DC=example,DC=test  # optional: derived from name
    netbios_name: EXAMPLE        # optional: read from the Partitions container
    controllers:                 # required, tried in order, failover on error
      - ldaps://dc1.example.test
      - ldaps://dc2.example.test
    tls:
      ca_file: /etc/dirfeed/ad-ca.pem
      verify: true               # default true
      start_tls: false           # for ldap:// URIs
    bind:
      method: simple             # simple | gssapi
      dn: svc-dirfeed@example.test
      password_file: /etc/dirfeed/example.test.password
    sync:
      strategy: dirsync          # dirsync | usn
      interval: 60s
      notifications: true        # use the change notification control
      page_size: 1000
      search_bases: []           # optional OU scopes; default: the whole domain
      user_filter: "(&(objectCategory=person)(objectClass=user))"
      group_filter: "(objectClass=group)"
      max_deletes: 500           # more deletes than this in one pass are held back
api:
  listen: 0.0.0.0:5000
  tls:                           # omit for plain HTTP (tests, behind a proxy)
    cert_file: /etc/dirfeed/tls.crt
    key_file: /etc/dirfeed/tls.key
  anonymous_read: true           # User ID API reads without auth, as that spec says
  users_file: /etc/dirfeed/api-users   # HTTP Basic users (hashed), written by `dirfeed api`
  keys_file: /etc/dirfeed/api-keys     # API keys (hashed), written by `dirfeed api`
  ip_mapping_timeout: 6h
feed:
  retention: 30d
)yaml";

// The smallest valid file; lines 1-6.
constexpr const char* kMinimal = testing::kOneDomain;

ConfigResult parse(std::string_view yaml) { return parse_config(yaml, "test.yaml"); }

std::string all_errors(const ConfigResult& result) { return testing::errors_text(result); }

std::string all_errors(const std::vector<ConfigError>& errors) {
  std::string text;
  for (const ConfigError& e : errors) text += e.to_string() + "\n";
  return text;
}

std::string replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Parses `yaml`, expects exactly one error, and returns it as "LINE: KEY: MESSAGE".
std::string one_error(std::string_view yaml) {
  const ConfigResult result = parse(yaml);
  EXPECT_FALSE(result.config.has_value());
  if (result.errors.size() != 1) {
    ADD_FAILURE() << "expected one error, got:\n" << all_errors(result);
    return "";
  }
  const ConfigError& e = result.errors.front();
  EXPECT_EQ(e.file, "test.yaml");
  return std::to_string(e.line) + ": " + e.key + ": " + e.message;
}

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
  const ConfigResult result = parse(kMinimal);
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
  EXPECT_EQ(c.api.max_directories, 50u);
  EXPECT_TRUE(c.api.metrics_detail);
  EXPECT_EQ(c.api.webhook_event_retention, 48h);
  EXPECT_EQ(c.api.max_webhook_events, 25u);
  EXPECT_EQ(c.feed.retention, 24h);
}

TEST(ConfigTest, ExplicitBaseDnIsKept) {
  const ConfigResult result = parse(replace(kMinimal, "    controllers:",
                                            "    base_dn: DC=Ad,DC=Example,DC=Test\n"
                                            "    controllers:"));
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_EQ(result.config->domains[0].base_dn, "DC=Ad,DC=Example,DC=Test");
}

TEST(ConfigTest, SeveralDomains) {
  const ConfigResult result = parse(std::string(kMinimal) + R"(  - name: other.test
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
  const ConfigResult result = parse(std::string(kMinimal) + "    netbios_name:\n    sync:\n");
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_EQ(result.config->domains[0].netbios_name, "");
  EXPECT_EQ(result.config->domains[0].sync.interval, 60s);
}

TEST(ConfigTest, ErrorNamesFileLineAndKey) {
  const ConfigResult result = parse_config(replace(kDesignExample, "interval: 60s", "interval: 6x"),
                                           "/etc/dirfeed/dirfeed.yaml");
  ASSERT_EQ(result.errors.size(), 1u) << all_errors(result);
  EXPECT_EQ(result.errors[0].to_string(),
            "/etc/dirfeed/dirfeed.yaml:21: domains[0].sync.interval: \"6x\" is not a duration "
            "(use s, m, h, d)");
  EXPECT_EQ(result.errors[0].line, 21);
  EXPECT_EQ(result.errors[0].key, "domains[0].sync.interval");
}

TEST(ConfigTest, SyntaxErrorHasItsLine) {
  const ConfigResult result = parse(
      "domains:\n  - name: example.test\n    controllers: [ldaps://a\n"
      "    bind:\n");
  ASSERT_EQ(result.errors.size(), 1u) << all_errors(result);
  const ConfigError& e = result.errors[0];
  EXPECT_EQ(e.key, "");
  EXPECT_GE(e.line, 3);
  EXPECT_NE(e.message.find("YAML syntax error"), std::string::npos) << e.message;
  EXPECT_EQ(e.to_string().rfind("test.yaml:" + std::to_string(e.line) + ": YAML syntax error", 0),
            0u)
      << e.to_string();
}

TEST(ConfigTest, BadIndentationIsASyntaxError) {
  const ConfigResult result = parse("log:\n  level: info\n   extra: 1\ndomains: []\n");
  ASSERT_EQ(result.errors.size(), 1u) << all_errors(result);
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_NE(result.errors[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(ConfigTest, TabIndentationGetsAHint) {
  EXPECT_EQ(one_error("domains:\n\t- name: example.test\n"),
            "2: : YAML syntax error: illegal block entry (column 2); indent with spaces, YAML "
            "does not allow tabs");
}

TEST(ConfigTest, UnknownKeys) {
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync:\n      intervall: 60s\n"),
            "8: domains[0].sync.intervall: unknown key (did you mean \"interval\"?)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "frobnicate: 1\n"), "7: frobnicate: unknown key");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    base_nd: DC=x\n"),
            "7: domains[0].base_nd: unknown key (did you mean \"base_dn\"?)");
  // The unknown key does not hide that the real one is missing.
  const ConfigResult result = parse(replace(kMinimal, "    controllers:", "    controller:"));
  ASSERT_EQ(result.errors.size(), 2u) << all_errors(result);
  EXPECT_EQ(result.errors[0].to_string(),
            "test.yaml:2: domains[0].controllers: required key is missing");
  EXPECT_EQ(result.errors[1].to_string(),
            "test.yaml:3: domains[0].controller: unknown key (did you mean \"controllers\"?)");
}

TEST(ConfigTest, DuplicateKey) {
  EXPECT_EQ(one_error(std::string(kMinimal) + "    name: again.test\n"),
            "7: domains[0].name: duplicate key (first set at line 2)");
}

TEST(ConfigTest, WrongTypes) {
  EXPECT_EQ(one_error(replace(kMinimal, "[ldaps://dc1.example.test]", "ldaps://dc1.example.test")),
            "3: domains[0].controllers: expected a list, got \"ldaps://dc1.example.test\"");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: 5\n"),
            "7: domains[0].sync: expected a mapping, got \"5\"");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {page_size: big}\n"),
            "7: domains[0].sync.page_size: \"big\" is not an integer");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {max_deletes: -1}\n"),
            "7: domains[0].sync.max_deletes: -1 is out of range (at least 0)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    tls:\n      verify: maybe\n"),
            "8: domains[0].tls.verify: \"maybe\" is not a boolean (use true or false)");
  EXPECT_EQ(one_error(replace(kMinimal, "dn: svc@example.test", "dn: [a, b]")),
            "5: domains[0].bind.dn: expected a string, got a list");
  EXPECT_EQ(one_error(std::string(kMinimal) + "log: debug\n"),
            "7: log: expected a mapping, got \"debug\"");
  EXPECT_EQ(one_error("domains:\n  name: example.test\n"),
            "1: domains: expected a list, got a mapping");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync:\n      search_bases: [[OU=x]]\n"),
            "8: domains[0].sync.search_bases[0]: expected a string, got a list");
}

TEST(ConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(one_error("state_dir: /var/lib/dirfeed\n"), "1: domains: required key is missing");
  EXPECT_EQ(one_error("domains: []\n"), "1: domains: must list at least one domain");
  EXPECT_EQ(one_error("domains:\n"), "1: domains: required key has no value");
  EXPECT_EQ(
      one_error(replace(kMinimal, "  - name: example.test\n    controllers:", "  - controllers:")),
      "2: domains[0].name: required key is missing");
  EXPECT_EQ(one_error(replace(kMinimal, "      dn: svc@example.test\n", "")),
            "4: domains[0].bind.dn: required key is missing");
  EXPECT_EQ(one_error(replace(kMinimal, "      password_file: /etc/dirfeed/pw\n", "")),
            "4: domains[0].bind.password_file: required key is missing");
  EXPECT_EQ(one_error("domains:\n  - name: example.test\n    controllers: [ldaps://dc]\n"),
            "2: domains[0].bind: required key is missing");
  EXPECT_EQ(one_error(replace(kMinimal, "[ldaps://dc1.example.test]", "[]")),
            "3: domains[0].controllers: must list at least one domain controller");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api:\n  tls:\n    cert_file: /etc/x.crt\n"),
            "8: api.tls.key_file: required key is missing");
}

TEST(ConfigTest, BadEnumValues) {
  EXPECT_EQ(one_error(std::string(kMinimal) + "log:\n  level: verbose\n"),
            "8: log.level: \"verbose\" is not one of trace, debug, info, warning, error");
  EXPECT_EQ(one_error(std::string(kMinimal) + "log:\n  level: warnings\n"),
            "8: log.level: \"warnings\" is not one of trace, debug, info, warning, error "
            "(did you mean \"warning\"?)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {strategy: dirsinc}\n"),
            "7: domains[0].sync.strategy: \"dirsinc\" is not one of dirsync, usn "
            "(did you mean \"dirsync\"?)");
  EXPECT_EQ(one_error(replace(kMinimal, "    bind:\n", "    bind:\n      method: ntlm\n")),
            "5: domains[0].bind.method: \"ntlm\" is not one of simple, gssapi");
}

TEST(ConfigTest, BadControllers) {
  const ConfigResult result = parse(R"(domains:
  - name: example.test
    controllers:
      - dc1.example.test
      - http://dc2.example.test
      - ldaps://
      - ldap://dc3.example.test:99999
      - ldaps://dc4.example.test/DC=example
      - ldaps://dc5.example.test:636
    bind: {dn: svc, password_file: /pw}
)");
  ASSERT_EQ(result.errors.size(), 5u) << all_errors(result);
  const char* bad[] = {"dc1.example.test", "http://dc2.example.test", "ldaps://",
                       "ldap://dc3.example.test:99999", "ldaps://dc4.example.test/DC=example"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(result.errors[i].line, 4 + i);
    EXPECT_EQ(result.errors[i].key, "domains[0].controllers[" + std::to_string(i) + "]");
    EXPECT_EQ(result.errors[i].message,
              "\"" + std::string(bad[i]) +
                  "\" is not an LDAP URI (use ldaps://HOST[:PORT] or ldap://HOST[:PORT])");
  }
}

// The scheme is stored in lower case: the connection code (and every later comparison) sees
// one spelling, so "LDAP://" with start_tls gets StartTLS like "ldap://" does.
TEST(ConfigTest, ControllerSchemesAreStoredInLowerCase) {
  const ConfigResult result = parse(R"(domains:
  - name: example.test
    controllers: [LDAP://DC1.example.test, LdApS://dc2.Example.test:636/, ldap://dc3]
    tls: {start_tls: true}
    bind: {dn: svc, password_file: /pw}
)");
  ASSERT_TRUE(result.ok()) << all_errors(result);
  const ldap::DomainOptions& d = result.config->domains.at(0);
  EXPECT_EQ(d.controllers, (std::vector<std::string>{"ldap://DC1.example.test",
                                                      "ldaps://dc2.Example.test:636/",
                                                      "ldap://dc3"}));
  for (const std::string& uri : d.controllers) {
    EXPECT_FALSE(ldap::sends_cleartext(uri, d.tls, d.bind)) << uri;
  }
  EXPECT_EQ(ldap::transport_of(d.controllers[0], d.tls), ldap::Transport::kStartTls);
  EXPECT_TRUE(config_warnings(*result.config).empty());
}

// ldap:// without StartTLS would send the bind password (and every object read) in cleartext:
// an error at the controller's line, whatever the scheme's case, unless allow_plaintext.
TEST(ConfigTest, PlainLdapWithoutStartTlsIsAnError) {
  const std::string message =
      " would send the bind password and the directory in cleartext: use ldaps://, set "
      "tls.start_tls: true, or allow it for this domain with tls.allow_plaintext: true";
  EXPECT_EQ(one_error(replace(kMinimal, "[ldaps://dc1.example.test]", "[ldap://dc1.example.test]")),
            "3: domains[0].controllers[0]: \"ldap://dc1.example.test\"" + message);
  EXPECT_EQ(one_error(replace(kMinimal, "[ldaps://dc1.example.test]", "[LDAP://dc1.example.test]")),
            "3: domains[0].controllers[0]: \"ldap://dc1.example.test\"" + message);
  EXPECT_EQ(one_error(R"(domains:
  - name: example.test
    controllers:
      - ldaps://dc1.example.test
      - ldap://dc2.example.test
    tls:
      start_tls: false
      allow_plaintext: false
    bind: {dn: svc, password_file: /pw}
)"),
            "5: domains[0].controllers[1]: \"ldap://dc2.example.test\"" + message);
  // Allowed in one domain is not allowed in the next.
  const ConfigResult two = parse(std::string(kMinimal) + R"(    tls: {allow_plaintext: true}
  - name: other.test
    controllers: [ldap://dc.other.test]
    bind: {dn: svc@other.test, password_file: /etc/dirfeed/other}
)");
  ASSERT_EQ(two.errors.size(), 1u) << all_errors(two);
  EXPECT_EQ(two.errors[0].line, 9);
  EXPECT_EQ(two.errors[0].key, "domains[1].controllers[0]");
}

TEST(ConfigTest, AllowPlaintextIsAcceptedWithAWarningPerPlainController) {
  const ConfigResult result = parse(R"(domains:
  - name: example.test
    controllers: [LDAP://dc1.example.test, ldaps://dc2.example.test, ldap://dc3.example.test]
    tls: {allow_plaintext: true}
    bind: {dn: svc, password_file: /pw}
  - name: other.test
    controllers: [ldap://dc.other.test]
    tls: {start_tls: true, allow_plaintext: true}
    bind: {dn: svc, password_file: /pw}
)");
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_TRUE(result.config->domains[0].tls.allow_plaintext);
  EXPECT_FALSE(result.config->domains[0].tls.start_tls);
  EXPECT_EQ(config_warnings(*result.config),
            (std::vector<std::string>{
                "domain example.test: controller ldap://dc1.example.test is used without TLS "
                "(tls.allow_plaintext): the bind password and the directory cross the network "
                "in cleartext",
                "domain example.test: controller ldap://dc3.example.test is used without TLS "
                "(tls.allow_plaintext): the bind password and the directory cross the network "
                "in cleartext"}));
  EXPECT_EQ(one_error(std::string(kMinimal) + "    tls: {allow_plaintext: maybe}\n"),
            "7: domains[0].tls.allow_plaintext: \"maybe\" is not a boolean (use true or false)");
}

TEST(ConfigTest, DeleteGuardLimits) {
  auto result = parse(std::string(kMinimal) +
                      "    sync: {max_deletes: 50, max_delete_percent: 10}\n");
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->domains[0].sync.max_deletes, 50u);
  EXPECT_EQ(result.config->domains[0].sync.max_delete_percent, 10.0);
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {max_delete_percent: 101}\n"),
            "7: domains[0].sync.max_delete_percent: 101 is out of range (0..100)");
}

TEST(ConfigTest, PageSizeRange) {
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {page_size: 0}\n"),
            "7: domains[0].sync.page_size: 0 is out of range (1..1000)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {page_size: 1001}\n"),
            "7: domains[0].sync.page_size: 1001 is out of range (1..1000)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {member_range_step: -1}\n"),
            "7: domains[0].sync.member_range_step: -1 is out of range (0..2147483647)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {page_size: 99999999999999999999}\n"),
            "7: domains[0].sync.page_size: 99999999999999999999 is out of range (1..1000)");
}

TEST(ConfigTest, BadDurations) {
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {interval: 60}\n"),
            "7: domains[0].sync.interval: \"60\" is not a duration (use s, m, h, d); "
            "did you mean \"60s\"?");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {timeout: 0s}\n"),
            "7: domains[0].sync.timeout: must be longer than 0s");
  EXPECT_EQ(one_error(std::string(kMinimal) + "feed: {retention: 1 week}\n"),
            "7: feed.retention: \"1 week\" is not a duration (use s, m, h, d)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {ip_mapping_timeout: [6h]}\n"),
            "7: api.ip_mapping_timeout: expected a string, got a list");
}

TEST(ConfigTest, ParseDuration) {
  EXPECT_EQ(parse_duration("1s"), 1s);
  EXPECT_EQ(parse_duration("90s"), 90s);
  EXPECT_EQ(parse_duration("15m"), 15min);
  EXPECT_EQ(parse_duration("6h"), 6h);
  EXPECT_EQ(parse_duration("30d"), 720h);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1d12h"), 36h);
  EXPECT_EQ(parse_duration("0s"), 0s);
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("60"), std::nullopt);
  EXPECT_EQ(parse_duration("6x"), std::nullopt);
  EXPECT_EQ(parse_duration("s"), std::nullopt);
  EXPECT_EQ(parse_duration("1.5h"), std::nullopt);
  EXPECT_EQ(parse_duration("-5s"), std::nullopt);
  EXPECT_EQ(parse_duration(" 5s"), std::nullopt);
  EXPECT_EQ(parse_duration("5 s"), std::nullopt);
  EXPECT_EQ(parse_duration("5S"), std::nullopt);
  EXPECT_EQ(parse_duration("1h30"), std::nullopt);
  EXPECT_EQ(parse_duration("5ms"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999d"), std::nullopt);
  EXPECT_EQ(parse_duration("36500d"), 24h * 36500);
  EXPECT_EQ(parse_duration("36501d"), std::nullopt);
}

TEST(ConfigTest, Listen) {
  auto listen = [](const std::string& value) {
    ConfigResult r = parse(std::string(kMinimal) + "api:\n  listen: \"" + value + "\"\n");
    return r.ok() ? r.config->api.listen_host + " " + std::to_string(r.config->api.listen_port)
                  : r.errors.at(0).message;
  };
  EXPECT_EQ(listen("127.0.0.1:8080"), "127.0.0.1 8080");
  EXPECT_EQ(listen("localhost:0"), "localhost 0");
  EXPECT_EQ(listen("[::1]:443"), "::1 443");
  const std::string hint = " is not HOST:PORT (e.g. 0.0.0.0:5000 or [::]:5000)";
  EXPECT_EQ(listen("5000"), "\"5000\"" + hint);
  EXPECT_EQ(listen(":5000"), "\":5000\"" + hint);
  EXPECT_EQ(listen("0.0.0.0:"), "\"0.0.0.0:\"" + hint);
  EXPECT_EQ(listen("0.0.0.0:65536"), "\"0.0.0.0:65536\"" + hint);
  EXPECT_EQ(listen("::1:5000"), "\"::1:5000\"" + hint);
  EXPECT_EQ(listen("[::1]5000"), "\"[::1]5000\"" + hint);
  EXPECT_EQ(one_error(std::string(kMinimal) + "api:\n  listen: 5000\n"),
            "8: api.listen: \"5000\"" + hint);
}

TEST(ConfigTest, BadValues) {
  EXPECT_EQ(one_error(replace(kMinimal, "name: example.test", "name: exa mple.test")),
            "2: domains[0].name: \"exa mple.test\" is not a DNS domain name (e.g. example.test)");
  EXPECT_EQ(one_error(replace(kMinimal, "name: example.test", "name: \"\"")),
            "2: domains[0].name: must not be empty");
  EXPECT_EQ(one_error(replace(kMinimal, "/etc/dirfeed/pw", "secrets/pw")),
            "6: domains[0].bind.password_file: \"secrets/pw\" is not an absolute path");
  EXPECT_EQ(one_error(std::string(kMinimal) + "state_dir: var/lib\n"),
            "7: state_dir: \"var/lib\" is not an absolute path");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    netbios_name: MUCH-TOO-LONG-NAME\n"),
            "7: domains[0].netbios_name: \"MUCH-TOO-LONG-NAME\" is not a NetBIOS domain name (at "
            "most 15 characters, no spaces or \\/:*?\"<>|.)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "    base_dn: example.test\n"),
            "7: domains[0].base_dn: \"example.test\" is not a DN (e.g. DC=example,DC=test)");
  const std::string filter_hint =
      " is not an LDAP filter (one \"(...)\" with balanced parentheses; escape literal ones "
      "as \\28 and \\29)";
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {user_filter: objectClass=user}\n"),
            "7: domains[0].sync.user_filter: \"objectClass=user\"" + filter_hint);
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {group_filter: \"(a=1)(b=2)\"}\n"),
            "7: domains[0].sync.group_filter: \"(a=1)(b=2)\"" + filter_hint);
  EXPECT_EQ(one_error(std::string(kMinimal) + "    sync: {group_filter: \"(&(a=1)\"}\n"),
            "7: domains[0].sync.group_filter: \"(&(a=1)\"" + filter_hint);
}

TEST(ConfigTest, BadWebhookSettings) {
  EXPECT_EQ(one_error(std::string(kMinimal) +
                      "api:\n  webhook_allowed_networks:\n    - 10.0.0.0/8\n    - 10.0.0.1/8\n"),
            "10: api.webhook_allowed_networks[1]: \"10.0.0.1/8\" has bits set after the prefix "
            "(did you mean 10.0.0.0/8?)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {webhook_allowed_networks: [localhost]}\n"),
            "7: api.webhook_allowed_networks[0]: \"localhost\" is not a network (use CIDR "
            "notation such as 10.0.0.0/8 or fd00::/8)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {webhook_allowed_networks: [\"::/200\"]}\n"),
            "7: api.webhook_allowed_networks[0]: \"::/200\": the prefix length must be 0 to 128");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {webhook_allowed_networks: 127.0.0.0/8}\n"),
            "7: api.webhook_allowed_networks: expected a list, got \"127.0.0.0/8\"");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {max_directories: 0}\n"),
            "7: api.max_directories: 0 is out of range (at least 1)");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {max_directories: many}\n"),
            "7: api.max_directories: \"many\" is not an integer");
  EXPECT_EQ(one_error(std::string(kMinimal) + "api: {metrics_detail: ids}\n"),
            "7: api.metrics_detail: \"ids\" is not a boolean (use true or false)");
}

TEST(ConfigTest, DuplicateDomainNames) {
  EXPECT_EQ(one_error(std::string(kMinimal) + R"(  - name: other.test
    controllers: [ldaps://dc.other.test]
    bind: {dn: svc, password_file: /pw}
  - name: Example.Test
    controllers: [ldaps://dc9.example.test]
    bind: {dn: svc, password_file: /pw}
)"),
            "10: domains[2].name: \"example.test\" is already configured in domains[0]");
}

TEST(ConfigTest, CollectsEveryError) {
  const ConfigResult result = parse(R"(state_dir: relative
log:
  level: loud
domains:
  - name: example.test
    controllers: [ftp://dc1]
    bind:
      method: simple
      password_file: /pw
    sync:
      interval: 6x
      page_size: 5000
      colour: blue
api:
  listen: nowhere
feed:
  retention: forever
)");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(all_errors(result),
            "test.yaml:1: state_dir: \"relative\" is not an absolute path\n"
            "test.yaml:3: log.level: \"loud\" is not one of trace, debug, info, warning, error\n"
            "test.yaml:6: domains[0].controllers[0]: \"ftp://dc1\" is not an LDAP URI (use "
            "ldaps://HOST[:PORT] or ldap://HOST[:PORT])\n"
            "test.yaml:7: domains[0].bind.dn: required key is missing\n"
            "test.yaml:11: domains[0].sync.interval: \"6x\" is not a duration (use s, m, h, d)\n"
            "test.yaml:12: domains[0].sync.page_size: 5000 is out of range (1..1000)\n"
            "test.yaml:13: domains[0].sync.colour: unknown key\n"
            "test.yaml:15: api.listen: \"nowhere\" is not HOST:PORT (e.g. 0.0.0.0:5000 or "
            "[::]:5000)\n"
            "test.yaml:17: feed.retention: \"forever\" is not a duration (use s, m, h, d)\n");
}

TEST(ConfigTest, WholeFileProblems) {
  EXPECT_EQ(one_error(""), "0: : the file holds no settings (at least `domains` is required)");
  EXPECT_EQ(one_error("# only a comment\n"),
            "0: : the file holds no settings (at least `domains` is required)");
  EXPECT_EQ(one_error("- a\n- b\n"),
            "1: : expected a mapping of settings at the top level, got a list");
  EXPECT_EQ(one_error(std::string(kMinimal) + "---\nstate_dir: /x\n"),
            "8: : expected one YAML document, found 2");
}

TEST(ConfigTest, ErrorToString) {
  EXPECT_EQ((ConfigError{"f.yaml", 3, "api.listen", "bad"}).to_string(),
            "f.yaml:3: api.listen: bad");
  EXPECT_EQ((ConfigError{"f.yaml", 0, "", "empty"}).to_string(), "f.yaml: empty");
  EXPECT_EQ((ConfigError{"f.yaml", 2, "", "syntax"}).to_string(), "f.yaml:2: syntax");
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
  const std::string path = dir.write("dirfeed.yaml", kMinimal);
  const ConfigResult result = load_config(path);
  ASSERT_TRUE(result.ok()) << all_errors(result);
  EXPECT_EQ(result.config->path, path);

  const std::string bad =
      dir.write("bad.yaml", std::string(kMinimal) + "    sync: {interval: 6x}\n");
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

// check_files() -------------------------------------------------------------------------

class CheckFilesTest : public ::testing::Test {
 protected:
  // A config whose files all exist under the temp dir; `extra` is appended to the YAML.
  Config config(const std::string& extra = "") {
    const std::string yaml = "state_dir: " + dir_.path() + "/state\n" +  // line 1
                             "domains:\n"                                // 2
                             "  - name: example.test\n"                  // 3
                             "    controllers: [ldaps://dc1]\n"          // 4
                             "    tls:\n"                                // 5
                             "      ca_file: " +
                             dir_.path() + "/ca.pem\n" +  // 6
                             "    bind:\n"                // 7
                             "      dn: svc\n"            // 8
                             "      password_file: " +
                             dir_.path() + "/pw\n" +  // 9
                             "api:\n"                 // 10
                             "  tls:\n"               // 11
                             "    cert_file: " +
                             dir_.path() + "/tls.crt\n" +                     // 12
                             "    key_file: " + dir_.path() + "/tls.key\n" +  // 13
                             "  users_file: " + dir_.path() + "/users\n" +    // 14
                             "  keys_file: " + dir_.path() + "/keys\n" +      // 15
                             extra;
    ConfigResult result = parse_config(yaml, "c.yaml");
    EXPECT_TRUE(result.ok()) << all_errors(result);
    return result.ok() ? *result.config : Config{};
  }

  void write_all() {
    dir_.write("pw", "secret\n");
    dir_.write("ca.pem", "pem");
    dir_.write("tls.crt", "crt");
    dir_.write("tls.key", "key");
  }

  TempDir dir_;
};

TEST_F(CheckFilesTest, AllPresent) {
  write_all();
  const auto errors = check_files(config());
  EXPECT_TRUE(errors.empty()) << all_errors(errors);
}

TEST_F(CheckFilesTest, UsersAndKeysFilesMayExist) {
  write_all();
  dir_.write("users", "");
  dir_.write("keys", "");
  const auto errors = check_files(config());
  EXPECT_TRUE(errors.empty()) << all_errors(errors);
}

TEST_F(CheckFilesTest, ReportsEveryMissingFile) {
  const auto errors = check_files(config());
  const std::string d = dir_.path();
  EXPECT_EQ(all_errors(errors), "c.yaml:6: domains[0].tls.ca_file: cannot read " + d +
                                    "/ca.pem: No such file or directory\n"
                                    "c.yaml:9: domains[0].bind.password_file: cannot read " +
                                    d +
                                    "/pw: No such file or directory\n"
                                    "c.yaml:12: api.tls.cert_file: cannot read " +
                                    d +
                                    "/tls.crt: No such file or directory\n"
                                    "c.yaml:13: api.tls.key_file: cannot read " +
                                    d + "/tls.key: No such file or directory\n");
}

TEST_F(CheckFilesTest, EmptyPasswordIsAnError) {
  write_all();
  dir_.write("pw", "\n");
  const auto errors = check_files(config());
  ASSERT_EQ(errors.size(), 1u) << all_errors(errors);
  EXPECT_EQ(errors[0].to_string(),
            "c.yaml:9: domains[0].bind.password_file: " + dir_.path() + "/pw is empty");
}

TEST_F(CheckFilesTest, DirectoriesAreNotFiles) {
  write_all();
  std::filesystem::create_directory(dir_.path() + "/users");
  dir_.write("state", "not a directory");
  const auto errors = check_files(config());
  const std::string d = dir_.path();
  EXPECT_EQ(all_errors(errors), "c.yaml:1: state_dir: " + d +
                                    "/state exists and is not a directory\n"
                                    "c.yaml:14: api.users_file: " +
                                    d + "/users is not a regular file\n");
}

// Runs `check` as user nobody when this process is root (root reads every file), else as is;
// true when it returned true.
bool as_unprivileged(const std::function<bool()>& check) {
  if (geteuid() != 0) return check();
  pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    _exit(check() ? 0 : 1);
  }
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(CheckFilesTest, UnreadablePasswordFile) {
  write_all();
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);  // the other files stay readable to nobody
  ASSERT_EQ(chmod((dir_.path() + "/pw").c_str(), 0), 0);
  const Config parsed = config();
  const std::string expected = "c.yaml:9: domains[0].bind.password_file: cannot read " +
                               dir_.path() + "/pw: Permission denied";
  EXPECT_TRUE(as_unprivileged([&] {
    const auto errors = check_files(parsed);
    if (errors.size() == 1 && errors[0].to_string() == expected) return true;
    std::fprintf(stderr, "unexpected errors:\n%s\n", all_errors(errors).c_str());
    return false;
  }));
}

}  // namespace
}  // namespace dirfeed::daemon
