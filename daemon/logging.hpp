#pragma once
// Process-wide logging: one Boost.Log sink on stderr, where journald picks it up.
//
// The contract for every module (ldap/, changefeed/, rest/, daemon/):
//
//   * Log with Boost.Log's trivial logger, and nothing else:
//
//       #include <boost/log/trivial.hpp>
//
//       BOOST_LOG_TRIVIAL(warning) << "domain " << name << ": DC " << uri << " failed: " << why;
//
//     A line starts with what it is about, in the words an admin knows: "domain D: ",
//     "api: ", "ip source S: ", "webhook ...", "feed retention: ". Modules link Boost::log;
//     they never include this header and never depend on daemon/.
//   * Levels: trace, debug, info, warning, error (fatal is printed like error).
//   * Never log secrets: passwords, API keys, Authorization headers.
//   * Until init_logging() runs, Boost.Log's default sink prints everything to the console;
//     daemon/ calls init_logging() once config is loaded, before any module starts.
//
// Output, one line per record:
//   terminal:  2025-01-31T12:00:00.123456Z info domain example.test: full sync done on ...
//   journal:   <6>info domain example.test: full sync done on ...
// Under journald (stderr is the stream named by $JOURNAL_STREAM) there is no timestamp (the
// journal has its own) and a `<N>` syslog priority prefix, which journald turns into the
// record's PRIORITY, so `journalctl -p warning` works.
#include <optional>
#include <ostream>
#include <string_view>

namespace dirfeed::daemon {

enum class LogLevel { kTrace, kDebug, kInfo, kWarning, kError };

// "trace" | "debug" | "info" | "warning" | "error" (exactly, lower case); nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

enum class LogStyle {
  kTerminal,  // ISO 8601 UTC timestamp first
  kJournal,   // `<N>` priority prefix, no timestamp
};

// kJournal when $JOURNAL_STREAM is set and names the device:inode of the current stderr (as
// sd_journal_stream_fd(3) documents), kTerminal otherwise.
LogStyle detect_log_style();

// Replaces the sink installed by an earlier call (so it may be called again, e.g. by tests),
// and drops records below `level`. Thread-safe to log from any thread afterwards; the sink
// writes synchronously and flushes every record.
void init_logging(LogLevel level);  // stderr, detect_log_style()

// Same, writing to `out`, which must outlive logging (until the next init_logging call).
void init_logging(LogLevel level, std::ostream& out, LogStyle style);

}  // namespace dirfeed::daemon
