#pragma once
// Bounds on the loops that a DC's answers drive, so that a hostile or broken DC cannot keep a
// pass going forever: ranged retrieval of `member` must advance, DirSync "more data" rounds
// and the pages of a paged search are counted against named limits. Each check is a pure
// function returning what is wrong (empty: go on); the poller and Connection::paged_search
// turn a problem into an Error naming the DC, which fails the pass. Pages committed before
// stay (each one is consistent with its cursor); the poller retries after its usual backoff.
#include <cstdint>
#include <string>
#include <string_view>

#include "ldap/ad_object.hpp"

namespace dirfeed::ldap {

// The most objects (and values of one group's `member`) a domain is expected to hold: far
// more than the domains dirfeed is built for (AD allows about 2 billion objects over a DC's
// lifetime, but reading 10 million in one pass already takes hours). A DC that claims more
// is taken as broken or hostile; raise this for a larger domain. The limits below derive
// from it.
inline constexpr int64_t kMaxDirectoryObjects = 10'000'000;

// Pages one paged search may take with `page_size` (> 0): every page but the last is full,
// so kMaxDirectoryObjects entries need ceil(kMaxDirectoryObjects / page_size) pages, plus one
// for the empty last page a server may send.
uint64_t max_search_pages(int page_size);

// What is wrong once `pages` pages of a paged search of `page_size` were read and the server
// offers another (a non-empty cookie): more than max_search_pages(page_size) would be read.
std::string search_pages_problem(uint64_t pages, int page_size);

// DirSync rounds one stream may take in one pass: enough for kMaxDirectoryObjects at 100
// objects per round (a round carries as much as the server puts in one response; Samba sends
// everything in one). A legitimate stream that needs more rounds goes on in the next pass,
// from the cookie committed with its last round.
inline constexpr uint64_t kMaxDirSyncRounds = kMaxDirectoryObjects / 100;

// What is wrong with the answer to DirSync round `round` (1 for the first of the stream),
// sent with `cookie_sent` and answered with `cookie_received` and the "more data" flag `more`:
// an empty cookie; another round asked for with the very cookie that was sent (DirSync keeps
// no state on the server, so the same request would get the same answer forever); or another
// round beyond kMaxDirSyncRounds.
std::string dirsync_round_problem(uint64_t round, std::string_view cookie_sent,
                                  std::string_view cookie_received, bool more);

// Follows the ranged `member` read of one group: check() each range of values taken
// (take_members), the entry's own first, then each ranged read's, in order.
class MemberRangeGuard {
 public:
  // What is wrong with `answered`, or empty: a range that does not start where the last one
  // ended (the same range again, one going backwards, or values skipped; the first must start
  // at 0), ends before it starts, is malformed, or goes past kMaxDirectoryObjects values.
  // Values that came without a range are not checked (plain `member`: the read is complete).
  std::string check(const MemberRange& answered);
  // Where the next range must start, after a check() of an incomplete range that passed.
  int64_t next_start() const { return next_start_; }

 private:
  int64_t next_start_ = 0;
};

}  // namespace dirfeed::ldap
