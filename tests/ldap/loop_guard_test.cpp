// The loop bounds of ldap/loop_guard.hpp, fed the answers a hostile or broken DC would give.
#include "ldap/loop_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dirfeed::ldap {
namespace {

// The entry of a ranged read answered with `range` ("START-END"), one value in it.
Entry ranged(const std::string& range) {
  Entry entry;
  entry.attributes = {{"member;range=" + range, {"<GUID=00112233445566778899aabbccddeeff>;CN=a"}}};
  return entry;
}

// Drives ranged retrieval the way the poller does (take() in poller.cpp) over the DC's
// `answers` to successive reads: the first is the entry the search returned. Returns the
// first problem, or "complete" when the read ended, or "exhausted" when it wanted more
// answers than there are. `starts` receives where each next read was asked to start.
std::string read_ranges(const std::vector<std::string>& answers,
                        std::vector<int64_t>* starts = nullptr) {
  pb::ObservedObject observed;
  MemberRangeGuard guard;
  for (const std::string& answer : answers) {
    MemberRange range = take_members(ranged(answer), observed);
    if (std::string problem = guard.check(range); !problem.empty()) return problem;
    if (range.complete) return "complete";
    if (starts) starts->push_back(guard.next_start());
  }
  return "exhausted";
}

TEST(MemberRangeGuard, RangesThatFollowOnReadToTheEnd) {
  std::vector<int64_t> starts;
  EXPECT_EQ(read_ranges({"0-99", "100-199", "200-*"}, &starts), "complete");
  EXPECT_EQ(starts, (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(read_ranges({"0-*"}), "complete");
  EXPECT_EQ(read_ranges({"0-1499", "1500-2999", "3000-3000", "3001-*"}), "complete");
  // A DC may answer with fewer values than asked for: the next range starts after them.
  EXPECT_EQ(read_ranges({"0-9", "10-*"}), "complete");
}

TEST(MemberRangeGuard, TheSameRangeTwiceFails) {
  EXPECT_EQ(read_ranges({"0-99", "0-99", "0-99"}),
            "asked for member values from 100, got member;range=0-99 (a range already read)");
  EXPECT_EQ(read_ranges({"0-99", "100-199", "100-199"}),
            "asked for member values from 200, got member;range=100-199 (a range already read)");
}

TEST(MemberRangeGuard, ARangeGoingBackwardsFails) {
  EXPECT_EQ(read_ranges({"0-99", "100-199", "50-149"}),
            "asked for member values from 200, got member;range=50-149 (a range already read)");
  EXPECT_EQ(read_ranges({"0-99", "0-*"}),
            "asked for member values from 100, got member;range=0-* (a range already read)");
  EXPECT_EQ(read_ranges({"0-99", "100-50"}), "member;range=100-50 ends before it starts");
}

TEST(MemberRangeGuard, SkippedValuesFail) {
  EXPECT_EQ(read_ranges({"0-99", "150-*"}),
            "asked for member values from 100, got member;range=150-* (values skipped)");
  // The entry a search returns must start at 0 too.
  EXPECT_EQ(read_ranges({"5-99"}),
            "asked for member values from 0, got member;range=5-99 (values skipped)");
}

TEST(MemberRangeGuard, MalformedAndEndlessRangesFail) {
  EXPECT_EQ(read_ranges({"0-x"}), "malformed range member;range=0-x");
  EXPECT_EQ(read_ranges({"-*"}), "malformed range member;range=-*");
  EXPECT_EQ(read_ranges({"0"}), "malformed range member;range=0");
  // The largest END a 32-bit parse allows: once wrapped to 0 by an int, it looped forever.
  EXPECT_EQ(read_ranges({"0-4294967295"}), "member;range=0-4294967295 goes past 10000000 values");
  // Ranges that advance by one value forever: stopped after kMaxDirectoryObjects values.
  EXPECT_EQ(read_ranges({"0-9999998", "9999999-9999999", "10000000-10000000"}),
            "member;range=10000000-10000000 goes past 10000000 values");
}

TEST(MemberRangeGuard, ValuesWithoutARangeAreNotChecked) {
  Entry plain;
  plain.attributes = {{"member", {"<GUID=00112233445566778899aabbccddeeff>;CN=a"}}};
  pb::ObservedObject observed;
  MemberRange range = take_members(plain, observed);
  EXPECT_FALSE(range.ranged);
  EXPECT_TRUE(range.complete);
  MemberRangeGuard guard;
  EXPECT_EQ(guard.check(range), "");
  EXPECT_EQ(read_ranges({"0-1499"}), "exhausted");
  MemberRangeGuard after_one;
  EXPECT_EQ(after_one.check(take_members(ranged("0-1499"), observed)), "");
  EXPECT_EQ(after_one.check(MemberRange{}), "");  // nothing came back: complete
}

// Drives a DirSync stream the way the poller does (dirsync_stream in poller.cpp): `answer`
// gives the cookie and the "more data" flag of round n. Returns the problem and the round it
// came in, or the round the stream ended in without one.
struct StreamEnd {
  std::string problem;
  uint64_t round = 0;
};
template <typename Answer>
StreamEnd run_dirsync(Answer answer) {
  std::string cookie;
  for (uint64_t round = 1;; ++round) {
    auto [next_cookie, more] = answer(round);
    if (std::string problem = dirsync_round_problem(round, cookie, next_cookie, more);
        !problem.empty()) {
      return {problem, round};
    }
    if (!more) return {"", round};
    cookie = next_cookie;
  }
}

TEST(DirSyncGuard, AStreamEndsWhenTheServerHasNoMore) {
  StreamEnd end = run_dirsync([](uint64_t round) {
    return std::pair<std::string, bool>{"cookie" + std::to_string(round), round < 3};
  });
  EXPECT_EQ(end.problem, "");
  EXPECT_EQ(end.round, 3u);
  // The last round may give the cookie back unchanged (nothing new).
  EXPECT_EQ(dirsync_round_problem(2, "c", "c", false), "");
}

TEST(DirSyncGuard, EndlessMoreDataStopsAtTheBound) {
  StreamEnd end = run_dirsync([](uint64_t round) {
    return std::pair<std::string, bool>{"cookie" + std::to_string(round), true};
  });
  EXPECT_EQ(end.problem, "DirSync asked for more than 100000 rounds in one pass");
  EXPECT_EQ(end.round, kMaxDirSyncRounds);
}

TEST(DirSyncGuard, MoreDataWithTheSameCookieFailsAtOnce) {
  StreamEnd end = run_dirsync([](uint64_t round) {
    return std::pair<std::string, bool>{round == 1 ? "first" : "stuck", true};
  });
  EXPECT_EQ(end.problem,
            "DirSync asked for another round with the cookie it was sent (no progress)");
  EXPECT_EQ(end.round, 3u);  // round 2 sent "first" and got "stuck"; round 3 sent "stuck"
}

TEST(DirSyncGuard, AnEmptyCookieFails) {
  EXPECT_EQ(dirsync_round_problem(1, "", "", false), "DirSync returned an empty cookie");
  EXPECT_EQ(dirsync_round_problem(4, "c", "", true), "DirSync returned an empty cookie");
}

// A server that always offers another page: Connection::paged_search's loop stops after
// max_search_pages pages.
TEST(SearchPagesGuard, EndlessPagesStopAtTheBound) {
  EXPECT_EQ(max_search_pages(1000), 10'001u);
  EXPECT_EQ(max_search_pages(200), 50'001u);
  EXPECT_EQ(max_search_pages(3), 3'333'335u);
  EXPECT_EQ(max_search_pages(1), 10'000'001u);
  uint64_t pages = 1;
  while (search_pages_problem(pages, 1000).empty()) ++pages;
  EXPECT_EQ(pages, 10'001u);
  EXPECT_EQ(search_pages_problem(pages, 1000),
            "the server offers more than 10001 pages of 1000 (over 10000000 objects)");
}

}  // namespace
}  // namespace dirfeed::ldap
