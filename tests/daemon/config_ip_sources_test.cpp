// The ip_sources section of the config: every key, defaults, and the errors (file, line, key).
#include <gtest/gtest.h>

#include <string>

#include "daemon/config.hpp"
#include "tests/daemon/config_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using namespace std::chrono_literals;

// Lines 1-6: one domain; ip_sources follow from line 7.
using testing::kOneDomain;

ConfigResult parse(const std::string& sources) {
  return parse_config(std::string(kOneDomain) + "ip_sources:\n" + sources, "test.yaml");
}

std::string errors_of(const ConfigResult& result) { return testing::errors_text(result); }

TEST(ConfigIpSourcesTest, EveryKey) {
  const ConfigResult result = parse(R"(  - name: dc-logons
    listen: tls://[::]:6514
    tls:
      cert_file: /etc/dirfeed/syslog.crt
      key_file: /etc/dirfeed/syslog.key
      client_ca_file: /etc/dirfeed/senders-ca.pem
    format: windows-security
    timeout: 45m
    include_networks: [10.0.0.0/8, "2001:db8::/32"]
    exclude_networks: [10.99.0.0/16]
    ignore_users: ["*$", "svc-*"]
    allowed_senders: [192.0.2.10, 192.0.2.11]
    domain: EXAMPLE
  - name: vpn
    listen: udp://0.0.0.0:514
    format: regex
    regex: 'login user=(?<user>\S+) ip=(?<ip>\S+)'
    logout_regex: 'logout user=(?<user>\S+) ip=(?<ip>\S+)'
  - name: samba
    listen: tcp://127.0.0.1:6515
    format: samba-auth-json
)");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const auto& sources = result.config->ip_sources;
  ASSERT_EQ(sources.size(), 3u);
  const ipsource::SourceOptions& dc = sources[0];
  EXPECT_EQ(dc.name, "dc-logons");
  EXPECT_EQ(dc.transport, ipsource::Transport::kTls);
  EXPECT_EQ(dc.host, "::");
  EXPECT_EQ(dc.port, 6514);
  EXPECT_EQ(dc.tls.cert_file, "/etc/dirfeed/syslog.crt");
  EXPECT_EQ(dc.tls.key_file, "/etc/dirfeed/syslog.key");
  EXPECT_EQ(dc.tls.client_ca_file, "/etc/dirfeed/senders-ca.pem");
  EXPECT_EQ(dc.format, ipsource::Format::kWindowsSecurity);
  EXPECT_EQ(dc.timeout, std::optional<std::chrono::seconds>(45min));
  EXPECT_EQ(dc.include_networks.size(), 2u);
  EXPECT_EQ(dc.exclude_networks.size(), 1u);
  EXPECT_EQ(dc.ignore_users, (std::vector<std::string>{"*$", "svc-*"}));
  EXPECT_EQ(dc.allowed_senders.size(), 2u);
  EXPECT_EQ(dc.domain, "EXAMPLE");
  EXPECT_EQ(sources[1].transport, ipsource::Transport::kUdp);
  EXPECT_EQ(sources[1].format, ipsource::Format::kRegex);
  EXPECT_EQ(sources[1].logout_regex, R"(logout user=(?<user>\S+) ip=(?<ip>\S+))");
  const ipsource::SourceOptions& samba = sources[2];
  EXPECT_EQ(samba.format, ipsource::Format::kSambaAuthJson);
  EXPECT_FALSE(samba.timeout.has_value()) << "api.ip_mapping_timeout applies";
  EXPECT_EQ(samba.ignore_users, std::vector<std::string>{"*$"}) << "machine accounts";
  EXPECT_TRUE(samba.include_networks.empty());
  EXPECT_TRUE(samba.allowed_senders.empty());
}

TEST(ConfigIpSourcesTest, NoSectionNoSources) {
  const ConfigResult result = parse_config(kOneDomain, "test.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  EXPECT_TRUE(result.config->ip_sources.empty());
}

TEST(ConfigIpSourcesTest, ErrorsNameFileLineAndKey) {
  const ConfigResult result = parse(R"(  - name: a
    listen: tcp://dc1.example.test:514
    format: windows
    colour: blue
  - name: a
    listen: tcp://0.0.0.0:514
    format: regex
    regex: '(?<user>\S+) from (\S+)'
  - name: c
    listen: udp://0.0.0.0:514
    format: regex
    regex: '(?<user>\S+) from (?<ip>\S+'
    include_networks: [10.0.0.0/33]
    timeout: 10
  - name: d
    listen: tls://0.0.0.0:6514
    format: samba-auth-json
    logout_regex: 'x'
  - name: e
    listen: tcp://0.0.0.0:514
    tls: {cert_file: /a, key_file: /b}
  - listen: tcp://0.0.0.0:1
    format: regex
)");
  EXPECT_EQ(errors_of(result),
            "test.yaml:9: ip_sources[0].listen: \"tcp://dc1.example.test:514\" is not udp://, "
            "tcp:// or tls://ADDRESS:PORT (e.g. tcp://0.0.0.0:6514 or tls://[::]:6514)\n"
            "test.yaml:10: ip_sources[0].format: \"windows\" is not one of windows-security, "
            "samba-auth-json, regex\n"
            "test.yaml:11: ip_sources[0].colour: unknown key\n"
            "test.yaml:12: ip_sources[1].name: \"a\" is already the name of ip_sources[0]\n"
            "test.yaml:15: ip_sources[1].regex: \"(?<user>\\\\S+) from (\\\\S+)\" has no named "
            "group (?<ip>...)\n"
            "test.yaml:19: ip_sources[2].regex: \"(?<user>\\\\S+) from (?<ip>\\\\S+\" is not a "
            "valid regular expression: Unmatched marking parenthesis ( or \\(.  The error "
            "occurred while parsing the regular expression fragment: ' (?<ip>\\S+>>>HERE>>>'.\n"
            "test.yaml:20: ip_sources[2].include_networks[0]: \"10.0.0.0/33\" is not a network "
            "(e.g. 10.0.0.0/8, 2001:db8::/32, 10.1.2.3)\n"
            "test.yaml:21: ip_sources[2].timeout: \"10\" is not a duration (use s, m, h, d); "
            "did you mean \"10s\"?\n"
            "test.yaml:22: ip_sources[3].tls: required key is missing\n"
            "test.yaml:25: ip_sources[3].logout_regex: only for format: regex\n"
            "test.yaml:26: ip_sources[4].format: required key is missing\n"
            "test.yaml:28: ip_sources[4].tls: only for a tls:// listener\n"
            "test.yaml:29: ip_sources[5].name: required key is missing\n"
            "test.yaml:29: ip_sources[5].regex: required key is missing\n");
}

TEST(ConfigIpSourcesTest, CheckFilesReadsTheTlsFiles) {
  dirfeed::testing::TempDir dir;
  dir.write("crt", "pem");
  const ConfigResult result = parse("  - name: t\n    listen: tls://0.0.0.0:6514\n"
                                    "    format: windows-security\n    tls:\n"
                                    "      cert_file: " + dir.path() + "/crt\n"
                                    "      key_file: " + dir.path() + "/missing.key\n");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const std::vector<ConfigError> errors = check_files(*result.config);
  std::string text;
  for (const ConfigError& e : errors) {
    if (e.key.starts_with("ip_sources")) text += e.to_string() + "\n";
  }
  EXPECT_EQ(text, "test.yaml:13: ip_sources[0].tls.key_file: cannot read " + dir.path() +
                      "/missing.key: No such file or directory\n");
}

}  // namespace
}  // namespace dirfeed::daemon
