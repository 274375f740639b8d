// parse_json benchmark (not part of ctest; see docs/benchmarks.md): how long one request body
// at the size limit (JsonLimits::max_size, 1 MiB) takes to parse when it is one object of
// distinct members, the shape that made duplicate-name detection quadratic. Two key shapes:
//   short   "k0000000": 0, ...        (~80,000 members)
//   prefix  the same keys after a shared 100-byte prefix (~9,000 members): every name
//           comparison walks the prefix first
// Prints the median and the slowest of --runs parses (default 9) per shape. Run:
//   build/tests/bench/json_bench [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rest/json.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;

// One JSON object of distinct members "<prefix>k<number>": 0, as large as fits in `limit`.
std::string distinct_members(const std::string& prefix, size_t limit, size_t& members) {
  std::string body = "{";
  members = 0;
  while (true) {
    char key[32];
    std::snprintf(key, sizeof key, "k%07zu", members);
    const std::string member = (members ? "," : "") + ("\"" + prefix + key + "\":0");
    if (body.size() + member.size() + 1 > limit) break;
    body += member;
    ++members;
  }
  return body + "}";
}

void run(const char* name, const std::string& prefix, int runs) {
  const dirfeed::rest::JsonLimits limits;
  size_t members = 0;
  const std::string body = distinct_members(prefix, limits.max_size, members);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    std::string error;
    const auto started = SteadyClock::now();
    const auto parsed = dirfeed::rest::parse_json(body, &error, limits);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count());
    if (!parsed || parsed->object().size() != members) {
      std::fprintf(stderr, "json_bench: %s: parse failed: %s\n", name, error.c_str());
      std::exit(1);
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-7s %8zu bytes %7zu members  median %9.1f ms  max %9.1f ms  (%d runs)\n", name,
              body.size(), members, ms[ms.size() / 2], ms.back(), runs);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 9;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: json_bench [--runs N]\n");
      return 2;
    }
  }
  run("short", "", runs);
  run("prefix", std::string(100, 'p'), runs);
  return 0;
}
