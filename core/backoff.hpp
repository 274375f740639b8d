#pragma once
// How long to wait before trying again after consecutive failures: DCs, webhook receivers,
// feed consumers.
#include <chrono>
#include <cstdint>

namespace dirfeed {

// `base` * 2^(failures - 1), at most `cap` (failures 0 and 1 give `base`).
std::chrono::milliseconds doubling_delay(uint32_t failures, std::chrono::milliseconds base,
                                         std::chrono::milliseconds cap);

// Exponential backoff with jitter, so that clients failing together do not retry together:
// d = doubling_delay(failures, base, cap), of which a random part is taken off; the result is
// in [d/2, d], `jitter` in [0, 1) choosing where.
std::chrono::milliseconds retry_delay(uint32_t failures, std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap, double jitter);

}  // namespace dirfeed
