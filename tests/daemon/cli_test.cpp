#include "daemon/cli.hpp"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rest/credentials.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

// The name of a checked key (nullopt: refused).
std::optional<std::string> key_name(const std::optional<rest::KeyEntry>& entry) {
  return entry ? std::optional<std::string>(entry->name) : std::nullopt;
}


using dirfeed::testing::TempDir;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliTest, Version) {
  EXPECT_EQ(version(), DIRFEED_EXPECTED_VERSION);
  for (const char* flag : {"--version", "-V"}) {
    const Outcome r = cli({flag});
    EXPECT_EQ(r.code, kExitOk);
    EXPECT_EQ(r.out, std::string("dirfeed ") + DIRFEED_EXPECTED_VERSION + "\n");
    EXPECT_EQ(r.err, "");
  }
}

TEST(CliTest, ArgvOverload) {
  std::string program = "dirfeed";
  std::string flag = "--version";
  char* argv[] = {program.data(), flag.data(), nullptr};
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_cli(2, argv, out, err), kExitOk);
  EXPECT_EQ(out.str(), std::string("dirfeed ") + DIRFEED_EXPECTED_VERSION + "\n");
}

TEST(CliTest, Help) {
  for (const char* flag : {"--help", "-h", "help"}) {
    const Outcome r = cli({flag});
    EXPECT_EQ(r.code, kExitOk);
    EXPECT_TRUE(contains(r.out, "Usage: dirfeed COMMAND [OPTIONS]")) << r.out;
    EXPECT_TRUE(contains(r.out, "\n  run ")) << r.out;
    EXPECT_TRUE(contains(r.out, "\n  check-config ")) << r.out;
    EXPECT_TRUE(contains(r.out, "--version")) << r.out;
    EXPECT_EQ(r.err, "");
  }
}

TEST(CliTest, HelpOfEveryCommand) {
  for (const std::string command : {"run", "check-config"}) {
    for (const char* flag : {"--help", "-h"}) {
      const Outcome r = cli({command, flag});
      EXPECT_EQ(r.code, kExitOk) << command;
      EXPECT_TRUE(contains(r.out, "Usage: dirfeed " + command + " [--config FILE]")) << r.out;
      EXPECT_TRUE(contains(r.out, "--config")) << r.out;
      EXPECT_TRUE(contains(r.out, "/etc/dirfeed/dirfeed.yaml")) << r.out;
      EXPECT_TRUE(contains(r.out, "--help")) << r.out;
      EXPECT_EQ(r.err, "");
    }
    const Outcome via_help = cli({"help", command});
    EXPECT_EQ(via_help.code, kExitOk);
    EXPECT_TRUE(contains(via_help.out, "Usage: dirfeed " + command)) << via_help.out;
  }
  // --help wins over a config that does not exist.
  EXPECT_EQ(cli({"check-config", "--config", "/nonexistent/x.yaml", "--help"}).code, kExitOk);
}

TEST(CliTest, NoArguments) {
  const Outcome r = cli({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "Usage: dirfeed COMMAND")) << r.err;
}

TEST(CliTest, UnknownCommand) {
  const Outcome r = cli({"frobnicate", "--config", "x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "dirfeed: unknown command 'frobnicate'")) << r.err;
  EXPECT_TRUE(contains(r.err, "Usage: dirfeed COMMAND")) << r.err;
}

TEST(CliTest, UnknownOptions) {
  Outcome r = cli({"--frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(contains(r.err, "unknown option '--frobnicate'")) << r.err;

  r = cli({"check-config", "--frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "dirfeed check-config: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "--frobnicate")) << r.err;
  EXPECT_TRUE(contains(r.err, "Run 'dirfeed check-config --help' for usage.")) << r.err;

  r = cli({"run", "--frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(contains(r.err, "dirfeed run: ")) << r.err;

  // No abbreviations, no stray arguments, no missing values.
  EXPECT_EQ(cli({"check-config", "--conf", "x.yaml"}).code, kExitUsage);
  r = cli({"check-config", "--config", "x.yaml", "extra"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err,
            "dirfeed check-config: unexpected argument 'extra'\n"
            "Run 'dirfeed check-config --help' for usage.\n");
  EXPECT_EQ(cli({"check-config", "--config"}).code, kExitUsage);
  EXPECT_EQ(cli({"check-config", "--config", "a.yaml", "--config", "b.yaml"}).code, kExitUsage);
  EXPECT_EQ(cli({"--version", "extra"}).code, kExitUsage);
  EXPECT_EQ(cli({"help", "frobnicate"}).code, kExitUsage);
}

class CheckConfigTest : public ::testing::Test {
 protected:
  std::string write_config(const std::string& extra = "") {
    const std::string yaml = "state_dir: " + dir_.path() +
                             "/state\n"
                             "domains:\n"
                             "  - name: example.test\n"
                             "    controllers: [ldaps://dc1.example.test]\n"
                             "    bind:\n"
                             "      dn: svc@example.test\n"
                             "      password_file: " +
                             dir_.path() +
                             "/pw\n"
                             "api:\n"
                             "  users_file: " +
                             dir_.path() +
                             "/users\n"
                             "  keys_file: " +
                             dir_.path() + "/keys\n" + extra;
    return dir_.write("dirfeed.yaml", yaml);
  }

  TempDir dir_;
};

TEST_F(CheckConfigTest, GoodConfig) {
  dir_.write("pw", "secret\n");
  const std::string path = write_config();
  for (const char* flag : {"--config", "-c"}) {
    const Outcome r = cli({"check-config", flag, path});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out, path + ": ok\n");
    EXPECT_EQ(r.err, "");
  }
  const Outcome equals = cli({"check-config", "--config=" + path});
  EXPECT_EQ(equals.code, kExitOk) << equals.err;
}

TEST_F(CheckConfigTest, PrintsEveryError) {
  dir_.write("pw", "secret\n");
  const std::string path = write_config("  listen: nowhere\nfeed:\n  retention: 30\nbogus: 1\n");
  const Outcome r = cli({"check-config", "--config", path});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            path +
                ":11: api.listen: \"nowhere\" is not HOST:PORT (e.g. 0.0.0.0:5000 or [::]:5000)\n" +
                path +
                ":13: feed.retention: \"30\" is not a duration (use s, m, h, d); did you "
                "mean \"30s\"?\n" +
                path + ":14: bogus: unknown key\n" + path + ": 3 errors\n");
}

TEST_F(CheckConfigTest, MissingPasswordFile) {
  const std::string path = write_config();
  const Outcome r = cli({"check-config", "--config", path});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, path + ":7: domains[0].bind.password_file: cannot read " + dir_.path() +
                       "/pw: No such file or directory\n" + path + ": 1 error\n");
}

TEST_F(CheckConfigTest, PlainLdapFailsAndAllowPlaintextWarns) {
  dir_.write("pw", "secret\n");
  const std::string path = write_config();
  std::ifstream in(path);
  std::string plain((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  plain.replace(plain.find("ldaps://dc1.example.test"), 8, "LDAP://");
  dir_.write("dirfeed.yaml", plain);
  Outcome r = cli({"check-config", "--config", path});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, path + ":4: domains[0].controllers[0]: \"ldap://dc1.example.test\" would send "
                          "the bind password and the directory in cleartext: use ldaps://, set "
                          "tls.start_tls: true, or allow it for this domain with "
                          "tls.allow_plaintext: true\n" +
                       path + ": 1 error\n");

  plain.replace(plain.find("    bind:"), 0, "    tls: {allow_plaintext: true}\n");
  dir_.write("dirfeed.yaml", plain);
  r = cli({"check-config", "--config", path});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, path + ": ok\n");
  EXPECT_EQ(r.err, path + ": warning: domain example.test: controller ldap://dc1.example.test is "
                          "used without TLS (tls.allow_plaintext): the bind password and the "
                          "directory cross the network in cleartext\n");
}

TEST_F(CheckConfigTest, MissingConfigFile) {
  const std::string path = dir_.path() + "/absent.yaml";
  const Outcome r = cli({"check-config", "--config", path});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, path + ": cannot read: No such file or directory\n" + path + ": 1 error\n");
}

TEST_F(CheckConfigTest, RunRefusesABadConfigBeforeStarting) {
  const std::string path = write_config("log: {level: loud}\n");
  const Outcome r = cli({"run", "--config", path});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(contains(r.err, path + ":11: log.level: \"loud\" is not one of")) << r.err;
  // The password file is missing too: run checks files like check-config does.
  dir_.write("pw", "");
  const Outcome empty_password = cli({"run", "--config", write_config()});
  EXPECT_EQ(empty_password.code, kExitFailure);
  EXPECT_TRUE(contains(empty_password.err,
                       "domains[0].bind.password_file: " + dir_.path() + "/pw is empty"))
      << empty_password.err;
}

// ---- dirfeed api ... ------------------------------------------------------------------------

class ApiCommandsTest : public CheckConfigTest {
 protected:
  ApiCommandsTest() : config_(write_config()) {}

  // `dirfeed api ARGS... --config CONFIG` with `input` on stdin.
  Outcome api(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), "api");
    args.push_back("--config");
    args.push_back(config_);
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    const int code = run_cli(args, in, out, err);
    return {code, out.str(), err.str()};
  }
  std::string users_file() const { return dir_.path() + "/users"; }
  std::string keys_file() const { return dir_.path() + "/keys"; }
  std::vector<rest::UserEntry> users() {
    auto text = rest::read_credentials_file(users_file());
    return text ? rest::parse_users(*text).entries : std::vector<rest::UserEntry>();
  }

  std::string config_;
};

TEST_F(ApiCommandsTest, Help) {
  const Outcome r = cli({"--help"});
  for (const char* command : {"api add-user", "api remove-user", "api list-users", "api add-key",
                              "api remove-key", "api list-keys"}) {
    EXPECT_TRUE(contains(r.out, std::string("\n  ") + command + " ")) << r.out;
    const Outcome help = cli({"api", std::string(command).substr(4), "--help"});
    EXPECT_EQ(help.code, kExitOk) << command;
    EXPECT_TRUE(contains(help.out, std::string("Usage: dirfeed ") + command + " [--config FILE]"))
        << help.out;
    const Outcome via_help = cli({"help", "api", std::string(command).substr(4)});
    EXPECT_EQ(via_help.code, kExitOk) << command;
    EXPECT_EQ(via_help.out, help.out);
  }
  EXPECT_TRUE(contains(cli({"api", "add-user", "--help"}).out, "--user NAME"));
  EXPECT_TRUE(contains(cli({"api", "add-key", "--help"}).out, "--name NAME"));
  EXPECT_EQ(cli({"api", "--help"}).code, kExitOk);
  const Outcome bare = cli({"api"});
  EXPECT_EQ(bare.code, kExitUsage);
  EXPECT_TRUE(contains(bare.err, "'api' needs a command")) << bare.err;
  const Outcome unknown = cli({"api", "frobnicate"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_TRUE(contains(unknown.err, "unknown command 'api frobnicate'")) << unknown.err;
}

TEST_F(ApiCommandsTest, AddListAndRemoveUsers) {
  Outcome r = api({"list-users"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");  // no users file yet: no users

  r = api({"add-user", "--user", "alice"}, "s3cret\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "user alice: added to " + users_file() + "\n");
  r = api({"add-user", "--user", "bob"}, "pw with spaces: and colons\r\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  std::vector<rest::UserEntry> entries = users();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "alice");
  EXPECT_GE(entries[0].iterations, 200000);
  EXPECT_TRUE(rest::verify_password(entries[0], "s3cret"));
  EXPECT_TRUE(rest::verify_password(entries[1], "pw with spaces: and colons"));
  // Only the hash is stored.
  EXPECT_FALSE(contains(*rest::read_credentials_file(users_file()), "s3cret"));
  EXPECT_EQ(api({"list-users"}).out, "alice\nbob\n");

  // Adding an existing user changes its password.
  r = api({"add-user", "-u", "alice"}, "n3w\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "password changed")) << r.out;
  entries = users();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(rest::verify_password(entries[0], "n3w"));

  r = api({"remove-user", "--user", "alice"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(api({"list-users"}).out, "bob\n");
  r = api({"remove-user", "--user", "alice"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "dirfeed api remove-user: no user alice in " + users_file() + "\n");
}

TEST_F(ApiCommandsTest, RefusesBadInput) {
  Outcome r = api({"add-user", "--user", "alice"}, "\n");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "dirfeed api add-user: the password is empty\n");
  r = api({"add-user", "--user", "alice"}, "");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "dirfeed api add-user: no password on stdin\n");
  EXPECT_EQ(rest::read_credentials_file(users_file()), std::nullopt);  // nothing written

  for (const std::string name : {"a:b", "a b", "", "tab\there"}) {
    r = api({"add-user", "--user", name}, "pw\n");
    EXPECT_EQ(r.code, kExitUsage) << name;
    EXPECT_TRUE(contains(r.err, "bad --user")) << r.err;
    EXPECT_EQ(api({"add-key", "--name", name}).code, kExitUsage) << name;
  }
  r = api({"add-user"}, "pw\n");
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(contains(r.err, "--user is required")) << r.err;
  EXPECT_EQ(api({"remove-key"}).code, kExitUsage);
  EXPECT_EQ(api({"list-users", "--user", "x"}).code, kExitUsage);

  // A users file with a malformed line is not rewritten (that would drop the line).
  dir_.write("users", "garbage\n");
  r = api({"add-user", "--user", "alice"}, "pw\n");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(contains(r.err, users_file() + ":1: expected NAME:pbkdf2-sha256")) << r.err;
  EXPECT_EQ(rest::read_credentials_file(users_file()), "garbage\n");
  EXPECT_EQ(api({"list-users"}).code, kExitFailure);

  // A bad config: exit 1 with its errors.
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run_cli({"api", "list-users", "--config", dir_.path() + "/absent.yaml"}, in, out, err),
            kExitFailure);
  EXPECT_TRUE(contains(err.str(), "cannot read")) << err.str();
}

TEST_F(ApiCommandsTest, AddListAndRemoveKeys) {
  Outcome r = api({"add-key", "--name", "proxy"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(r.out.size(), 4u + 43u + 1u) << r.out;
  const std::string key = r.out.substr(0, r.out.size() - 1);
  EXPECT_TRUE(key.starts_with("dfk_")) << key;
  EXPECT_TRUE(contains(r.err, "shown only this once")) << r.err;
  const std::string stored = *rest::read_credentials_file(keys_file());
  EXPECT_EQ(stored, "proxy:sha256:" + rest::api_key_hash(key) + "\n");

  r = api({"add-key", "--name", "sync"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out, key + "\n");
  EXPECT_EQ(api({"list-keys"}).out, "proxy  scope=all\nsync  scope=all\n");
  r = api({"add-key", "--name", "proxy"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_TRUE(contains(r.err, "a key named proxy exists")) << r.err;

  rest::CredentialStore store(users_file(), keys_file());
  EXPECT_EQ(key_name(store.check_api_key(key)), "proxy");

  EXPECT_EQ(api({"remove-key", "--name", "proxy"}).code, kExitOk);
  EXPECT_EQ(api({"list-keys"}).out, "sync  scope=all\n");
  EXPECT_EQ(api({"remove-key", "--name", "proxy"}).code, kExitFailure);
}

}  // namespace
}  // namespace dirfeed::daemon
