// Store speed benchmark: a first sync of 5,000 users and 200 groups through apply_page, then
// the same pages again (nothing changes). Prints times; asserts only correctness. Run:
//   build/tests/bench/store_bench
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

constexpr int kUsers = 5'000;
constexpr int kGroups = 200;
constexpr int kPageSize = 1'000;

std::string numbered_guid(uint32_t kind, uint32_t number) {
  std::string guid(16, '\0');
  for (int i = 0; i < 4; ++i) {
    guid[i] = static_cast<char>(kind >> (24 - 8 * i));
    guid[4 + i] = static_cast<char>(number >> (24 - 8 * i));
  }
  return guid;
}

// Users in pages of 1000 (all with primary group 0), then 200 groups: group 1 lists every
// user, the others 25 users each.
std::vector<std::vector<pb::ObservedObject>> first_sync_pages() {
  std::vector<std::vector<pb::ObservedObject>> pages(1);
  for (int u = 0; u < kUsers; ++u) {
    if (pages.back().size() == kPageSize) pages.emplace_back();
    pb::ObservedObject& observed = pages.back().emplace_back();
    pb::DirectoryObject& user = *observed.mutable_object();
    const std::string name = "user" + std::to_string(u);
    user.set_guid(numbered_guid(1, u));
    user.set_kind(pb::USER);
    user.set_dn("CN=" + name + ",OU=People,DC=example,DC=test");
    user.set_sam_account_name(name);
    user.set_netbios_domain(kNetbios);
    user.set_sid(std::string(kDomainSid) + "-" + std::to_string(10'000 + u));
    user.set_display_name("User " + std::to_string(u));
    user.set_mail(name + "@example.test");
    user.set_primary_group_id(513);
    observed.set_primary_group_sid(std::string(kDomainSid) + "-513");
  }
  pages.emplace_back();
  for (int g = 0; g < kGroups; ++g) {
    pb::ObservedObject& observed = pages.back().emplace_back();
    pb::DirectoryObject& group = *observed.mutable_object();
    const std::string name = "group" + std::to_string(g);
    group.set_guid(numbered_guid(2, g));
    group.set_kind(pb::GROUP);
    group.set_dn("CN=" + name + ",OU=Groups,DC=example,DC=test");
    group.set_sam_account_name(name);
    group.set_netbios_domain(kNetbios);
    group.set_sid(std::string(kDomainSid) + "-" + std::to_string(g == 0 ? 513 : 20'000 + g));
    observed.set_members_known(true);
    const int members = g == 1 ? kUsers : 25;
    for (int m = 0; m < members; ++m) {
      observed.add_members(numbered_guid(1, g == 1 ? m : (g * 25 + m) % kUsers));
    }
  }
  return pages;
}

TEST_F(StoreTest, FirstSyncSpeed) {
  const auto pages = first_sync_pages();
  auto timed_sync = [&](const char* label) -> size_t {
    const auto start = std::chrono::steady_clock::now();
    size_t changes = 0;
    for (const auto& page : pages) {
      const auto page_start = std::chrono::steady_clock::now();
      CommitStats stats;
      const Status status = store_->apply_page(kDomain, page, cursor_for(kDomain), &stats);
      EXPECT_TRUE(status.is_ok()) << status.message();
      changes += stats.changes;
      std::printf("  %s page of %zu objects: %zu changes, %.1f ms\n", label, page.size(),
                  stats.changes,
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                            page_start)
                      .count());
    }
    std::printf("%s: %zu changes in %.1f ms\n", label, changes,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
    return changes;
  };
  EXPECT_GT(timed_sync("first sync"), static_cast<size_t>(kUsers + kGroups));
  EXPECT_EQ(timed_sync("unchanged re-read"), 0u);
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
