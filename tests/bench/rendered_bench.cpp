// Write cost of the stored records (rest/stored_shapes.hpp, issue 17): the same writes into a
// store opened without a renderer (what dirfeed did before) and into one opened with the
// daemon's StoredShapes, in one run, each in a fresh store, medians of kRuns:
//   first sync  200 groups then 5,000 users in pages of 1,000 (the poller's order): group 0 is
//               every user's primary group, group 1 lists every user, group 2 the first 1,000,
//               the others 25 each
//   rename      group 2 (1,000 members) gets another DN: every member's record names it
//   join        one user joins group 1 (5,000 members): only that user is rendered again
// The writes go through Store::apply_page, not LDAP; times are the calls'. Run:
//   build/tests/bench/rendered_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "changefeed/store.hpp"
#include "rest/stored_shapes.hpp"
#include "tests/bench/directory_pages.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed {
namespace {

constexpr int kUsers = 5'000;
constexpr int kGroups = 200;
constexpr int kPageSize = 1'000;
constexpr int kRenamedMembers = 1'000;
constexpr int kRuns = 5;
constexpr int kRenames = 11;

using testing::bench_group;
using testing::bench_user;
using testing::kBenchDomain;
using testing::numbered_guid;

pb::ObservedObject group(int g, const std::string& cn) {
  const int members = g == 1 ? kUsers : g == 2 ? kRenamedMembers : g == 0 ? 0 : 25;
  return bench_group(g, cn, members, [g](int m) { return g <= 2 ? m : (g * 25 + m) % kUsers; });
}

std::vector<std::vector<pb::ObservedObject>> first_sync_pages() {
  std::vector<std::vector<pb::ObservedObject>> pages(1);
  for (int g = 0; g < kGroups; ++g) pages.back().push_back(group(g, "group" + std::to_string(g)));
  for (int u = 0; u < kUsers; ++u) {
    if (u % kPageSize == 0) pages.emplace_back();
    pages.back().push_back(bench_user(u));
  }
  return pages;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void apply(changefeed::Store& store, const std::vector<pb::ObservedObject>& page) {
  pb::Cursor cursor;
  cursor.set_domain(kBenchDomain);
  const Status status = store.apply_page(kBenchDomain, page, cursor);
  if (!status.is_ok()) {
    std::fprintf(stderr, "apply_page failed: %s\n", status.message().c_str());
    std::exit(1);
  }
}

struct Times {
  std::vector<double> sync, rename, join;
};

// One fresh store: the first sync, kRenames renames of group 2, one join to group 1.
void run(const changefeed::Renderer* renderer, Times& times) {
  const dirfeed::testing::TempDir dir;
  dirfeed::testing::ManualClock clock;
  std::string error;
  std::unique_ptr<changefeed::Store> store =
      changefeed::Store::open({.path = dir.path() + "/db", .renderer = renderer}, clock, &error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  const auto pages = first_sync_pages();
  const auto start = std::chrono::steady_clock::now();
  for (const auto& page : pages) apply(*store, page);
  times.sync.push_back(ms_since(start));

  for (int i = 0; i < kRenames; ++i) {
    const pb::ObservedObject renamed = group(2, "renamed" + std::to_string(i));
    const auto rename_start = std::chrono::steady_clock::now();
    apply(*store, {renamed});
    times.rename.push_back(ms_since(rename_start));
  }
  pb::ObservedObject joined = group(1, "group1");
  joined.add_members(numbered_guid(1, kUsers));  // not stored yet: stored below, then it joins
  pb::ObservedObject user = pages[1][0];
  user.mutable_object()->set_guid(numbered_guid(1, kUsers));
  user.mutable_object()->set_dn("CN=newcomer,OU=People,DC=example,DC=test");
  apply(*store, {user});
  const auto join_start = std::chrono::steady_clock::now();
  apply(*store, {joined});
  times.join.push_back(ms_since(join_start));
}

}  // namespace
}  // namespace dirfeed

int main() {
  using namespace dirfeed;
  const rest::StoredShapes shapes({{kBenchDomain, "DC=example,DC=test", "EXAMPLE"}});
  Times without, with;
  for (int r = 0; r < kRuns; ++r) {
    run(nullptr, without);
    run(&shapes, with);
  }
  std::printf("%d runs each, alternating; medians\n", kRuns);
  std::printf("%-44s %12s %12s %8s\n", "write", "no records", "records", "ratio");
  const auto row = [](const char* name, const std::vector<double>& a, const std::vector<double>& b) {
    std::printf("%-44s %9.2f ms %9.2f ms %8.2f\n", name, median(a), median(b), median(b) / median(a));
  };
  row("first sync (5,000 users, 200 groups)", without.sync, with.sync);
  row("rename of a 1,000-member group", without.rename, with.rename);
  row("one user joins a 5,000-member group", without.join, with.join);
  return 0;
}
