#include "ipsource/syslog.hpp"

#include <algorithm>
#include <cctype>

namespace dirfeed::ipsource {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Drops the first token (up to a space) and the space; false when there is no space.
bool skip_token(std::string_view& text) {
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return false;
  text.remove_prefix(space + 1);
  return true;
}

// RFC 5424 STRUCTURED-DATA: "-" or [..][..] with \" \] \\ escapes inside values. Leaves
// `text` after it and its space; false when malformed.
bool skip_structured_data(std::string_view& text) {
  if (text.starts_with("-")) {
    text.remove_prefix(1);
  } else {
    size_t i = 0;
    while (i < text.size() && text[i] == '[') {
      bool quoted = false;
      for (++i; i < text.size(); ++i) {
        if (quoted && text[i] == '\\') {
          ++i;
        } else if (text[i] == '"') {
          quoted = !quoted;
        } else if (!quoted && text[i] == ']') {
          break;
        }
      }
      if (i >= text.size()) return false;
      ++i;
    }
    if (i == 0) return false;
    text.remove_prefix(i);
  }
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return true;
}

// "Mmm dd hh:mm:ss " or "Mmm  d hh:mm:ss " (RFC 3164 TIMESTAMP).
bool skip_bsd_timestamp(std::string_view& text) {
  if (text.size() < 16 || text[3] != ' ' || text[6] != ' ' || text[9] != ':' ||
      text[12] != ':' || text[15] != ' ') {
    return false;
  }
  if (!std::isalpha(static_cast<unsigned char>(text[0]))) return false;
  text.remove_prefix(16);
  return true;
}

}  // namespace

void StreamFramer::feed(std::string_view bytes, const Sink& sink) {
  buffer_.append(bytes);
  size_t pos = 0;
  while (pos < buffer_.size()) {
    const std::string_view rest = std::string_view(buffer_).substr(pos);
    if (skip_ > 0) {
      const size_t n = std::min(skip_, rest.size());
      skip_ -= n;
      pos += n;
      continue;
    }
    if (skip_line_) {
      const size_t lf = rest.find('\n');
      if (lf == std::string_view::npos) {
        pos = buffer_.size();
        break;
      }
      skip_line_ = false;
      pos += lf + 1;
      continue;
    }
    if (rest.front() == '\n' || rest.front() == '\r') {  // empty lines between frames
      ++pos;
      continue;
    }
    // Octet counting: up to 6 digits then a space (kMaxMessageSize has 5).
    size_t digits = 0;
    while (digits < rest.size() && digits < 7 && is_digit(rest[digits])) ++digits;
    if (digits > 0 && digits == rest.size() && digits < 7) break;  // wait for more
    if (digits > 0 && digits < 7 && rest[digits] == ' ' && rest.front() != '0') {
      size_t length = 0;
      for (size_t i = 0; i < digits; ++i) length = length * 10 + (rest[i] - '0');
      if (length > kMaxMessageSize) {
        ++oversized_;
        skip_ = length;
        pos += digits + 1;
        continue;
      }
      if (rest.size() < digits + 1 + length) break;  // wait for the rest of it
      sink(rest.substr(digits + 1, length));
      pos += digits + 1 + length;
      continue;
    }
    const size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) {
      if (rest.size() > kMaxMessageSize) {
        ++oversized_;
        skip_line_ = true;
        pos = buffer_.size();
      }
      break;
    }
    std::string_view line = rest.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxMessageSize) {
      ++oversized_;
    } else {
      sink(line);
    }
    pos += lf + 1;
  }
  buffer_.erase(0, pos);
}

std::string_view syslog_msg(std::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                              message.back() == '\0')) {
    message.remove_suffix(1);
  }
  std::string_view text = message;
  if (text.starts_with("<")) {
    size_t i = 1;
    while (i < text.size() && i <= 4 && is_digit(text[i])) ++i;
    if (i > 1 && i < text.size() && text[i] == '>') text.remove_prefix(i + 1);
  }
  const std::string_view after_pri = text;

  // RFC 5424: VERSION (1-3 digits) SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD
  size_t version = 0;
  while (version < text.size() && version < 3 && is_digit(text[version])) ++version;
  if (version > 0 && version < text.size() && text[version] == ' ' && text.front() != '0') {
    std::string_view rest = text.substr(version + 1);
    bool ok = true;
    for (int field = 0; field < 5 && ok; ++field) ok = skip_token(rest);
    if (ok && skip_structured_data(rest)) {
      if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);
      return rest;
    }
  }

  // RFC 3164: TIMESTAMP SP HOSTNAME SP TAG[...]: MSG
  std::string_view rest = text;
  if (skip_bsd_timestamp(rest) && skip_token(rest)) {
    size_t tag = 0;
    while (tag < rest.size() && tag <= 48 &&
           (std::isalnum(static_cast<unsigned char>(rest[tag])) || rest[tag] == '_' ||
            rest[tag] == '-' || rest[tag] == '.' || rest[tag] == '/')) {
      ++tag;
    }
    std::string_view after = rest.substr(tag);
    if (tag > 0 && after.starts_with("[")) {
      const size_t close = after.find(']');
      if (close != std::string_view::npos) after.remove_prefix(close + 1);
    }
    if (tag > 0 && after.starts_with(":")) {
      after.remove_prefix(1);
      if (after.starts_with(" ")) after.remove_prefix(1);
      return after;
    }
    return rest;
  }
  return after_pri;
}

}  // namespace dirfeed::ipsource
