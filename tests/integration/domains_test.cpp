// Two domains in one daemon (issue 12 item 4): the real `dirfeed run` with two Samba DCs of
// two different realms, EXAMPLE.TEST and OTHER.TEST, polled at once. Both are synced, the
// User ID API's domain filter separates them (a sAMAccountName in both stays two users), a
// change in one counts and shows in that domain only, and with one DC down the other domain
// stays fresh.
#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

// The rest of each domain's `sync:`: both domains pass every second.
constexpr char kSync[] = "      strategy: usn\n      interval: 1s\n";

std::string seed_ldif(const SambaDc& dc, const std::vector<std::string>& users) {
  const std::string staff = "OU=Staff," + dc.base_dn();
  std::string ldif = "dn: " + staff + "\nchangetype: add\nobjectClass: organizationalUnit\n";
  for (const std::string& user : users) {
    ldif += "\ndn: CN=" + user + "," + staff + "\nchangetype: add\nobjectClass: user\n"
            "sAMAccountName: " + user + "\n";
  }
  return ldif;
}

// dirfeed_changes_total of `domain` in the daemon's /metrics, -1 when absent.
long changes_total(uint16_t port, const std::string& domain) {
  const Reply metrics = call(port, boost::beast::http::verb::get, "/metrics");
  std::smatch match;
  const std::regex line("\ndirfeed_changes_total\\{domain=\"" +
                        std::regex_replace(domain, std::regex("\\."), "\\.") + "\"\\} (\\d+)\n");
  if (!std::regex_search(metrics.body, match, line)) return -1;
  return std::stol(match[1].str());
}

std::string users_of(uint16_t port, const std::string& domain) {
  return call(port, boost::beast::http::verb::get,
              "/api/uid/v1.0/users?ip_only=false&domain=" + domain)
      .body;
}

bool lists(const std::string& body, const std::string& dn) {
  return body.find("\"" + dn + "\"") != std::string::npos;
}

TEST(DomainsIntegrationTest, TwoDomainsSyncApartInOneDaemon) {
  SambaDc& example = shared_dc();  // EXAMPLE.TEST on 127.0.0.11
  SambaDc other(std::string(DIRFEED_BINARY_DIR) + "/samba/domains-other", "127.0.0.13",
                "OTHER.TEST");
  other.reset();
  ASSERT_EQ(other.base_dn(), "DC=other,DC=test");
  ASSERT_EQ(other.uri(), "ldaps://dc1.other.test");
  example.ldif(seed_ldif(example, {"alice", "bob"}));
  other.ldif(seed_ldif(other, {"alice", "carol"}));
  const std::string example_staff = "OU=Staff," + example.base_dn();
  const std::string other_staff = "OU=Staff," + other.base_dn();

  TempDir dir;
  write_text(dir.path() + "/example.password", example.admin_password(), 0600);
  write_text(dir.path() + "/other.password", other.admin_password(), 0600);
  const std::string config = dir.path() + "/dirfeed.yaml";
  write_text(config, "state_dir: " + dir.path() + "/state\n"
                     "domains:\n" +
                         domain_yaml(example, dir.path() + "/example.password") + kSync +
                         domain_yaml(other, dir.path() + "/other.password") + kSync +
                         "api:\n  listen: 127.0.0.1:0\n  anonymous_read: true\n"
                         "  users_file: " + dir.path() + "/api-users\n"
                         "  keys_file: " + dir.path() + "/api-keys\n");
  const std::string log_path = dir.path() + "/run.log";
  std::optional<Process> daemon;
  const uint16_t port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);

  // Both synced; each domain filter lists its own users only (alice is two users).
  const std::string example_users = users_of(port, "example.test");
  const std::string other_users = users_of(port, "other.test");
  EXPECT_TRUE(lists(example_users, "CN=alice," + example_staff)) << example_users;
  EXPECT_TRUE(lists(example_users, "CN=bob," + example_staff)) << example_users;
  EXPECT_FALSE(lists(example_users, "CN=alice," + other_staff)) << example_users;
  EXPECT_FALSE(lists(example_users, "CN=carol," + other_staff)) << example_users;
  EXPECT_TRUE(lists(other_users, "CN=alice," + other_staff)) << other_users;
  EXPECT_TRUE(lists(other_users, "CN=carol," + other_staff)) << other_users;
  EXPECT_FALSE(lists(other_users, "CN=bob," + example_staff)) << other_users;
  EXPECT_EQ(users_of(port, "DC=other,DC=test"), other_users) << "the filter takes a base DN too";

  // Quiet directories: the counts of the first syncs stand still.
  long example_changes = 0, other_changes = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        const long e = changes_total(port, "example.test");
        const long o = changes_total(port, "other.test");
        const bool settled = e > 0 && o > 0 && e == example_changes && o == other_changes;
        example_changes = e;
        other_changes = o;
        return settled;
      },
      30s, 1500ms))
      << read_text(log_path);

  // Twelve users added to example.test in three waves, while both domains pass every second:
  // example.test counts two changes each (the user's add, and its membership of Domain Users,
  // its primary group), other.test none (each pass counts its own domain's).
  constexpr long kPerUser = 2;
  for (const char* wave : {"w1x", "w2x", "w3x"}) {
    example.add_users(example_staff, wave, 4);
    std::this_thread::sleep_for(700ms);
  }
  ASSERT_TRUE(wait_until(
      [&] { return changes_total(port, "example.test") >= example_changes + 12 * kPerUser; },
      30s, 200ms))
      << read_text(log_path);
  std::this_thread::sleep_for(2500ms);  // both domains pass again
  EXPECT_EQ(changes_total(port, "example.test"), example_changes + 12 * kPerUser)
      << read_text(log_path);
  EXPECT_EQ(changes_total(port, "other.test"), other_changes) << read_text(log_path);
  EXPECT_TRUE(lists(users_of(port, "example.test"), "CN=w3x0004," + example_staff));
  EXPECT_EQ(users_of(port, "other.test"), other_users);

  // other.test's DC goes down: its passes fail (logged with the DC's name), example.test
  // stays fresh.
  other.stop();
  ASSERT_TRUE(wait_until(
      [&] {
        return !lines_with(read_text(log_path), {"domain other.test", "dc1.other.test", "failed"})
                    .empty();
      },
      30s, 200ms))
      << read_text(log_path);
  example.add_users(example_staff, "late", 1);
  EXPECT_TRUE(wait_until(
      [&] { return lists(users_of(port, "example.test"), "CN=late0001," + example_staff); },
      10s, 100ms))
      << read_text(log_path);
  // (The pass's metrics follow its commit.)
  EXPECT_TRUE(wait_until(
      [&] { return changes_total(port, "example.test") == example_changes + 13 * kPerUser; },
      5s, 100ms))
      << changes_total(port, "example.test");
  EXPECT_EQ(changes_total(port, "other.test"), other_changes);
  EXPECT_EQ(users_of(port, "other.test"), other_users) << "the last good state is served";

  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}

}  // namespace
}  // namespace dirfeed::testing
