#include "rest/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dirfeed::rest {
namespace {

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Integers print without a fraction; the rest in the shortest form that reads back exactly.
std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const Metrics::Labels& labels, std::string_view value) {
  out.append(name);
  out.append(suffix);
  if (!labels.empty()) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, label_value] : labels) {
      if (!first) out.push_back(',');
      first = false;
      out += key;
      out += "=\"";
      out += escape_label_value(label_value);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  out.append(value);
  out.push_back('\n');
}

const char* type_name(Metrics::Type type) {
  switch (type) {
    case Metrics::Type::kCounter: return "counter";
    case Metrics::Type::kGauge: return "gauge";
    case Metrics::Type::kSummary: return "summary";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Metrics::Family& Metrics::family(const std::string& name, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(name, Family{type, {}, {}}).first;
  return it->second;
}

void Metrics::describe(const std::string& name, Type type, std::string help) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, type);
  f.type = type;
  f.help = std::move(help);
}

void Metrics::add(const std::string& name, const Labels& labels, double amount) {
  std::lock_guard lock(mutex_);
  family(name, Type::kCounter).series[labels].value += amount;
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  family(name, Type::kGauge).series[labels].value = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  Series& series = family(name, Type::kSummary).series[labels];
  series.value += value;
  ++series.count;
}

void Metrics::remove(const std::string& name, const Labels& match) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  std::erase_if(it->second.series, [&match](const auto& entry) {
    return std::all_of(match.begin(), match.end(), [&entry](const auto& label) {
      return std::find(entry.first.begin(), entry.first.end(), label) != entry.first.end();
    });
  });
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto series = it->second.series.find(labels);
  return series == it->second.series.end() ? 0 : series->second.value;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + name + " " + type_name(f.type) + "\n";
    for (const auto& [labels, series] : f.series) {
      if (f.type == Type::kSummary) {
        append_series(out, name, "_sum", labels, format_value(series.value));
        append_series(out, name, "_count", labels, std::to_string(series.count));
      } else {
        append_series(out, name, "", labels, format_value(series.value));
      }
    }
  }
  return out;
}

}  // namespace dirfeed::rest
