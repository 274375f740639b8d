#include "core/status.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/secret_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed {
namespace {

TEST(Status, OkOrACodeAndAMessage) {
  const Status ok = Status::ok();
  EXPECT_TRUE(ok.is_ok());
  EXPECT_EQ(ok.code(), StatusCode::kOk);
  EXPECT_EQ(ok.message(), "");
  const Status failed = Status::error("disk full");
  EXPECT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.code(), StatusCode::kInternal) << "the default code";
  EXPECT_EQ(failed.message(), "disk full");
  EXPECT_EQ(Status::error("no such user", StatusCode::kNotFound).code(), StatusCode::kNotFound);
}

TEST(Result, HoldsAValueOrTheStatusOfWhyNot) {
  Result<std::string> value = std::string("secret");
  ASSERT_TRUE(value.is_ok());
  EXPECT_TRUE(value.status().is_ok());
  EXPECT_EQ(*value, "secret");
  EXPECT_EQ(value->size(), 6u);
  const Result<std::string> missing = Status::error("gone", StatusCode::kUnavailable);
  EXPECT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(missing.status().message(), "gone");
}

TEST(SecretFile, DropsTrailingNewlinesAndNamesAFileItCannotRead) {
  const testing::TempDir dir;
  const Result<std::string> secret = read_secret_file(dir.write("pw", "pa ss\r\n\n"));
  ASSERT_TRUE(secret.is_ok()) << secret.status().message();
  EXPECT_EQ(*secret, "pa ss");
  const std::string absent = dir.path() + "/absent";
  const Result<std::string> missing = read_secret_file(absent);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(missing.status().message(), "cannot read password file " + absent);
}

}  // namespace
}  // namespace dirfeed
