#pragma once
// ISO 8601 date-times as the REST APIs exchange them: microseconds since the Unix epoch (the
// feed's clock, core/clock.hpp) to text and back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dirfeed::rest {

// UTC with exactly six fractional digits, e.g. "2026-11-23T19:30:01.123456Z": every
// microsecond has one text form, and parse_iso8601_us gives it back unchanged, so a client
// that returns a timestamp it received names exactly that instant. Times before the epoch
// are fine; years outside 0000-9999 are not meaningful here.
std::string format_iso8601_us(int64_t us);

// Parses "YYYY-MM-DDTHH:MM:SS", an optional fraction ('.' and 1 to 9 digits), then "Z" or an
// offset "+hh:mm" / "-hh:mm" (RFC 3339 with an upper-case 'T' and 'Z'), into microseconds
// since the epoch. Digits beyond the sixth are dropped, which rounds toward the past: the
// result is the last whole microsecond at or before the instant written, so "timestamp_us >
// result" means exactly "after that instant" for whole-microsecond timestamps.
// nullopt for anything else: a date alone, no offset, a space or 't' for 'T', basic format
// ("20261123T..."), impossible dates (2026-02-29), hour 24, second 60, offsets beyond 23:59.
std::optional<int64_t> parse_iso8601_us(std::string_view text);

}  // namespace dirfeed::rest
