// `dirfeed run` start-up: what the daemon logs before any pass.
#include "daemon/run.hpp"

#include <iostream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "daemon/logging.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using dirfeed::testing::TempDir;

class RunTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Stop writing into this test's stream before it goes away.
    init_logging(LogLevel::kWarning, std::cerr, LogStyle::kTerminal);
  }
  TempDir dir_;
  std::ostringstream logs_[2];  // outlive the sink that writes to them (see TearDown)
};

// Every start names each controller that tls.allow_plaintext lets the daemon use without TLS.
// Nothing listens on 127.0.0.1:1, so the one pass fails at once.
TEST_F(RunTest, EveryStartWarnsOfEachPlaintextController) {
  dir_.write("pw", "secret\n");
  ConfigResult parsed = parse_config("state_dir: " + dir_.path() + "/state\n" +
                                         "domains:\n"
                                         "  - name: example.test\n"
                                         "    controllers: [LDAP://127.0.0.1:1]\n"
                                         "    tls: {allow_plaintext: true}\n"
                                         "    bind: {dn: svc, password_file: " +
                                         dir_.path() + "/pw}\n",
                                     "dirfeed.yaml");
  ASSERT_TRUE(parsed.ok());
  const std::string warning =
      "warning domain example.test: controller ldap://127.0.0.1:1 is used without TLS";
  for (std::ostringstream& log : logs_) {  // two starts
    init_logging(LogLevel::kInfo, log, LogStyle::kTerminal);
    EXPECT_EQ(run_daemon(*parsed.config, RunMode::kOnce), 1);
    EXPECT_NE(log.str().find(warning), std::string::npos) << log.str();
  }
}

}  // namespace
}  // namespace dirfeed::daemon
