// `dirfeed status` shows each configured IP source from the state the daemon stored.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "changefeed/store.hpp"
#include "daemon/cli.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

TEST(StatusIpSourcesTest, ShowsEachSourceFromTheStore) {
  dirfeed::testing::TempDir dir;
  const std::string config = dir.write(
      "dirfeed.yaml", "state_dir: " + dir.path() + "/state\n"
                      "domains:\n"
                      "  - name: example.test\n"
                      "    controllers: [ldaps://dc1.example.test]\n"
                      "    bind: {dn: svc@example.test, password_file: /nonexistent}\n"
                      "ip_sources:\n"
                      "  - {name: dc-logons, listen: 'tcp://0.0.0.0:6514', format: windows-security}\n"
                      "  - {name: vpn, listen: 'udp://0.0.0.0:514', format: samba-auth-json}\n");
  SystemClock clock;
  std::string error;
  auto store = changefeed::Store::open({dir.path() + "/state/feed"}, clock, &error);
  ASSERT_TRUE(store) << error;
  pb::IpSourceState state;
  state.set_name("dc-logons");
  state.set_listen("tcp://0.0.0.0:6514");
  state.set_received(120);
  state.set_parsed(100);
  state.set_mapped(90);
  state.set_unknown_user(4);
  state.set_ignored(6);
  state.set_dropped(2);
  state.set_started_us(1'763'926'800'000'000);  // 2025-11-23T19:40:00Z
  state.set_updated_us(1'763'926'805'000'000);
  ASSERT_TRUE(store->put_ip_source_state(state).is_ok());

  std::ostringstream out, err;
  ASSERT_EQ(run_cli({"status", "--config", config}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("ip source dc-logons\n"
                           "  listen:           tcp://0.0.0.0:6514\n"
                           "  counts since:     2025-11-23T19:40:00Z (as of 2025-11-23T19:40:05Z)\n"
                           "  received:         120\n"
                           "  parsed:           100\n"
                           "  mapped:           90\n"
                           "  unknown user:     4\n"
                           "  ignored:          6\n"
                           "  dropped:          2\n"
                           "ip source vpn\n"
                           "  not run yet\n"),
            std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace dirfeed::daemon
