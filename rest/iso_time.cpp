#include "rest/iso_time.hpp"

#include <chrono>
#include <cstdio>

namespace dirfeed::rest {
namespace {

namespace chrono = std::chrono;

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Reads `count` decimal digits at `text[at]`; nullopt unless all are digits.
std::optional<int> digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Parses the offset at the end ("Z", "+hh:mm", "-hh:mm") as seconds east of UTC.
std::optional<int64_t> offset_seconds(std::string_view text) {
  if (text == "Z") return 0;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') {
    return std::nullopt;
  }
  const std::optional<int> hours = digits(text, 1, 2);
  const std::optional<int> minutes = digits(text, 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const int64_t seconds = *hours * 3600 + *minutes * 60;
  return text[0] == '+' ? seconds : -seconds;
}

}  // namespace

std::string format_iso8601_us(int64_t us) {
  // Floor division, so instants before the epoch print their own (earlier) second.
  int64_t seconds = us / kMicrosPerSecond;
  int64_t micros = us % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --seconds;
  }
  const chrono::sys_seconds instant{chrono::seconds(seconds)};
  const chrono::sys_days day = chrono::floor<chrono::days>(instant);
  const chrono::year_month_day date(day);
  const chrono::hh_mm_ss time(instant - day);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()),
                static_cast<long long>(time.hours().count()),
                static_cast<long long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()), static_cast<long long>(micros));
  return text;
}

std::optional<int64_t> parse_iso8601_us(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS is 19 characters with separators at fixed places.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const std::optional<int> year = digits(text, 0, 4);
  const std::optional<int> month = digits(text, 5, 2);
  const std::optional<int> day = digits(text, 8, 2);
  const std::optional<int> hour = digits(text, 11, 2);
  const std::optional<int> minute = digits(text, 14, 2);
  const std::optional<int> second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  const chrono::year_month_day date{chrono::year(*year), chrono::month(*month),
                                    chrono::day(*day)};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;

  size_t at = 19;
  int64_t micros = 0;
  if (text[at] == '.') {
    const size_t first = ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    const size_t count = at - first;
    if (count == 0 || count > 9) return std::nullopt;
    for (size_t i = 0; i < 6; ++i) {
      micros = micros * 10 + (i < count ? text[first + i] - '0' : 0);
    }
  }
  const std::optional<int64_t> offset = offset_seconds(text.substr(at));
  if (!offset) return std::nullopt;

  const int64_t days = chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86'400 + *hour * 3600 + *minute * 60 + *second - *offset;
  return seconds * kMicrosPerSecond + micros;
}

}  // namespace dirfeed::rest
