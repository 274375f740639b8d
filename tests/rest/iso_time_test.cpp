// ISO 8601 text <-> microseconds (rest/iso_time.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "rest/iso_time.hpp"

namespace dirfeed::rest {
namespace {

// 2026-11-23T19:30:01Z in seconds since the epoch (date -u -d ... +%s).
constexpr int64_t kSeconds = 1'795'462'201;
constexpr int64_t kMicros = kSeconds * 1'000'000;

TEST(IsoTimeTest, FormatsUtcWithSixFractionalDigits) {
  EXPECT_EQ(format_iso8601_us(kMicros + 123'456), "2026-11-23T19:30:01.123456Z");
  EXPECT_EQ(format_iso8601_us(kMicros), "2026-11-23T19:30:01.000000Z");
  EXPECT_EQ(format_iso8601_us(kMicros + 7), "2026-11-23T19:30:01.000007Z");
  EXPECT_EQ(format_iso8601_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_iso8601_us(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_iso8601_us(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(format_iso8601_us(253'402'300'799'999'999), "9999-12-31T23:59:59.999999Z");
}

TEST(IsoTimeTest, ParsesZuluWithAndWithoutFraction) {
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01Z"), kMicros);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01.5Z"), kMicros + 500'000);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01.123Z"), kMicros + 123'000);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01.123456Z"), kMicros + 123'456);
  EXPECT_EQ(parse_iso8601_us("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_us("1969-12-31T23:59:59.999999Z"), -1);
  EXPECT_EQ(parse_iso8601_us("2024-02-29T00:00:00Z"), int64_t{1'709'164'800} * 1'000'000);
}

TEST(IsoTimeTest, DigitsBeyondMicrosecondsRoundTowardThePast) {
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01.1234569Z"), kMicros + 123'456);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01.999999999Z"), kMicros + 999'999);
  EXPECT_EQ(parse_iso8601_us("1969-12-31T23:59:59.9999999Z"), -1);
}

TEST(IsoTimeTest, ParsesOffsetsToUtc) {
  EXPECT_EQ(parse_iso8601_us("2026-11-23T21:30:01+02:00"), kMicros);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T14:00:01.25-05:30"), kMicros + 250'000);
  EXPECT_EQ(parse_iso8601_us("2026-11-24T01:15:01+05:45"), kMicros) << "across midnight";
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01+00:00"), kMicros);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T19:30:01-00:00"), kMicros);
  EXPECT_EQ(parse_iso8601_us("2026-11-23T20:29:01+23:59"),
            kMicros - int64_t{23} * 3'600'000'000);
}

TEST(IsoTimeTest, FormattedTextParsesBackExactly) {
  for (const int64_t us : {kMicros + 1, kMicros + 999'999, int64_t{0}, int64_t{-1},
                           int64_t{-86'400'000'001}, int64_t{1'700'000'000'000'001}}) {
    EXPECT_EQ(parse_iso8601_us(format_iso8601_us(us)), us) << us;
  }
}

TEST(IsoTimeTest, RejectsEverythingElse) {
  for (const char* text : {
           "",
           "2026-11-23",                      // a date alone
           "2026-11-23T19:30:01",             // no offset: local time of where?
           "2026-11-23T19:30Z",               // no seconds
           "2026-11-23 19:30:01Z",            // space for T
           "2026-11-23t19:30:01Z",
           "2026-11-23T19:30:01z",
           "20261123T193001Z",                // basic format
           "2026-11-23T19:30:01.Z",           // '.' without digits
           "2026-11-23T19:30:01.1234567890Z",  // more than 9 fractional digits
           "2026-11-23T19:30:01,5Z",
           "2026-11-23T19:30:01+0200",
           "2026-11-23T19:30:01+02",
           "2026-11-23T19:30:01+24:00",
           "2026-11-23T19:30:01+02:60",
           "2026-11-23T19:30:01Z ",
           " 2026-11-23T19:30:01Z",
           "2026-11-23T19:30:01ZZ",
           "2026-13-01T00:00:00Z",
           "2026-00-01T00:00:00Z",
           "2026-02-29T00:00:00Z",            // not a leap year
           "2026-04-31T00:00:00Z",
           "2026-11-00T00:00:00Z",
           "2026-11-23T24:00:00Z",
           "2026-11-23T19:60:00Z",
           "2026-11-23T19:30:60Z",            // leap seconds are not in the feed's clock
           "+2026-11-23T19:30:01Z",
           "2026-1-23T19:30:01Z",
           "2026-11-23T19:30:0xZ",
           "yesterday",
       }) {
    EXPECT_EQ(parse_iso8601_us(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace dirfeed::rest
