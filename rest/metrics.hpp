#pragma once
// A small thread-safe metrics registry rendered in the Prometheus text exposition format
// (version 0.0.4) for GET /metrics (DESIGN.md section 9).
//
// A family (one metric name) is a counter, a gauge or a summary (_sum and _count only, no
// quantiles); its series are told apart by labels. Labels are kept in the order given:
// callers pass the same label names in the same order for one family, and the output is
// sorted by family name, then by label values, so it is stable between scrapes. Label values
// are escaped as the format asks (backslash, double quote, newline); HELP text escapes
// backslash and newline.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dirfeed::rest {

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kSummary };
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Declares a family: its HELP text and TYPE. A family used before (or without) being
  // described gets the type of its first use and no HELP line. Describing again replaces the
  // help and type, keeping the series.
  void describe(const std::string& name, Type type, std::string help);

  // Counter: adds `amount` (>= 0) to the series, creating it at 0 first.
  void add(const std::string& name, const Labels& labels, double amount = 1);
  // Gauge: sets the series to `value`.
  void set(const std::string& name, const Labels& labels, double value);
  // Summary: adds `value` to name_sum and 1 to name_count.
  void observe(const std::string& name, const Labels& labels, double value);
  // Drops every series of `name` whose labels include all of `match` (e.g. {{"domain", d}}).
  void remove(const std::string& name, const Labels& match);

  // The value of one series (a summary's: its sum); 0 when absent. For tests and callers.
  double value(const std::string& name, const Labels& labels) const;

  // Every family in the text format, sorted by name.
  std::string render() const;

 private:
  struct Series {
    double value = 0;  // counter and gauge value, summary sum
    uint64_t count = 0;  // summary count
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<Labels, Series> series;
  };

  Family& family(const std::string& name, Type type);  // mutex_ held

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

// Content-Type of the text format.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace dirfeed::rest
