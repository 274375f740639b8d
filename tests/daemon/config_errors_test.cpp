// The config file's errors: each names file, line and key, with typo hints; every error is
// reported at once.
#include <gtest/gtest.h>

#include <string>

#include "daemon/config.hpp"
#include "tests/daemon/config_fixture.hpp"

namespace dirfeed::daemon {
namespace {

using namespace std::chrono_literals;
using testing::all_errors;
using testing::kDesignExample;
using testing::kOneDomain;
using testing::one_error;
using testing::parse;
using testing::replace;

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
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync:\n      intervall: 60s\n"),
            "8: domains[0].sync.intervall: unknown key (did you mean \"interval\"?)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "frobnicate: 1\n"), "7: frobnicate: unknown key");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    base_nd: DC=x\n"),
            "7: domains[0].base_nd: unknown key (did you mean \"base_dn\"?)");
  // The unknown key does not hide that the real one is missing.
  const ConfigResult result = parse(replace(kOneDomain, "    controllers:", "    controller:"));
  ASSERT_EQ(result.errors.size(), 2u) << all_errors(result);
  EXPECT_EQ(result.errors[0].to_string(),
            "test.yaml:2: domains[0].controllers: required key is missing");
  EXPECT_EQ(result.errors[1].to_string(),
            "test.yaml:3: domains[0].controller: unknown key (did you mean \"controllers\"?)");
}

TEST(ConfigTest, DuplicateKey) {
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    name: again.test\n"),
            "7: domains[0].name: duplicate key (first set at line 2)");
}

TEST(ConfigTest, WrongTypes) {
  EXPECT_EQ(one_error(replace(kOneDomain, "[ldaps://dc1.example.test]", "ldaps://dc1.example.test")),
            "3: domains[0].controllers: expected a list, got \"ldaps://dc1.example.test\"");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: 5\n"),
            "7: domains[0].sync: expected a mapping, got \"5\"");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {page_size: big}\n"),
            "7: domains[0].sync.page_size: \"big\" is not an integer");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {max_deletes: -1}\n"),
            "7: domains[0].sync.max_deletes: -1 is out of range (at least 0)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    tls:\n      verify: maybe\n"),
            "8: domains[0].tls.verify: \"maybe\" is not a boolean (use true or false)");
  EXPECT_EQ(one_error(replace(kOneDomain, "dn: svc@example.test", "dn: [a, b]")),
            "5: domains[0].bind.dn: expected a string, got a list");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "log: debug\n"),
            "7: log: expected a mapping, got \"debug\"");
  EXPECT_EQ(one_error("domains:\n  name: example.test\n"),
            "1: domains: expected a list, got a mapping");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync:\n      search_bases: [[OU=x]]\n"),
            "8: domains[0].sync.search_bases[0]: expected a string, got a list");
}

TEST(ConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(one_error("state_dir: /var/lib/dirfeed\n"), "1: domains: required key is missing");
  EXPECT_EQ(one_error("domains: []\n"), "1: domains: must list at least one domain");
  EXPECT_EQ(one_error("domains:\n"), "1: domains: required key has no value");
  EXPECT_EQ(
      one_error(replace(kOneDomain, "  - name: example.test\n    controllers:", "  - controllers:")),
      "2: domains[0].name: required key is missing");
  EXPECT_EQ(one_error(replace(kOneDomain, "      dn: svc@example.test\n", "")),
            "4: domains[0].bind.dn: required key is missing");
  EXPECT_EQ(one_error(replace(kOneDomain, "      password_file: /etc/dirfeed/pw\n", "")),
            "4: domains[0].bind.password_file: required key is missing");
  EXPECT_EQ(one_error("domains:\n  - name: example.test\n    controllers: [ldaps://dc]\n"),
            "2: domains[0].bind: required key is missing");
  EXPECT_EQ(one_error(replace(kOneDomain, "[ldaps://dc1.example.test]", "[]")),
            "3: domains[0].controllers: must list at least one domain controller");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api:\n  tls:\n    cert_file: /etc/x.crt\n"),
            "8: api.tls.key_file: required key is missing");
}

TEST(ConfigTest, BadEnumValues) {
  EXPECT_EQ(one_error(std::string(kOneDomain) + "log:\n  level: verbose\n"),
            "8: log.level: \"verbose\" is not one of trace, debug, info, warning, error");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "log:\n  level: warnings\n"),
            "8: log.level: \"warnings\" is not one of trace, debug, info, warning, error "
            "(did you mean \"warning\"?)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {strategy: dirsinc}\n"),
            "7: domains[0].sync.strategy: \"dirsinc\" is not one of dirsync, usn "
            "(did you mean \"dirsync\"?)");
  EXPECT_EQ(one_error(replace(kOneDomain, "    bind:\n", "    bind:\n      method: ntlm\n")),
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
  EXPECT_EQ(one_error(replace(kOneDomain, "[ldaps://dc1.example.test]", "[ldap://dc1.example.test]")),
            "3: domains[0].controllers[0]: \"ldap://dc1.example.test\"" + message);
  EXPECT_EQ(one_error(replace(kOneDomain, "[ldaps://dc1.example.test]", "[LDAP://dc1.example.test]")),
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
  const ConfigResult two = parse(std::string(kOneDomain) + R"(    tls: {allow_plaintext: true}
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
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    tls: {allow_plaintext: maybe}\n"),
            "7: domains[0].tls.allow_plaintext: \"maybe\" is not a boolean (use true or false)");
}

TEST(ConfigTest, DeleteGuardLimits) {
  auto result = parse(std::string(kOneDomain) +
                      "    sync: {max_deletes: 50, max_delete_percent: 10}\n");
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->domains[0].sync.max_deletes, 50u);
  EXPECT_EQ(result.config->domains[0].sync.max_delete_percent, 10.0);
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {max_delete_percent: 101}\n"),
            "7: domains[0].sync.max_delete_percent: 101 is out of range (0..100)");
}

TEST(ConfigTest, PageSizeRange) {
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {page_size: 0}\n"),
            "7: domains[0].sync.page_size: 0 is out of range (1..1000)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {page_size: 1001}\n"),
            "7: domains[0].sync.page_size: 1001 is out of range (1..1000)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {member_range_step: -1}\n"),
            "7: domains[0].sync.member_range_step: -1 is out of range (0..2147483647)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {page_size: 99999999999999999999}\n"),
            "7: domains[0].sync.page_size: 99999999999999999999 is out of range (1..1000)");
}

TEST(ConfigTest, BadDurations) {
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {interval: 60}\n"),
            "7: domains[0].sync.interval: \"60\" is not a duration (use s, m, h, d); "
            "did you mean \"60s\"?");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {timeout: 0s}\n"),
            "7: domains[0].sync.timeout: must be longer than 0s");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "feed: {retention: 1 week}\n"),
            "7: feed.retention: \"1 week\" is not a duration (use s, m, h, d)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {ip_mapping_timeout: [6h]}\n"),
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
    ConfigResult r = parse(std::string(kOneDomain) + "api:\n  listen: \"" + value + "\"\n");
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
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api:\n  listen: 5000\n"),
            "8: api.listen: \"5000\"" + hint);
}

TEST(ConfigTest, BadValues) {
  EXPECT_EQ(one_error(replace(kOneDomain, "name: example.test", "name: exa mple.test")),
            "2: domains[0].name: \"exa mple.test\" is not a DNS domain name (e.g. example.test)");
  EXPECT_EQ(one_error(replace(kOneDomain, "name: example.test", "name: \"\"")),
            "2: domains[0].name: must not be empty");
  EXPECT_EQ(one_error(replace(kOneDomain, "/etc/dirfeed/pw", "secrets/pw")),
            "6: domains[0].bind.password_file: \"secrets/pw\" is not an absolute path");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "state_dir: var/lib\n"),
            "7: state_dir: \"var/lib\" is not an absolute path");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    netbios_name: MUCH-TOO-LONG-NAME\n"),
            "7: domains[0].netbios_name: \"MUCH-TOO-LONG-NAME\" is not a NetBIOS domain name (at "
            "most 15 characters, no spaces or \\/:*?\"<>|.)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    base_dn: example.test\n"),
            "7: domains[0].base_dn: \"example.test\" is not a DN (e.g. DC=example,DC=test)");
  const std::string filter_hint =
      " is not an LDAP filter (one \"(...)\" with balanced parentheses; escape literal ones "
      "as \\28 and \\29)";
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {user_filter: objectClass=user}\n"),
            "7: domains[0].sync.user_filter: \"objectClass=user\"" + filter_hint);
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {group_filter: \"(a=1)(b=2)\"}\n"),
            "7: domains[0].sync.group_filter: \"(a=1)(b=2)\"" + filter_hint);
  EXPECT_EQ(one_error(std::string(kOneDomain) + "    sync: {group_filter: \"(&(a=1)\"}\n"),
            "7: domains[0].sync.group_filter: \"(&(a=1)\"" + filter_hint);
}

TEST(ConfigTest, BadWebhookSettings) {
  EXPECT_EQ(one_error(std::string(kOneDomain) +
                      "api:\n  webhook_allowed_networks:\n    - 10.0.0.0/8\n    - 10.0.0.1/8\n"),
            "10: api.webhook_allowed_networks[1]: \"10.0.0.1/8\" has bits set after the prefix "
            "(did you mean 10.0.0.0/8?)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_allowed_networks: [localhost]}\n"),
            "7: api.webhook_allowed_networks[0]: \"localhost\" is not a network (use CIDR "
            "notation such as 10.0.0.0/8 or fd00::/8)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_allowed_networks: [\"::/200\"]}\n"),
            "7: api.webhook_allowed_networks[0]: \"::/200\": the prefix length must be 0 to 128");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_allowed_networks: 127.0.0.0/8}\n"),
            "7: api.webhook_allowed_networks: expected a list, got \"127.0.0.0/8\"");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_proxy: \"socks5://p:1080\"}\n"),
            "7: api.webhook_proxy: \"socks5://p:1080\": scheme socks5 is not http or https");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_proxy: \"http://u:pw@p:3128\"}\n"),
            "7: api.webhook_proxy: \"http://u:pw@p:3128\": credentials in the URL are not "
            "supported");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_no_proxy: [corp.example]}\n"),
            "7: api.webhook_no_proxy: needs webhook_proxy (without it, NO_PROXY is read)");
  EXPECT_EQ(one_error(std::string(kOneDomain) +
                      "api: {webhook_proxy: none, webhook_no_proxy: [corp.example]}\n"),
            "7: api.webhook_no_proxy: means nothing with webhook_proxy: none");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {webhook_proxy: \"\"}\n"),
            "7: api.webhook_proxy: must not be empty");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {max_directories: 0}\n"),
            "7: api.max_directories: 0 is out of range (at least 1)");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {max_directories: many}\n"),
            "7: api.max_directories: \"many\" is not an integer");
  EXPECT_EQ(one_error(std::string(kOneDomain) + "api: {metrics_detail: ids}\n"),
            "7: api.metrics_detail: \"ids\" is not a boolean (use true or false)");
}

TEST(ConfigTest, DuplicateDomainNames) {
  EXPECT_EQ(one_error(std::string(kOneDomain) + R"(  - name: other.test
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
  EXPECT_EQ(one_error(std::string(kOneDomain) + "---\nstate_dir: /x\n"),
            "8: : expected one YAML document, found 2");
}

TEST(ConfigTest, ErrorToString) {
  EXPECT_EQ((ConfigError{"f.yaml", 3, "api.listen", "bad"}).to_string(),
            "f.yaml:3: api.listen: bad");
  EXPECT_EQ((ConfigError{"f.yaml", 0, "", "empty"}).to_string(), "f.yaml: empty");
  EXPECT_EQ((ConfigError{"f.yaml", 2, "", "syntax"}).to_string(), "f.yaml:2: syntax");
}

}  // namespace
}  // namespace dirfeed::daemon
