#pragma once
// The ApiContext the handler-level rest tests serve from: the test's store, read and written
// through every role, with the fixture's domain, the given credentials and clock. A test sets
// what else it needs (metrics, webhook_targets, limits) before make_router reads it.
#include <memory>
#include <utility>
#include <vector>

#include "changefeed/store.hpp"
#include "core/clock.hpp"
#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::rest::testing {

inline std::unique_ptr<ApiContext> test_context(
    changefeed::Store& store, CredentialStore* credentials, const Clock* clock,
    std::vector<DomainInfo> domains = {
        {changefeed::testing::kDomain, "DC=example,DC=test", "EXAMPLE"}}) {
  return std::make_unique<ApiContext>(ApiContext{
      .store = store,
      .domains = std::move(domains),
      .credentials = credentials,
      .api_writes = &store,
      .sync_writes = &store,
      .clock = clock,
  });
}

}  // namespace dirfeed::rest::testing
