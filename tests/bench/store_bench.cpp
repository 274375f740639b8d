// Store speed benchmark: a first sync of 5,000 users and 200 groups through apply_page, then
// the same pages again (nothing changes). Prints times; asserts only correctness. Run:
//   build/tests/bench/store_bench
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tests/bench/directory_pages.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

constexpr int kUsers = 5'000;
constexpr int kGroups = 200;
constexpr int kPageSize = 1'000;

// Users in pages of 1000 (all with primary group 0), then 200 groups: group 1 lists every
// user, the others 25 users each.
std::vector<std::vector<pb::ObservedObject>> first_sync_pages() {
  std::vector<std::vector<pb::ObservedObject>> pages(1);
  for (int u = 0; u < kUsers; ++u) {
    if (pages.back().size() == kPageSize) pages.emplace_back();
    pages.back().push_back(dirfeed::testing::bench_user(u));
  }
  pages.emplace_back();
  for (int g = 0; g < kGroups; ++g) {
    pages.back().push_back(dirfeed::testing::bench_group(
        g, "group" + std::to_string(g), g == 1 ? kUsers : 25,
        [g](int m) { return g == 1 ? m : (g * 25 + m) % kUsers; }));
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
