// The Directory Changes API (rest/changes_api.hpp), handler level: the snapshot a request
// without lastSyncDate (or one older than the retained feed) gets, and long answers streamed
// in pieces, each one state of the store. The fixture is in changes_api_fixture.hpp.
#include <set>
#include <string>
#include <vector>

#include "tests/rest/changes_api_fixture.hpp"

namespace dirfeed::rest::testing {
namespace {

// ---- snapshots -----------------------------------------------------------------------------

TEST_F(ChangesApiTest, WithoutLastSyncDateASnapshotOfCurrentResourcesContinuesWithTheFeed) {
  apply({user("alice"), user("bob"), user("carol")});
  apply({deleted("bob")});
  map_ip("alice", "192.0.2.7");
  const std::string snapshot_time = newest_timestamp();

  const Listing snapshot = list("resourceType=user&onPremisesSyncEnabled=true&limit=1");
  EXPECT_EQ(snapshot.message, "Snapshot of current resources: no lastSyncDate given");
  EXPECT_EQ(snapshot.records,
            (std::vector<std::string>{"created user alice", "created user carol"}))
      << "a snapshot is never cut by limit";
  EXPECT_EQ(snapshot.timestamps, std::vector<std::string>(2, snapshot_time))
      << "every record carries the newest entry's timestamp, the IP_ADD here";

  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + snapshot_time)
                .records,
            std::vector<std::string>{});
  apply({deleted("carol"), user("dave")});
  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + snapshot_time)
                .records,
            (std::vector<std::string>{"deleted user carol", "created user dave"}));
}

TEST_F(ChangesApiTest, EmptyStoreGivesAnEmptySnapshotAndEmptyChanges) {
  const Answer snapshot = get("resourceType=group&onPremisesSyncEnabled=true");
  EXPECT_EQ(snapshot.body, R"({"data":[],"message":"Snapshot of current resources: )"
                           R"(no lastSyncDate given","statusCode":200})");
  const Answer changes =
      get("resourceType=group&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z");
  EXPECT_EQ(changes.body, R"({"data":[],"message":"Delta changes fetched successfully",)"
                          R"("statusCode":200})");
}

TEST_F(ChangesApiTest, LastSyncDateBeforeTheRetainedHistoryGetsASnapshot) {
  apply({user("alice"), user("bob")});
  clock_.advance(10'000'000);
  apply({user("carol")});
  const int64_t oldest_kept = feed_times(pb::USER).back();
  uint64_t dropped = 0;
  ASSERT_TRUE(store_->prune_feed(oldest_kept, &dropped).is_ok());
  ASSERT_EQ(dropped, 2u);

  // alice's and bob's entries are gone: carol's is the oldest kept.
  const std::string query = "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=";
  const Listing at_edge = list(query + format_iso8601_us(oldest_kept - 1));
  EXPECT_EQ(at_edge.message, kDeltaMessage) << "no dropped entry can be after oldest - 1 µs";
  EXPECT_EQ(at_edge.records, std::vector<std::string>{"created user carol"});

  const Listing beyond = list(query + format_iso8601_us(oldest_kept - 2));
  EXPECT_EQ(beyond.message,
            "Snapshot of current resources: lastSyncDate is older than the retained history");
  EXPECT_EQ(beyond.records, (std::vector<std::string>{"created user alice", "created user bob",
                                                      "created user carol"}));
  EXPECT_EQ(beyond.timestamps, std::vector<std::string>(3, format_iso8601_us(oldest_kept)));

  // Every entry pruned: only lastSyncDate at or after the newest one is known to miss nothing.
  ASSERT_TRUE(store_->prune_feed(oldest_kept + 1, &dropped).is_ok());
  ASSERT_EQ(dropped, 1u);
  EXPECT_EQ(list(query + format_iso8601_us(oldest_kept)).message, kDeltaMessage);
  EXPECT_EQ(list(query + format_iso8601_us(oldest_kept - 1)).records.size(), 3u);
}

TEST_F(ChangesApiTest, AnUnprunedFeedAnswersAnyOldLastSyncDateWithItsChanges) {
  apply({user("alice")});
  apply({deleted("alice")});
  const Listing listing =
      list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=1999-12-31T23:00:00-01:00");
  EXPECT_EQ(listing.message, kDeltaMessage);
  EXPECT_EQ(listing.records,
            (std::vector<std::string>{"created user alice", "deleted user alice"}));
}

// ---- streaming -----------------------------------------------------------------------------

TEST_F(ChangesApiTest, LongAnswersStreamInPieces) {
  add_bulk_users(0, kManyUsers);
  const Listing changes =
      list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z");
  EXPECT_EQ(changes.records.size(), static_cast<size_t>(kManyUsers));
  EXPECT_EQ(changes.pieces, 3u) << "500 + 500 + 200 records";
  EXPECT_EQ(std::set<std::string>(changes.timestamps.begin(), changes.timestamps.end()).size(),
            static_cast<size_t>(kManyUsers));

  const Listing snapshot = list("resourceType=user&onPremisesSyncEnabled=true");
  EXPECT_EQ(snapshot.records.size(), static_cast<size_t>(kManyUsers));
  EXPECT_EQ(snapshot.pieces, 3u);

  const Listing limited = list(
      "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z&limit=501");
  EXPECT_EQ(limited.records.size(), 501u);
  EXPECT_EQ(limited.timestamps.back(), changes.timestamps[500]);
}

TEST_F(ChangesApiTest, MembershipSnapshotsStreamInPiecesToo) {
  apply({group("Domain Users", {})});
  add_bulk_users(0, kManyUsers, sid("Domain Users"));
  const Listing snapshot = list("resourceType=membership&onPremisesSyncEnabled=true");
  EXPECT_EQ(snapshot.records,
            std::vector<std::string>(kManyUsers, "created membership ?>Domain Users"));
  EXPECT_EQ(snapshot.pieces, 3u);
}

TEST_F(ChangesApiTest, AStreamingSnapshotIsOneStateAndContinuesWithLaterWrites) {
  add_bulk_users(0, kManyUsers);
  const std::string snapshot_time = newest_timestamp();
  Response response = router_.handle(request("resourceType=user&onPremisesSyncEnabled=true"));
  ASSERT_TRUE(response.body().stream);
  std::string body;
  ASSERT_TRUE(response.body().stream(body));  // the first piece: 500 records

  // While it streams: a user it has not reached yet is deleted, one it has sent is changed,
  // a new one is added.
  pb::ObservedObject renamed = bulk_user(0);
  renamed.mutable_object()->set_display_name("renamed");
  ASSERT_TRUE(store_->apply_page(kDomain, {deleted_bulk_user(kManyUsers - 1), renamed},
                                 cursor_for(kDomain)).is_ok());
  add_bulk_users(kManyUsers, 1);

  for (bool more = true; more;) {
    std::string piece;
    more = response.body().stream(piece);
    body += piece;
  }
  const Listing snapshot = parse(Answer{200, "application/json", body, 0});
  EXPECT_EQ(snapshot.records.size(), static_cast<size_t>(kManyUsers)) << "as it was";
  EXPECT_EQ(snapshot.timestamps, std::vector<std::string>(kManyUsers, snapshot_time));
  EXPECT_EQ(body.find("renamed"), std::string::npos);

  const Listing after =
      list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + snapshot_time);
  EXPECT_EQ(after.records, (std::vector<std::string>{"deleted user ?", "updated user ?",
                                                     "created user ?"}));
}

}  // namespace
}  // namespace dirfeed::rest::testing
