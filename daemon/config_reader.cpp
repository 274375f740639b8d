#include "daemon/config_reader.hpp"

namespace dirfeed::daemon::config_reader {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t cost = lower_char(a[i - 1]) == lower_char(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return quote(node.Scalar());
    default: return "nothing";
  }
}

// The closest of `candidates` to `word`, when close enough to be a likely typo.
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  const size_t limit = word.size() <= 3 ? 1 : 2;
  std::optional<std::string_view> best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    const size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

MapReader::MapReader(Parser& parser, const YAML::Node& node, std::string path, int line,
                     std::initializer_list<std::string_view> known)
    : parser_(parser), path_(std::move(path)), line_(line) {
  const std::vector<std::string_view> known_keys(known);
  const std::string prefix = path_.empty() ? "" : path_ + ".";
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    const int line = line_of(key) != 0 ? line_of(key) : line_;
    if (!key.IsScalar()) {
      parser_.error(line, path_, "keys must be plain strings, got " + describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    Entry entry{prefix + name, line, it->second};
    if (std::find(known_keys.begin(), known_keys.end(), name) == known_keys.end()) {
      std::string message = "unknown key";
      if (auto guess = closest(name, known_keys)) {
        message += " (did you mean " + quote(*guess) + "?)";
      }
      parser_.error(entry, message);
      continue;
    }
    auto previous = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const auto& e) { return e.first == name; });
    if (previous != entries_.end()) {
      parser_.error(
          entry, "duplicate key (first set at line " + std::to_string(previous->second.line) + ")");
      continue;
    }
    parser_.record_line(entry.path, entry.line);
    entries_.emplace_back(name, std::move(entry));
  }
}

std::optional<Entry> MapReader::take(std::string_view key) const {
  for (const auto& [name, entry] : entries_) {
    if (name == key) {
      if (entry.value.IsNull()) return std::nullopt;
      return entry;
    }
  }
  return std::nullopt;
}

std::optional<Entry> MapReader::require(std::string_view key) const {
  const std::string path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  for (const auto& [name, entry] : entries_) {
    if (name == key) {
      if (!entry.value.IsNull()) return entry;
      parser_.error(entry, "required key has no value");
      return std::nullopt;
    }
  }
  parser_.error(line_, path, "required key is missing");
  return std::nullopt;
}

bool is_port(std::string_view text, bool allow_zero, uint16_t* port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535 ||
      (value == 0 && !allow_zero)) {
    return false;
  }
  if (port != nullptr) *port = static_cast<uint16_t>(value);
  return true;
}

bool has_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}

// "host:port", "[v6]:port". The host comes back without brackets.
bool split_host_port(std::string_view text, bool allow_zero_port, std::string* host,
                     uint16_t* port) {
  if (text.empty() || has_space(text)) return false;
  std::string_view h;
  std::string_view p;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
  }
  if (h.empty() || !is_port(p, allow_zero_port, port)) return false;
  if (host != nullptr) *host = std::string(h);
  return true;
}

}  // namespace dirfeed::daemon::config_reader
