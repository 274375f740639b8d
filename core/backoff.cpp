#include "core/backoff.hpp"

#include <algorithm>

namespace dirfeed {

using std::chrono::milliseconds;

milliseconds doubling_delay(uint32_t failures, milliseconds base, milliseconds cap) {
  milliseconds delay = base;
  for (uint32_t i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

milliseconds retry_delay(uint32_t failures, milliseconds base, milliseconds cap, double jitter) {
  const milliseconds half = doubling_delay(failures, base, cap) / 2;
  return half + milliseconds(static_cast<int64_t>(static_cast<double>(half.count()) * jitter));
}

}  // namespace dirfeed
