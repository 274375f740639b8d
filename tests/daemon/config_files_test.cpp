// check_files(): the files a config names exist, are files, and can be read.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "daemon/config.hpp"
#include "tests/daemon/config_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using dirfeed::testing::TempDir;
using testing::all_errors;

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
