// The two-DC fixture's own test: the DCs replicate, each serves alone, and a DC whose
// outbound replication is disabled keeps its changes to itself (what failover tests need).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/samba_pair.hpp"

namespace dirfeed::testing {
namespace {

std::string user_ldif(const std::string& name) {
  return "dn: CN=" + name + ",CN=Users,DC=pair,DC=test\nchangetype: add\nobjectClass: user\n"
         "sAMAccountName: " + name + "\n";
}

bool seen_on(const SambaPair& pair, int n, const std::string& name) {
  return pair.search(n, pair.base_dn(), "(sAMAccountName=" + name + ")", {"dn"}).find("CN=" + name) !=
         std::string::npos;
}

bool eventually_on(const SambaPair& pair, int n, const std::string& name) {
  for (int i = 0; i < 60; ++i) {
    if (seen_on(pair, n, name)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

TEST(SambaPair, ReplicatesFailsOverAndHoldsBackWhenAsked) {
  SambaPair pair(std::string(DIRFEED_BINARY_DIR) + "/samba/pair");
  pair.setup();
  pair.ldif(1, user_ldif("repl1"));
  EXPECT_TRUE(eventually_on(pair, 2, "repl1")) << "DC1 -> DC2 replication";
  pair.ldif(2, user_ldif("repl2"));
  EXPECT_TRUE(eventually_on(pair, 1, "repl2")) << "DC2 -> DC1 replication";

  pair.set_outbound_replication(1, false);
  pair.ldif(1, user_ldif("held1"));
  std::this_thread::sleep_for(std::chrono::seconds(10));
  EXPECT_FALSE(seen_on(pair, 2, "held1")) << "DC1's outbound replication was disabled";
  pair.stop(1);
  EXPECT_TRUE(seen_on(pair, 2, "repl1")) << "DC2 serves alone";
  pair.start(1);
  pair.set_outbound_replication(1, true);
  pair.replicate(2, 1);
  EXPECT_TRUE(eventually_on(pair, 2, "held1"));
}

}  // namespace
}  // namespace dirfeed::testing
