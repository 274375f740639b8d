#include "tests/ldap/fake_filter.hpp"

#include <algorithm>
#include <charconv>

#include "core/text.hpp"

namespace dirfeed::ldap::testing {
namespace {

std::optional<int64_t> integer(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// RFC 4515 value escapes (\XX); nullopt when malformed.
std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<FakeFilter> parse(std::string& error) {
    auto filter = parse_one();
    if (filter && at_ != text_.size()) fail("text after the filter");
    if (!filter || !error_.empty()) {
      error = error_.empty() ? "malformed filter" : error_;
      error += " in " + std::string(text_);
      return std::nullopt;
    }
    return filter;
  }

 private:
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  std::optional<FakeFilter> parse_one() {
    if (at_ >= text_.size() || text_[at_] != '(') return fail("expected '('"), std::nullopt;
    ++at_;
    FakeFilter filter;
    char c = at_ < text_.size() ? text_[at_] : '\0';
    if (c == '&' || c == '|' || c == '!') {
      ++at_;
      filter.op = c == '&' ? FakeFilter::Op::kAnd
                  : c == '|' ? FakeFilter::Op::kOr
                             : FakeFilter::Op::kNot;
      while (at_ < text_.size() && text_[at_] == '(') {
        auto child = parse_one();
        if (!child) return std::nullopt;
        filter.children.push_back(std::move(*child));
      }
      if (filter.op == FakeFilter::Op::kNot && filter.children.size() != 1) {
        return fail("'!' takes one filter"), std::nullopt;
      }
    } else {
      size_t end = text_.find(')', at_);
      if (end == std::string_view::npos) return fail("unclosed item"), std::nullopt;
      if (!parse_item(text_.substr(at_, end - at_), filter)) return std::nullopt;
      at_ = end;
    }
    if (at_ >= text_.size() || text_[at_] != ')') return fail("expected ')'"), std::nullopt;
    ++at_;
    return filter;
  }

  bool parse_item(std::string_view item, FakeFilter& filter) {
    size_t equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0) return fail("no '=' in item"), false;
    std::string_view attribute = item.substr(0, equals);
    std::string_view value = item.substr(equals + 1);
    filter.op = FakeFilter::Op::kEqual;
    if (attribute.back() == '>' || attribute.back() == '<') {
      filter.op = attribute.back() == '>' ? FakeFilter::Op::kGreaterOrEqual
                                          : FakeFilter::Op::kLessOrEqual;
      attribute.remove_suffix(1);
    } else if (attribute.back() == '~' || attribute.find(':') != std::string_view::npos) {
      return fail("approximate and extensible matches are not supported"), false;
    }
    filter.attribute = lower(attribute);
    if (filter.op == FakeFilter::Op::kEqual && value == "*") {
      filter.op = FakeFilter::Op::kPresent;
      return true;
    }
    if (value.find('*') != std::string_view::npos) {
      return fail("substring matches are not supported"), false;
    }
    auto unescaped = unescape(value);
    if (!unescaped) return fail("bad escape"), false;
    filter.value = std::move(*unescaped);
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
};

bool value_matches(const FakeFilter& filter, const std::string& value) {
  if (filter.op == FakeFilter::Op::kEqual) {
    if (lower(value) == lower(filter.value)) return true;
    return filter.attribute == "objectcategory" &&
           lower(value).rfind("cn=" + lower(filter.value) + ",", 0) == 0;
  }
  auto have = integer(value);
  auto want = integer(filter.value);
  int order = have && want ? (*have < *want ? -1 : *have > *want ? 1 : 0)
                           : lower(value).compare(lower(filter.value));
  return filter.op == FakeFilter::Op::kGreaterOrEqual ? order >= 0 : order <= 0;
}

}  // namespace

std::optional<FakeFilter> parse_filter(std::string_view text, std::string& error) {
  return Parser(text).parse(error);
}

bool matches(const FakeFilter& filter,
             const std::map<std::string, std::vector<std::string>>& attributes) {
  switch (filter.op) {
    case FakeFilter::Op::kAnd:
      return std::all_of(filter.children.begin(), filter.children.end(),
                         [&](const FakeFilter& child) { return matches(child, attributes); });
    case FakeFilter::Op::kOr:
      return std::any_of(filter.children.begin(), filter.children.end(),
                         [&](const FakeFilter& child) { return matches(child, attributes); });
    case FakeFilter::Op::kNot:
      return !matches(filter.children.front(), attributes);
    default:
      break;
  }
  auto it = attributes.find(filter.attribute);
  if (it == attributes.end() || it->second.empty()) return false;
  if (filter.op == FakeFilter::Op::kPresent) return true;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& value) { return value_matches(filter, value); });
}

}  // namespace dirfeed::ldap::testing
