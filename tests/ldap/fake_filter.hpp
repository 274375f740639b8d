#pragma once
// Search filters (RFC 4515) as the fake DC (fake_directory.hpp) evaluates them: and, or, not,
// equality, presence, >= and <=. Substrings, approximate and extensible matches are not
// supported: parse_filter() says so, and the fake answers with a filter error.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirfeed::ldap::testing {

struct FakeFilter {
  enum class Op { kAnd, kOr, kNot, kEqual, kPresent, kGreaterOrEqual, kLessOrEqual };
  Op op = Op::kPresent;
  std::string attribute;  // lower case
  std::string value;      // unescaped
  std::vector<FakeFilter> children;
};

// The filter in `text`, or nullopt with the reason in `error`.
std::optional<FakeFilter> parse_filter(std::string_view text, std::string& error);

// Whether an entry with `attributes` (lower-case names) matches. Values compare without regard
// to case; >= and <= compare as integers when both sides are. objectCategory=<name> matches
// the category DN whose first RDN is CN=<name>, as AD's short form does.
bool matches(const FakeFilter& filter,
             const std::map<std::string, std::vector<std::string>>& attributes);

}  // namespace dirfeed::ldap::testing
