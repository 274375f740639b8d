#pragma once
// Small text helpers shared inside rest/.
#include <string_view>
#include <vector>

namespace dirfeed::rest {

// The parts of `text` between `separator`s, empty parts included ("a::b" -> a, "", b); views
// into `text`.
inline std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace dirfeed::rest
