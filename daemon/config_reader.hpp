#pragma once
// The YAML reading engine of the config file (daemon/config.cpp and the readers of its
// sections): typed values, mappings whose keys come from a fixed list, and every error with
// file, line and key path, plus typo hints. Internal to daemon/ (it exposes yaml-cpp).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/text.hpp"
#include "daemon/config.hpp"

namespace dirfeed::daemon::config_reader {

// `text` in double quotes, with '"' and '\\' escaped.
std::string quote(std::string_view text);
// The 1-based line a node was written on; 0 when unknown.
int line_of(const YAML::Node& node);
// "a list", "a mapping", the quoted scalar, or "nothing".
std::string describe(const YAML::Node& node);
// Whether `text` is a port number (1..65535; 0 too with allow_zero), stored in *port.
bool is_port(std::string_view text, bool allow_zero, uint16_t* port);
// Whether `text` holds white space.
bool has_space(std::string_view text);
// "host:port", "[v6]:port". The host comes back without brackets.
bool split_host_port(std::string_view text, bool allow_zero_port, std::string* host,
                     uint16_t* port);
// The closest of `candidates` to `word`, when close enough to be a likely typo.
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates);

// One key of a mapping, or one item of a list, with where it was written.
struct Entry {
  std::string path;  // "domains[0].sync.interval"
  int line = 0;      // 1-based line of the key (of the item, in a list)
  YAML::Node value;
};

class Parser;

// A mapping whose keys must all come from a fixed list. Unknown and duplicate keys are
// reported when it is constructed.
class MapReader {
 public:
  // `line` is where the mapping's own key is written: missing keys are reported there.
  MapReader(Parser& parser, const YAML::Node& node, std::string path, int line,
            std::initializer_list<std::string_view> known);

  // The entry for `key` (which must be one of the known keys), or nullopt when the key is
  // absent or has a null value, meaning "use the default".
  std::optional<Entry> take(std::string_view key) const;
  // Like take(), but a missing or null key is an error.
  std::optional<Entry> require(std::string_view key) const;

 private:
  Parser& parser_;
  std::string path_;
  int line_;
  std::vector<std::pair<std::string, Entry>> entries_;
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string key, std::string message) {
    errors_.push_back(ConfigError{file_, line, std::move(key), std::move(message)});
  }
  void error(const Entry& entry, std::string message) {
    error(entry.line, entry.path, std::move(message));
  }
  void record_line(const std::string& path, int line) { lines_.emplace(path, line); }
  std::optional<int> line_of_key(std::string_view path) const {
    const auto it = lines_.find(path);
    return it == lines_.end() ? std::nullopt : std::optional<int>(it->second);
  }

  std::vector<ConfigError> take_errors() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
    return std::move(errors_);
  }
  std::map<std::string, int, std::less<>> take_lines() { return std::move(lines_); }

  // Typed readers: each reports what is wrong with the entry and returns nullopt, or
  // returns the value.

  std::optional<std::string> string_value(const Entry& e) {
    if (!e.value.IsScalar()) {
      error(e, "expected a string, got " + describe(e.value));
      return std::nullopt;
    }
    return e.value.Scalar();
  }

  std::optional<std::string> non_empty_string(const Entry& e) {
    auto s = string_value(e);
    if (s && s->empty()) {
      error(e, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> absolute_path(const Entry& e) {
    auto s = non_empty_string(e);
    if (s && s->front() != '/') {
      error(e, quote(*s) + " is not an absolute path");
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> bool_value(const Entry& e) {
    if (e.value.IsScalar()) {
      const std::string s = lower(e.value.Scalar());
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    error(e, describe(e.value) + " is not a boolean (use true or false)");
    return std::nullopt;
  }

  std::optional<long long> int_value(const Entry& e, long long min, long long max) {
    if (!e.value.IsScalar()) {
      error(e, "expected an integer, got " + describe(e.value));
      return std::nullopt;
    }
    const std::string& s = e.value.Scalar();
    long long n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
      error(e, quote(s) + " is not an integer");
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || n < min || n > max) {
      std::string range = max == std::numeric_limits<long long>::max()
                              ? "at least " + std::to_string(min)
                              : std::to_string(min) + ".." + std::to_string(max);
      error(e, s + " is out of range (" + range + ")");
      return std::nullopt;
    }
    return n;
  }

  std::optional<std::chrono::seconds> duration_value(const Entry& e) {
    auto s = string_value(e);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) {
      std::string message = quote(*s) + " is not a duration (use s, m, h, d)";
      if (!s->empty() && s->size() < 10 &&
          std::all_of(s->begin(), s->end(), [](unsigned char c) { return std::isdigit(c); })) {
        message += "; did you mean " + quote(*s + "s") + "?";
      }
      error(e, message);
      return std::nullopt;
    }
    if (d->count() == 0) {
      error(e, "must be longer than 0s");
      return std::nullopt;
    }
    return d;
  }

  // One of `choices`, exactly as written there.
  std::optional<std::string> enum_value(const Entry& e,
                                        const std::vector<std::string_view>& choices) {
    auto s = string_value(e);
    if (!s) return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
    std::string list;
    for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
    std::string message = quote(*s) + " is not one of " + list;
    if (auto guess = closest(*s, choices)) message += " (did you mean " + quote(*guess) + "?)";
    error(e, message);
    return std::nullopt;
  }

  std::optional<std::vector<Entry>> list(const Entry& e) {
    if (!e.value.IsSequence()) {
      error(e, "expected a list, got " + describe(e.value));
      return std::nullopt;
    }
    std::vector<Entry> items;
    for (size_t i = 0; i < e.value.size(); ++i) {
      const YAML::Node item = e.value[i];
      Entry entry{e.path + "[" + std::to_string(i) + "]", line_of(item), item};
      if (entry.line == 0) entry.line = e.line;
      record_line(entry.path, entry.line);
      items.push_back(std::move(entry));
    }
    return items;
  }

  std::optional<MapReader> map(const Entry& e, std::initializer_list<std::string_view> known) {
    if (!e.value.IsMap()) {
      error(e, "expected a mapping, got " + describe(e.value));
      return std::nullopt;
    }
    return MapReader(*this, e.value, e.path, e.line, known);
  }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::map<std::string, int, std::less<>> lines_;
};

}  // namespace dirfeed::daemon::config_reader
