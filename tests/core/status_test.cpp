#include "core/status.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/secret_file.hpp"

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
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("dirfeed-secret-" + std::to_string(getpid()));
  std::ofstream(path) << "pa ss\r\n\n";
  const Result<std::string> secret = read_secret_file(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(secret.is_ok()) << secret.status().message();
  EXPECT_EQ(*secret, "pa ss");
  const Result<std::string> missing = read_secret_file(path.string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(missing.status().message(), "cannot read password file " + path.string());
}

}  // namespace
}  // namespace dirfeed
