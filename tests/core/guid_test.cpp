#include "core/guid.hpp"

#include <gtest/gtest.h>

#include "core/base64.hpp"

namespace dirfeed {
namespace {

const std::string kBytes("\xd1\x07\x3b\x28\x4a\x5b\x6c\x7d\x8e\x9f\xa0\xb1\xc2\xd3\xe4\xf5", 16);

TEST(Guid, StringFormSwapsTheFirstThreeFields) {
  EXPECT_EQ(guid_to_string(kBytes), "283b07d1-5b4a-7d6c-8e9f-a0b1c2d3e4f5");
}

TEST(Guid, ParsesStringFormInAnyCaseAndWithBraces) {
  EXPECT_EQ(guid_from_text("283b07d1-5b4a-7d6c-8e9f-a0b1c2d3e4f5"), kBytes);
  EXPECT_EQ(guid_from_text("283B07D1-5B4A-7D6C-8E9F-A0B1C2D3E4F5"), kBytes);
  EXPECT_EQ(guid_from_text("{283b07d1-5b4a-7d6c-8e9f-a0b1c2d3e4f5}"), kBytes);
}

TEST(Guid, ParsesBase64OfTheWireBytes) {
  // The User ID Service document's example.
  auto bytes = guid_from_text("0CjIDqJm10aFwiTUc0094w==");
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(guid_to_string(*bytes), "0ec828d0-66a2-46d7-85c2-24d4734d3de3");
  EXPECT_EQ(base64_encode(*bytes), "0CjIDqJm10aFwiTUc0094w==");
}

TEST(Guid, RejectsMalformedText) {
  EXPECT_FALSE(guid_from_text(""));
  EXPECT_FALSE(guid_from_text("283b07d1-5b4a-7d6c-8e9f-a0b1c2d3e4f"));
  EXPECT_FALSE(guid_from_text("283b07d1x5b4a-7d6c-8e9f-a0b1c2d3e4f5"));
  EXPECT_FALSE(guid_from_text("g83b07d1-5b4a-7d6c-8e9f-a0b1c2d3e4f5"));
  EXPECT_FALSE(guid_from_text("AAAA"));           // base64 of 3 bytes, not 16
  EXPECT_FALSE(guid_from_text("0CjIDqJm10aFwiTUc0094w="));  // bad padding
}

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << i;
    data.push_back(static_cast<char>(i * 37));
  }
  EXPECT_FALSE(base64_decode("A=AA"));
}

}  // namespace
}  // namespace dirfeed
