#include "ldap/loop_guard.hpp"

namespace dirfeed::ldap {

uint64_t max_search_pages(int page_size) {
  const auto size = static_cast<uint64_t>(page_size > 0 ? page_size : 1);
  return (static_cast<uint64_t>(kMaxDirectoryObjects) + size - 1) / size + 1;
}

std::string search_pages_problem(uint64_t pages, int page_size) {
  const uint64_t max = max_search_pages(page_size);
  if (pages < max) return {};
  return "the server offers more than " + std::to_string(max) + " pages of " +
         std::to_string(page_size) + " (over " + std::to_string(kMaxDirectoryObjects) + " objects)";
}

std::string dirsync_round_problem(uint64_t round, std::string_view cookie_sent,
                                  std::string_view cookie_received, bool more) {
  if (cookie_received.empty()) return "DirSync returned an empty cookie";
  if (!more) return {};
  if (cookie_received == cookie_sent) {
    return "DirSync asked for another round with the cookie it was sent (no progress)";
  }
  if (round >= kMaxDirSyncRounds) {
    return "DirSync asked for more than " + std::to_string(kMaxDirSyncRounds) +
           " rounds in one pass";
  }
  return {};
}

std::string MemberRangeGuard::check(const MemberRange& answered) {
  if (!answered.ranged) return {};
  const std::string range = "member;range=" + answered.text;
  if (!answered.valid) return "malformed range " + range;
  if (answered.start != next_start_) {
    return "asked for member values from " + std::to_string(next_start_) + ", got " + range +
           (answered.start < next_start_ ? " (a range already read)" : " (values skipped)");
  }
  if (answered.complete) return {};
  if (answered.next_start <= answered.start) return range + " ends before it starts";
  if (answered.next_start > kMaxDirectoryObjects) {
    return range + " goes past " + std::to_string(kMaxDirectoryObjects) + " values";
  }
  next_start_ = answered.next_start;
  return {};
}

}  // namespace dirfeed::ldap
