#include "daemon/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <string>

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/function.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/trivial.hpp>
#include <boost/smart_ptr/make_shared_object.hpp>
#include <boost/smart_ptr/shared_ptr.hpp>

namespace dirfeed::daemon {
namespace {

namespace logging = boost::log;
namespace sinks = boost::log::sinks;
using Severity = logging::trivial::severity_level;
using Sink = sinks::synchronous_sink<sinks::text_ostream_backend>;

constexpr char kTimeAttribute[] = "DirfeedUtcTime";

Severity to_severity(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return Severity::trace;
    case LogLevel::kDebug: return Severity::debug;
    case LogLevel::kInfo: return Severity::info;
    case LogLevel::kWarning: return Severity::warning;
    case LogLevel::kError: return Severity::error;
  }
  return Severity::info;
}

// sd-daemon(3) priorities.
int syslog_priority(Severity severity) {
  switch (severity) {
    case Severity::trace:
    case Severity::debug: return 7;
    case Severity::info: return 6;
    case Severity::warning: return 4;
    case Severity::error: return 3;
    case Severity::fatal: return 2;
  }
  return 6;
}

std::string_view severity_name(Severity severity) {
  // Boost's own names, except that fatal reads like the levels the config knows.
  return severity == Severity::fatal ? "error" : logging::trivial::to_string(severity);
}

std::string iso_utc(std::chrono::system_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds).count();
  const std::time_t t = seconds.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 128> buf{};  // room for any int, which GCC checks
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros));
  return buf.data();
}

void format_record(LogStyle style, const logging::record_view& rec,
                   logging::formatting_ostream& strm) {
  const auto severity = logging::extract<Severity>("Severity", rec);
  const Severity sev = severity ? *severity : Severity::info;
  if (style == LogStyle::kJournal) {
    strm << '<' << syslog_priority(sev) << '>';
  } else if (auto when =
                 logging::extract<std::chrono::system_clock::time_point>(kTimeAttribute, rec)) {
    strm << iso_utc(*when) << ' ';
  }
  strm << severity_name(sev) << ' ';
  if (auto message = logging::extract<std::string>("Message", rec); message) {
    strm << *message;
  }
}

std::mutex sink_mutex;
boost::shared_ptr<Sink> current_sink;

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "trace") return LogLevel::kTrace;
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warning") return LogLevel::kWarning;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

LogStyle detect_log_style() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return LogStyle::kTerminal;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return LogStyle::kTerminal;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return LogStyle::kTerminal;
  if (static_cast<unsigned long long>(st.st_dev) != device ||
      static_cast<unsigned long long>(st.st_ino) != inode) {
    return LogStyle::kTerminal;
  }
  return LogStyle::kJournal;
}

void init_logging(LogLevel level) { init_logging(level, std::cerr, detect_log_style()); }

void init_logging(LogLevel level, std::ostream& out, LogStyle style) {
  auto core = logging::core::get();
  std::lock_guard lock(sink_mutex);
  if (current_sink) {
    core->remove_sink(current_sink);
    current_sink->flush();
    current_sink.reset();
  }
  core->add_global_attribute(kTimeAttribute,
                             logging::attributes::make_function(&std::chrono::system_clock::now));

  auto backend = boost::make_shared<sinks::text_ostream_backend>();
  backend->add_stream(boost::shared_ptr<std::ostream>(&out, boost::null_deleter()));
  backend->auto_flush(true);
  auto sink = boost::make_shared<Sink>(backend);
  sink->set_formatter([style](const logging::record_view& rec, logging::formatting_ostream& strm) {
    format_record(style, rec, strm);
  });
  core->set_filter(logging::trivial::severity >= to_severity(level));
  core->add_sink(sink);
  current_sink = sink;
}

}  // namespace dirfeed::daemon
