// The publish section of the config (publish.nats): every key, defaults, and the errors (file,
// line, key), and the files check_files reads.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "daemon/config.hpp"
#include "tests/daemon/config_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using namespace std::chrono_literals;

// Lines 1-6: one domain; publish starts on line 7, nats on line 8.
using testing::kOneDomain;

ConfigResult parse(const std::string& nats) {
  return parse_config(std::string(kOneDomain) + "publish:\n  nats:\n" + nats, "test.yaml");
}

std::string errors_of(const ConfigResult& result) { return testing::errors_text(result); }

TEST(ConfigPublishTest, NoPublishSectionPublishesNothing) {
  const ConfigResult result = parse_config(kOneDomain, "test.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  EXPECT_FALSE(result.config->publish.nats.has_value());
}

TEST(ConfigPublishTest, OnlyServersGivesTheDefaults) {
  const ConfigResult result = parse("    servers: [nats://127.0.0.1:4222]\n");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  ASSERT_TRUE(result.config->publish.nats.has_value());
  const publish::NatsOptions& nats = *result.config->publish.nats;
  EXPECT_EQ(nats.servers, (std::vector<std::string>{"nats://127.0.0.1:4222"}));
  EXPECT_EQ(nats.stream, "DIRFEED");
  EXPECT_EQ(nats.subject_prefix, "dirfeed");
  EXPECT_EQ(nats.replicas, 1);
  EXPECT_EQ(nats.max_age, 0s);
  EXPECT_EQ(nats.duplicate_window, 2min);
  EXPECT_EQ(nats.max_pending, 1000u);
  EXPECT_EQ(nats.ack_timeout, 10s);
  EXPECT_EQ(nats.user, "");
  EXPECT_EQ(nats.credentials_file, "");
}

TEST(ConfigPublishTest, EveryKey) {
  const ConfigResult result = parse(R"(    servers: [tls://nats1.example.test:4222, tls://nats2.example.test]
    stream: AD_CHANGES
    subject_prefix: acme.directory
    replicas: 3
    max_age: 30d
    duplicate_window: 10m
    tls:
      ca_file: /etc/dirfeed/nats-ca.pem
      server_name: NATS.example.test
      cert_file: /etc/dirfeed/nats.crt
      key_file: /etc/dirfeed/nats.key
    user: dirfeed
    password_file: /etc/dirfeed/nats.password
    max_pending: 4096
    ack_timeout: 30s
)");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const publish::NatsOptions& nats = *result.config->publish.nats;
  EXPECT_EQ(nats.servers.size(), 2u);
  EXPECT_EQ(nats.stream, "AD_CHANGES");
  EXPECT_EQ(nats.subject_prefix, "acme.directory");
  EXPECT_EQ(nats.replicas, 3);
  EXPECT_EQ(nats.max_age, std::chrono::hours(24 * 30));
  EXPECT_EQ(nats.duplicate_window, 10min);
  EXPECT_EQ(nats.ca_file, "/etc/dirfeed/nats-ca.pem");
  EXPECT_EQ(nats.tls_server_name, "nats.example.test");
  EXPECT_EQ(nats.cert_file, "/etc/dirfeed/nats.crt");
  EXPECT_EQ(nats.key_file, "/etc/dirfeed/nats.key");
  EXPECT_EQ(nats.user, "dirfeed");
  EXPECT_EQ(nats.password_file, "/etc/dirfeed/nats.password");
  EXPECT_EQ(nats.max_pending, 4096u);
  EXPECT_EQ(nats.ack_timeout, 30s);
}

// libnats checks a server certificate's host name only against one name it is given.
TEST(ConfigPublishTest, TlsChecksTheServersCommonHostNameOrTheOneGiven) {
  ConfigResult one = parse("    servers: [tls://Nats.example.test:4222, tls://nats.example.test:4223]\n");
  ASSERT_TRUE(one.ok()) << errors_of(one);
  EXPECT_EQ(one.config->publish.nats->tls_server_name, "nats.example.test");
  ConfigResult plain = parse("    servers: [nats://a:4222, nats://b:4222]\n");
  ASSERT_TRUE(plain.ok()) << errors_of(plain);
  EXPECT_EQ(plain.config->publish.nats->tls_server_name, "");
  EXPECT_EQ(errors_of(parse("    servers: [tls://a:4222, tls://b:4222]\n")),
            "test.yaml:8: publish.nats: tls.server_name is required: the servers have different "
            "host names, and their certificates are checked for one name\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a:4222, nats://b:4222]\n"
                            "    tls: {ca_file: /etc/ca.pem}\n")),
            "test.yaml:8: publish.nats: tls.server_name is required: the servers have different "
            "host names, and their certificates are checked for one name\n");
}

TEST(ConfigPublishTest, ErrorsNameLineAndKey) {
  EXPECT_EQ(errors_of(parse("    servers: [nats://a:4222]\n    strem: X\n")),
            "test.yaml:10: publish.nats.strem: unknown key (did you mean \"stream\"?)\n");
  EXPECT_EQ(errors_of(parse("    servers: [http://a:4222]\n")),
            "test.yaml:9: publish.nats.servers[0]: \"http://a:4222\" is not nats://HOST:PORT "
            "or tls://HOST:PORT\n");
  EXPECT_EQ(errors_of(parse("    servers: []\n")),
            "test.yaml:9: publish.nats.servers: must list at least one server\n");
  EXPECT_EQ(errors_of(parse("    stream: X\n")),
            "test.yaml:8: publish.nats.servers: required key is missing\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    stream: my.stream\n")),
            "test.yaml:10: publish.nats.stream: \"my.stream\" is not a stream name (letters, "
            "digits, - and _)\n");
  EXPECT_NE(errors_of(parse("    servers: [nats://a]\n    subject_prefix: dirfeed.>\n"))
                .find("test.yaml:10: publish.nats.subject_prefix: \"dirfeed.>\" is not a subject "
                      "prefix"),
            std::string::npos);
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    replicas: 7\n")),
            "test.yaml:10: publish.nats.replicas: 7 is out of range (1..5)\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    user: dirfeed\n")),
            "test.yaml:10: publish.nats.user: needs password_file\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    password_file: /etc/p\n")),
            "test.yaml:10: publish.nats.password_file: needs user\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    credentials_file: /etc/c.creds\n"
                            "    user: u\n    password_file: /etc/p\n")),
            "test.yaml:11: publish.nats.user: use either credentials_file or user and "
            "password_file\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    tls:\n      cert_file: /etc/c\n")),
            "test.yaml:10: publish.nats.tls: cert_file and key_file go together\n");
  EXPECT_EQ(errors_of(parse("    servers: [nats://a]\n    ack_timeout: 30\n")),
            "test.yaml:10: publish.nats.ack_timeout: \"30\" is not a duration (use s, m, h, d); "
            "did you mean \"30s\"?\n");
}

TEST(ConfigPublishTest, CheckFilesReadsTheNatsSecretsAndCertificates) {
  dirfeed::testing::TempDir dir;
  const std::string creds = dir.path() + "/nats.creds";
  dirfeed::testing::write_text(creds, "-----BEGIN NATS USER JWT-----\n", 0600);
  ConfigResult result = parse("    servers: [nats://a]\n    credentials_file: " + creds +
                              "\n    tls:\n      ca_file: " + dir.path() + "/missing-ca.pem\n");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const std::vector<ConfigError> errors = check_files(*result.config);
  std::string text;
  for (const ConfigError& e : errors) text += e.key + "\n";
  EXPECT_EQ(text.find("publish.nats.credentials_file"), std::string::npos) << text;
  EXPECT_NE(text.find("publish.nats.tls.ca_file"), std::string::npos) << text;
}

// The example config's publish block, uncommented, parses with the values it documents.
TEST(ConfigPublishTest, TheExampleConfigsBlockParses) {
  const std::string example = dirfeed::testing::read_text(DIRFEED_EXAMPLE_CONFIG);
  const size_t start = example.find("\n# publish:\n");
  ASSERT_NE(start, std::string::npos);
  std::string block;
  std::istringstream lines(example.substr(start + 1));
  for (std::string line; std::getline(lines, line) && line.rfind("# ", 0) == 0;) {
    block += line.substr(2) + "\n";
  }
  const ConfigResult result = parse_config(std::string(kOneDomain) + block, "example.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result) << block;
  const publish::NatsOptions& nats = result.config->publish.nats.value();
  EXPECT_EQ(nats.servers, (std::vector<std::string>{"tls://nats1.example.test:4222"}));
  EXPECT_EQ(nats.stream, "DIRFEED");
  EXPECT_EQ(nats.max_age, std::chrono::hours(24 * 30));
  EXPECT_EQ(nats.ca_file, "/etc/dirfeed/nats-ca.pem");
  EXPECT_EQ(nats.max_pending, 1000u);
}

}  // namespace
}  // namespace dirfeed::daemon
