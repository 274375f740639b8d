#include "daemon/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/log/trivial.hpp>

namespace dirfeed::daemon {
namespace {

class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Stop writing into this test's stream before it goes away.
    init_logging(LogLevel::kWarning, std::cerr, LogStyle::kTerminal);
  }
  std::ostringstream out_;
};

TEST_F(LoggingTest, TerminalLinesHaveATimestamp) {
  init_logging(LogLevel::kInfo, out_, LogStyle::kTerminal);
  BOOST_LOG_TRIVIAL(info) << "domain example.test: bound to " << "ldaps://dc1";
  const std::string text = out_.str();
  EXPECT_TRUE(std::regex_match(
      text,
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z info domain example\.test: bound to ldaps://dc1\n)")))
      << text;
}

TEST_F(LoggingTest, JournalLinesHaveAPriorityAndNoTimestamp) {
  init_logging(LogLevel::kTrace, out_, LogStyle::kJournal);
  BOOST_LOG_TRIVIAL(trace) << "t";
  BOOST_LOG_TRIVIAL(debug) << "d";
  BOOST_LOG_TRIVIAL(info) << "i";
  BOOST_LOG_TRIVIAL(warning) << "w";
  BOOST_LOG_TRIVIAL(error) << "e";
  BOOST_LOG_TRIVIAL(fatal) << "f";
  EXPECT_EQ(out_.str(),
            "<7>trace t\n<7>debug d\n<6>info i\n<4>warning w\n<3>error e\n<2>error f\n");
}

TEST_F(LoggingTest, LevelFilters) {
  init_logging(LogLevel::kWarning, out_, LogStyle::kJournal);
  BOOST_LOG_TRIVIAL(debug) << "hidden";
  BOOST_LOG_TRIVIAL(info) << "hidden";
  BOOST_LOG_TRIVIAL(warning) << "shown";
  BOOST_LOG_TRIVIAL(error) << "shown too";
  EXPECT_EQ(out_.str(), "<4>warning shown\n<3>error shown too\n");
}

TEST_F(LoggingTest, ReinitReplacesTheSink) {
  std::ostringstream first;
  init_logging(LogLevel::kInfo, first, LogStyle::kJournal);
  BOOST_LOG_TRIVIAL(info) << "one";
  init_logging(LogLevel::kDebug, out_, LogStyle::kJournal);
  BOOST_LOG_TRIVIAL(debug) << "two";
  EXPECT_EQ(first.str(), "<6>info one\n");
  EXPECT_EQ(out_.str(), "<7>debug two\n");
}

TEST(LogLevelTest, ParseAndPrint) {
  for (LogLevel level : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                         LogLevel::kError}) {
    EXPECT_EQ(parse_log_level(to_string(level)), level);
  }
  EXPECT_EQ(to_string(LogLevel::kWarning), "warning");
  EXPECT_EQ(parse_log_level("warn"), std::nullopt);
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
}

class LogStyleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* value = std::getenv("JOURNAL_STREAM")) saved_ = value;
  }
  void TearDown() override {
    if (saved_) {
      setenv("JOURNAL_STREAM", saved_->c_str(), 1);
    } else {
      unsetenv("JOURNAL_STREAM");
    }
  }
  std::optional<std::string> saved_;
};

TEST_F(LogStyleTest, FollowsJournalStream) {
  unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(detect_log_style(), LogStyle::kTerminal);

  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_EQ(detect_log_style(), LogStyle::kJournal);

  // Inherited from a parent whose stderr was the journal, but ours is not.
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_EQ(detect_log_style(), LogStyle::kTerminal);

  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_EQ(detect_log_style(), LogStyle::kTerminal);
}

}  // namespace
}  // namespace dirfeed::daemon
