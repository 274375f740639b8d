// Directory Sync API webhooks (rest/webhooks.hpp): events per feed entry and directory view,
// the BoxyHQ signature, retry delays, and the dispatcher delivering to a real receiver on
// 127.0.0.1 (HTTP and HTTPS; allowed by the options) over a real store in a temp dir. The
// client alone: webhook_client_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/guid.hpp"
#include "rest/json.hpp"
#include "rest/metrics.hpp"
#include "rest/webhook_client.hpp"
#include "rest/webhooks.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/support/process.hpp"
#include "tests/support/self_signed_cert.hpp"

namespace dirfeed::rest {
namespace {

using namespace std::chrono_literals;
using dirfeed::testing::ReceivedRequest;
using dirfeed::testing::signature_valid;
using dirfeed::testing::wait_until;
using dirfeed::testing::WebhookReceiver;
using Strings = std::vector<std::string>;

constexpr char kSecret[] = "my-secret";

TEST(WebhookSignature, IsTheHmacOfTimestampDotBodyInHex) {
  // Python: hmac.new(b"my-secret", b'1700000000123.{"event":"user.created"}', sha256)
  EXPECT_EQ(webhook_signature(kSecret, R"({"event":"user.created"})", 1700000000123),
            "t=1700000000123,s=6f19367baa9e721ae9e9183166a12e2c5e433e6da1ef3bf3d08462c688e65b6a");
  EXPECT_TRUE(signature_valid(webhook_signature(kSecret, "[1,2]", 42), "[1,2]", kSecret));
  EXPECT_FALSE(signature_valid(webhook_signature(kSecret, "[1,2]", 42), "[1,3]", kSecret));
  EXPECT_FALSE(signature_valid(webhook_signature("other", "[1,2]", 42), "[1,2]", kSecret));
}

// ---- events ------------------------------------------------------------------------------

class WebhooksTest : public changefeed::testing::StoreTest {
 protected:
  pb::Directory directory(const std::string& id = "d1") {
    pb::Directory result;
    result.set_id(id);
    result.set_name("App");
    result.set_tenant("acme");
    result.set_product("crm");
    result.set_type("active-directory");
    result.set_domain(changefeed::testing::kDomain);
    return result;
  }

  // One payload as "event name" or "event user>group" (names from the fixture's GUIDs); also
  // checks the envelope.
  std::string summarize(const std::string& payload, const pb::Directory& dir) {
    std::string error;
    std::optional<JsonValue> json = parse_json(payload, &error);
    EXPECT_TRUE(json) << error << ": " << payload;
    if (!json) return "?";
    EXPECT_EQ(json->object().size(), 5u) << payload;
    EXPECT_EQ(json->find("tenant")->text(), dir.tenant());
    EXPECT_EQ(json->find("product")->text(), dir.product());
    EXPECT_EQ(json->find("directory_id")->text(), dir.id());
    const JsonValue* data = json->find("data");
    std::string line = json->find("event")->text() + " " + name_of_id(data->find("id")->text());
    if (const JsonValue* group = data->find("group")) {
      line += ">" + name_of_id(group->find("id")->text());
      EXPECT_EQ(group->find("raw")->find("members"), nullptr) << "groups go without members";
      EXPECT_NE(data->find("email"), nullptr) << "the user's own fields are there too";
    }
    return line;
  }

  std::string name_of_id(const std::string& id) {
    for (const auto& [name, guid_bytes] : guids_) {
      if (guid_to_string(guid_bytes) == id) return name;
    }
    return "?" + id;
  }

  // The events of the feed after `after` for `dir`, summarized, through one builder.
  Strings events(const pb::Directory& dir, uint64_t after = 0) {
    EventBuilder builder(*store_);
    Strings lines;
    for (const pb::Change& change : changes_after(after)) {
      if (std::optional<std::string> payload = builder.event(dir, change)) {
        lines.push_back(summarize(*payload, dir));
      }
    }
    return lines;
  }

  pb::ObservedObject titled(const std::string& name, const std::string& title) {
    pb::ObservedObject observed = user(name);
    observed.mutable_object()->set_title(title);
    return observed;
  }
};

TEST_F(WebhooksTest, EveryFeedEntryTypeMapsToItsEvent) {
  apply({user("alice"), user("bob"), group("staff", {"alice"}), group("team", {"bob"})});
  uint64_t mark = store_->last_sequence();
  EXPECT_EQ(events(directory()),
            (Strings{"user.created alice", "user.created bob", "group.created staff",
                     "group.user_added alice>staff", "group.created team",
                     "group.user_added bob>team"}))
      << "an added object's ADD says all (no updated events for it)";

  apply({titled("alice", "Boss")});
  apply({group("staff", {})});
  EXPECT_EQ(events(directory(), mark),
            (Strings{"user.updated alice", "group.user_removed alice>staff", "user.updated alice",
                     "group.updated staff"}));

  // User ID API writes: an API user is an ADD; IP mappings are not directory events.
  mark = store_->last_sequence();
  pb::DirectoryObject api_user;
  api_user.set_guid(guid("carol"));
  api_user.set_kind(pb::USER);
  api_user.set_domain(changefeed::testing::kDomain);
  api_user.set_dn("CN=carol,OU=Api,DC=example,DC=test");
  api_user.set_sam_account_name("carol");
  api_user.add_ipv4_addresses("10.0.0.1");
  changefeed::ApiOutcome outcome{};
  ASSERT_TRUE(store_->create_user(api_user, 3'600'000'000, &outcome).is_ok());
  changefeed::UserChange ips;
  ips.ipv4 = Strings{"10.0.0.2"};
  ASSERT_TRUE(store_->change_user(guid("carol"), ips, &outcome).is_ok());
  EXPECT_EQ(describe_after(mark),
            (Strings{"ADD USER carol", "IP_ADD USER carol", "IP_ADD USER carol"}));
  // An API-created user is an event only for a directory that includes API users.
  EXPECT_EQ(events(directory(), mark), Strings{});
  pb::Directory with_api_users = directory();
  with_api_users.set_include_api_users(true);
  EXPECT_EQ(events(with_api_users, mark), (Strings{"user.created carol"}));

  // Deletes: the group's members and the user's groups are removed after its DELETE entry;
  // those events show the deleted object's last state.
  mark = store_->last_sequence();
  apply({deleted("team")});
  apply({deleted("alice")});
  EXPECT_EQ(describe_after(mark),
            (Strings{"DELETE GROUP team", "MEMBERSHIP DELETE bob->team", "MODIFY USER bob",
                     "DELETE USER alice"}));
  EXPECT_EQ(events(directory(), mark),
            (Strings{"group.deleted team", "group.user_removed bob>team", "user.updated bob",
                     "user.deleted alice"}));
}

TEST_F(WebhooksTest, MembershipOfAnObjectDeletedLaterShowsItsLastState) {
  apply({user("alice"), group("staff", {"alice"})});
  const uint64_t mark = store_->last_sequence();
  apply({group("staff", {})});  // removed while both exist...
  apply({deleted("staff")});    // ...and the group deleted before the webhook got there
  apply({user("bob"), group("devs", {"bob"})});
  apply({deleted("bob")});      // a user deleted with its group memberships
  const Strings expected{"group.user_removed alice>staff", "user.updated alice",
                         "group.updated staff", "group.deleted staff", "user.created bob",
                         "group.created devs", "group.user_added bob>devs", "user.deleted bob",
                         "group.user_removed bob>devs"};
  EXPECT_EQ(events(directory(), mark), expected);

  // A builder starting inside a write (as after a restart) still finds the last state.
  std::vector<pb::Change> changes = changes_after(mark);
  ASSERT_EQ(changes.back().kind(), pb::MEMBERSHIP);
  EventBuilder fresh(*store_);
  std::optional<std::string> payload = fresh.event(directory(), changes.back());
  ASSERT_TRUE(payload);
  EXPECT_EQ(summarize(*payload, directory()), "group.user_removed bob>devs");
  EXPECT_NE(payload->find("\"sAMAccountName\":\"bob\""), std::string::npos) << *payload;
}

TEST_F(WebhooksTest, NarrowedDirectoriesGetTheEventsOfTheirViewOnly) {
  apply({user("alice"), user("bob"), group("staff", {"alice"})});
  const uint64_t mark = store_->last_sequence();
  apply({group("staff", {"bob"})});  // alice leaves, bob joins
  apply({titled("alice", "Boss"), titled("bob", "Dev")});

  // Users live in OU=People, groups in OU=Groups: an OU view has the users and their
  // memberships (a membership needs its user in the view, not its group).
  pb::Directory people = directory();
  people.add_base_dns("ou=people,DC=example,DC=test");
  EXPECT_EQ(events(people, mark),
            (Strings{"group.user_removed alice>staff", "group.user_added bob>staff",
                     "user.updated alice", "user.updated bob", "user.updated alice",
                     "user.updated bob"}));

  // A group view: the group and its members; a user leaving it still gets the removal.
  pb::Directory staff = directory();
  staff.set_group_guid(guid("staff"));
  EXPECT_EQ(events(staff, mark),
            (Strings{"group.user_removed alice>staff", "group.user_added bob>staff",
                     "group.updated staff", "user.updated bob", "user.updated bob"}));

  pb::Directory elsewhere = directory();
  elsewhere.set_domain("other.test");
  EXPECT_EQ(events(elsewhere), Strings{});
}

// ---- delivery ----------------------------------------------------------------------------

class DispatcherTest : public WebhooksTest {
 protected:
  DispatcherOptions fast_options() {
    DispatcherOptions options;
    options.poll = 10ms;
    options.retry_base = 20ms;
    options.retry_cap = 100ms;
    options.jitter = [] { return 0.5; };
    // The receivers listen on loopback addresses, refused by default.
    std::string error;
    options.client.targets = WebhookTargetPolicy({*IpNetwork::parse("127.0.0.0/8", &error)});
    return options;
  }

  pb::Directory hooked(const std::string& url, const std::string& secret = kSecret,
                       uint32_t batch = 0, const std::string& id = "d1") {
    pb::Directory dir = directory(id);
    dir.set_webhook_url(url);
    dir.set_webhook_secret(secret);
    dir.set_webhook_batch_size(batch);
    EXPECT_TRUE(store_->put_directory(dir).is_ok());
    return dir;
  }

  // Three users and a group with one of them: 5 events.
  void five_events() { apply({user("u1"), user("u2"), user("u3"), group("g", {"u2"})}); }
  const Strings kFive{"user.created u1", "user.created u2", "user.created u3", "group.created g",
                      "group.user_added u2>g"};

  // The events of received requests (answered 2xx only, when `delivered`), in order.
  Strings received_events(const std::vector<ReceivedRequest>& requests, const pb::Directory& dir,
                          bool delivered = true) {
    Strings lines;
    for (const ReceivedRequest& request : requests) {
      if (delivered && request.answered / 100 != 2) continue;
      if (request.body.starts_with("[")) {
        std::string error;
        std::optional<JsonValue> array = parse_json(request.body, &error);
        EXPECT_TRUE(array && array->is_array()) << error;
        if (!array) continue;
        // Each element re-serialized is not the sent text; find each object's bytes instead.
        for (const std::string& payload : split_array(request.body)) {
          lines.push_back(summarize(payload, dir));
        }
        EXPECT_EQ(split_array(request.body).size(), array->array().size());
      } else {
        lines.push_back(summarize(request.body, dir));
      }
    }
    return lines;
  }

  // The top-level elements of a JSON array of objects, as text.
  static Strings split_array(const std::string& text) {
    Strings parts;
    int depth = 0;
    bool in_string = false;
    size_t start = 0;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      const char c = text[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      if (c == '{') {
        if (depth++ == 0) start = i;
      } else if (c == '}' && --depth == 0) {
        parts.push_back(text.substr(start, i - start + 1));
      }
    }
    return parts;
  }

  pb::WebhookState state(const std::string& id = "d1") {
    return store_->webhook_state(id).value_or(pb::WebhookState());
  }

  Metrics metrics_;
};

TEST_F(DispatcherTest, DeliversSignedEventsInFeedOrder) {
  WebhookReceiver receiver;
  const pb::Directory dir = hooked(receiver.url());
  five_events();
  DispatcherOptions detailed = fast_options();
  detailed.metrics_detail = true;  // series by directory
  WebhookDispatcher dispatcher(*store_, clock_, &metrics_, detailed);
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s));
  const std::vector<ReceivedRequest> requests = receiver.received();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(received_events(requests, dir), kFive);
  for (const ReceivedRequest& request : requests) {
    ASSERT_TRUE(request.signature);
    EXPECT_TRUE(signature_valid(*request.signature, request.body, kSecret)) << *request.signature;
    EXPECT_EQ(request.ory_signature, request.signature) << "both headers of the reference";
    EXPECT_TRUE(request.signature->starts_with("t=" + std::to_string(clock_.now_us() / 1000) +
                                               ",s="));
    EXPECT_EQ(request.content_type, "application/json");
    EXPECT_EQ(request.user_agent, "dirfeed");
    EXPECT_EQ(request.target, "/hook");
  }
  EXPECT_EQ(receiver.connections(), 1u) << "one kept-alive connection";
  EXPECT_EQ(state().last_success_us(), clock_.now_us());
  EXPECT_EQ(state().failures(), 0u);
  const Metrics::Labels labels{{"directory", "d1"}};
  // The metrics are set just after the state is stored.
  EXPECT_TRUE(wait_until(
      [&] {
        return metrics_.value("dirfeed_webhook_events_delivered_total", labels) == 5 &&
               metrics_.value("dirfeed_webhook_backlog", labels) == 0;
      },
      10s));
  EXPECT_EQ(metrics_.value("dirfeed_webhook_last_success_timestamp_seconds", labels),
            static_cast<double>(clock_.now_us()) / 1e6);
}

TEST_F(DispatcherTest, ADeactivatedDirectorySendsNothingOfWhatChangedMeanwhile) {
  WebhookReceiver receiver;
  pb::Directory dir = hooked(receiver.url());
  dir.set_deactivated(true);
  ASSERT_TRUE(store_->put_directory(dir).is_ok());
  apply({user("u1")});
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  // The cursor moves past u1 without a POST; then reactivated, only u2 goes.
  ASSERT_TRUE(wait_until([&] { return store_->webhook_state("d1")->after_sequence() >= 1; }, 10s));
  dir.set_deactivated(false);
  ASSERT_TRUE(store_->put_directory(dir).is_ok());
  apply({user("u2")});
  ASSERT_TRUE(receiver.wait_for_count(1, 10s));
  EXPECT_EQ(received_events(receiver.received(), dir, /*delivered=*/false),
            (Strings{"user.created u2"}));
}

TEST_F(DispatcherTest, LogsEveryPostWhenTheDirectoryAsksForIt) {
  WebhookReceiver receiver(
      [](const ReceivedRequest&, size_t index) { return index == 0 ? 503u : 200u; });
  pb::Directory dir = hooked(receiver.url());
  dir.set_log_webhook_events(true);
  ASSERT_TRUE(store_->put_directory(dir).is_ok());
  apply({user("u1")});
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until(
      [&] {
        size_t logged = 0;
        store_->webhook_events("d1", [&](const pb::WebhookEvent&) { return ++logged < 10; });
        return logged >= 2;
      },
      10s));
  std::vector<pb::WebhookEvent> events;
  store_->webhook_events("d1", [&](const pb::WebhookEvent& event) {
    events.push_back(event);
    return true;
  });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].status_code(), 200u) << "newest first";
  EXPECT_TRUE(events[0].delivered());
  EXPECT_EQ(events[1].status_code(), 503u);
  EXPECT_FALSE(events[1].delivered());
  EXPECT_EQ(events[0].payload(), receiver.received().back().body);
  EXPECT_EQ(events[0].webhook_endpoint(), receiver.url());
  EXPECT_EQ(events[0].directory_id(), "d1");
  EXPECT_EQ(events[0].id().size(), 36u);
}

TEST_F(DispatcherTest, SendsNoSignatureWithoutASecret) {
  WebhookReceiver receiver;
  hooked(receiver.url(), "");
  apply({user("u1")});
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(receiver.wait_for_count(1, 10s));
  EXPECT_FALSE(receiver.received().front().signature);
  EXPECT_FALSE(receiver.received().front().ory_signature);
}

TEST_F(DispatcherTest, RetriesAfterErrorsAndDeliversEverythingOnceInOrder) {
  std::mutex mutex;
  std::vector<pb::WebhookState> states_seen;  // the stored state when each request came
  WebhookReceiver receiver([&](const ReceivedRequest&, size_t index) {
    std::lock_guard lock(mutex);
    states_seen.push_back(state());
    return index < 3 ? 500u : 200u;
  });
  const pb::Directory dir = hooked(receiver.url());
  const uint64_t start = state().after_sequence();
  five_events();
  WebhookDispatcher dispatcher(*store_, clock_, &metrics_, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s));
  // The gauge is set when the job ends, just after the state is stored.
  EXPECT_TRUE(wait_until(
      [&] { return metrics_.value("dirfeed_webhook_directories_failing", {}) == 0; }, 10s));
  const std::vector<ReceivedRequest> requests = receiver.received();
  ASSERT_EQ(requests.size(), 8u);
  // The first event was tried 4 times; every event was delivered once, in order, no gaps.
  EXPECT_EQ(received_events(requests, dir, /*delivered=*/false),
            (Strings{"user.created u1", "user.created u1", "user.created u1", "user.created u1",
                     "user.created u2", "user.created u3", "group.created g",
                     "group.user_added u2>g"}));
  EXPECT_EQ(received_events(requests, dir), kFive);
  // Nothing moved until a 2xx; the failures were stored.
  std::lock_guard lock(mutex);
  ASSERT_EQ(states_seen.size(), 8u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(states_seen[i].after_sequence(), start) << i;
    EXPECT_EQ(states_seen[i].failures(), i) << i;
  }
  EXPECT_EQ(states_seen[3].last_error(), "HTTP 500");
  EXPECT_EQ(states_seen[3].last_error_us(), clock_.now_us());
  EXPECT_EQ(states_seen[4].after_sequence(), start + 1);
  EXPECT_EQ(states_seen[4].failures(), 0u);
  EXPECT_EQ(state().last_error(), "HTTP 500") << "the last error stays for `dirfeed status`";
  EXPECT_EQ(metrics_.value("dirfeed_webhook_failed_attempts_total", {}), 3);
  EXPECT_EQ(metrics_.value("dirfeed_webhook_events_delivered_total", {}), 5);
}

TEST_F(DispatcherTest, BatchesAreJsonArraysSignedTheSameWay) {
  WebhookReceiver receiver;
  const pb::Directory dir = hooked(receiver.url(), kSecret, 2);
  five_events();
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s));
  const std::vector<ReceivedRequest> requests = receiver.received();
  ASSERT_EQ(requests.size(), 3u);
  std::vector<size_t> sizes;
  for (const ReceivedRequest& request : requests) {
    sizes.push_back(split_array(request.body).size());
    ASSERT_TRUE(request.signature);
    EXPECT_TRUE(signature_valid(*request.signature, request.body, kSecret));
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(received_events(requests, dir), kFive);
}

TEST_F(DispatcherTest, EntriesWithoutEventsMoveTheCursorWithoutAPost) {
  WebhookReceiver receiver;
  pb::Directory dir = directory();
  dir.set_webhook_url(receiver.url());
  dir.set_domain("other.test");
  ASSERT_TRUE(store_->put_directory(dir).is_ok());
  pb::Directory quiet = directory("d2");  // no webhook at all
  ASSERT_TRUE(store_->put_directory(quiet).is_ok());
  five_events();
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until(
      [&] {
        return state("d1").after_sequence() == store_->last_sequence() &&
               state("d2").after_sequence() == store_->last_sequence();
      },
      10s));
  EXPECT_EQ(receiver.count(), 0u);
  EXPECT_EQ(state("d1").last_success_us(), 0);
}

TEST_F(DispatcherTest, ARestartResumesFromTheStoredCursor) {
  std::atomic<bool> hold{true};
  WebhookReceiver* self = nullptr;
  WebhookReceiver receiver([&](const ReceivedRequest&, size_t index) {
    if (index == 2 && hold) self->wait_released();  // the third request never gets an answer
    return 200u;
  });
  self = &receiver;
  const pb::Directory dir = hooked(receiver.url());
  five_events();
  {
    WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
    dispatcher.start();
    ASSERT_TRUE(receiver.wait_for_count(3, 10s));
    dispatcher.stop();  // abandons the delivery in flight
  }
  hold = false;
  receiver.release();
  reopen();
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s));
  // At least once: the third event again, then the rest; nothing missing.
  EXPECT_EQ(received_events(receiver.received(), dir, /*delivered=*/false),
            (Strings{"user.created u1", "user.created u2", "user.created u3", "user.created u3",
                     "group.created g", "group.user_added u2>g"}));
}

TEST_F(DispatcherTest, ChangesThatLeftTheFeedBeforeDeliveryAreSkipped) {
  WebhookReceiver receiver;
  const pb::Directory dir = hooked(receiver.url());
  five_events();
  uint64_t dropped = 0;
  ASSERT_TRUE(store_->prune_feed(changes_after(0)[2].timestamp_us(), &dropped).is_ok());
  ASSERT_EQ(dropped, 2u);
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s));
  EXPECT_EQ(received_events(receiver.received(), dir),
            (Strings{"user.created u3", "group.created g", "group.user_added u2>g"}));
}

TEST_F(DispatcherTest, DirectoriesAreIndependentAndPickedUpWhileRunning) {
  WebhookReceiver down([](const ReceivedRequest&, size_t) { return 503u; });
  WebhookReceiver up;
  hooked(down.url(), kSecret, 0, "d1");
  DispatcherOptions detailed = fast_options();
  detailed.metrics_detail = true;  // series by directory
  WebhookDispatcher dispatcher(*store_, clock_, &metrics_, detailed);
  dispatcher.start();
  five_events();
  ASSERT_TRUE(down.wait_for_count(2, 10s));
  // A directory created now gets what comes after its creation, while d1 keeps failing.
  const pb::Directory second = hooked(up.url(), kSecret, 0, "d2");
  apply({user("u4")});
  ASSERT_TRUE(up.wait_for_count(1, 10s));
  EXPECT_EQ(received_events(up.received(), second, /*delivered=*/false),
            Strings{"user.created u4"});
  EXPECT_EQ(state("d1").last_error(), "HTTP 503");
  // The state and the backlog of a failed attempt are stored after its response.
  EXPECT_TRUE(wait_until(
      [&] {
        return state("d1").failures() >= 2 &&
               metrics_.value("dirfeed_webhook_backlog", {{"directory", "d1"}}) > 0;
      },
      10s));

  // Deleting a directory stops its deliveries and drops its series.
  bool existed = false;
  ASSERT_TRUE(store_->delete_directory("d1", &existed).is_ok());
  ASSERT_TRUE(wait_until(
      [&] { return metrics_.render().find("directory=\"d1\"") == std::string::npos; }, 10s))
      << metrics_.render();
  const size_t attempts = down.count();
  apply({user("u5")});
  ASSERT_TRUE(up.wait_for_count(2, 10s));
  EXPECT_LE(down.count(), attempts + 1) << "at most the attempt in flight at the DELETE";
  EXPECT_FALSE(store_->webhook_state("d1"));
}

TEST_F(DispatcherTest, HttpsReceiversAreVerified) {
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(temp_.path());
  WebhookReceiver receiver({}, cert.cert_file, cert.key_file);
  const pb::Directory dir = hooked(receiver.url());
  apply({user("u1")});
  {
    // Not in the system CA store: refused at the handshake, nothing sent.
    WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
    dispatcher.start();
    ASSERT_TRUE(wait_until([&] { return state().failures() >= 1; }, 10s));
  }
  EXPECT_NE(state().last_error().find("TLS handshake"), std::string::npos) << state().last_error();
  EXPECT_NE(state().last_error().find("certificate verify failed"), std::string::npos)
      << state().last_error();
  EXPECT_EQ(receiver.count(), 0u);

  DispatcherOptions trusting = fast_options();
  trusting.client.ca_file = cert.cert_file;
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, trusting);
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s))
      << state().last_error();
  ASSERT_EQ(receiver.count(), 1u);
  EXPECT_EQ(received_events(receiver.received(), dir), Strings{"user.created u1"});
  EXPECT_TRUE(signature_valid(*receiver.received().front().signature,
                              receiver.received().front().body, kSecret));
}

TEST_F(DispatcherTest, ANameResolvingToARefusedAddressIsNotContacted) {
  WebhookReceiver receiver;
  hooked("http://localhost:" + std::to_string(receiver.port()) + "/hook");
  apply({user("u1")});
  DispatcherOptions refusing = fast_options();
  refusing.client.targets = WebhookTargetPolicy();  // the default: loopback refused
  {
    WebhookDispatcher dispatcher(*store_, clock_, &metrics_, refusing);
    dispatcher.start();
    // Failed attempts, retried with the backoff like any other failure.
    ASSERT_TRUE(wait_until([&] { return state().failures() >= 2; }, 10s));
  }
  EXPECT_EQ(receiver.connections(), 0u);
  EXPECT_TRUE(state().last_error().starts_with("refused: localhost resolves to "))
      << state().last_error();
  EXPECT_NE(state().last_error().find("api.webhook_allowed_networks"), std::string::npos);
  EXPECT_EQ(state().after_sequence(), 0u) << "nothing counts as delivered";
  EXPECT_GE(metrics_.value("dirfeed_webhook_failed_attempts_total", {}), 2);
  EXPECT_EQ(metrics_.value("dirfeed_webhook_directories_failing", {}), 1);

  // Allowed, the same directory delivers what waited.
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, fast_options());
  dispatcher.start();
  ASSERT_TRUE(wait_until([&] { return state().after_sequence() == store_->last_sequence(); },
                         10s));
  EXPECT_EQ(receiver.count(), 1u);
}

TEST_F(DispatcherTest, EveryDirectorySharesOneTlsContext) {
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(temp_.path());
  WebhookReceiver receiver({}, cert.cert_file, cert.key_file);
  hooked(receiver.url(), kSecret, 0, "d1");
  apply({user("u1")});
  DispatcherOptions trusting = fast_options();
  trusting.client.ca_file = temp_.path() + "/ca.pem";
  std::filesystem::copy_file(cert.cert_file, trusting.client.ca_file);
  WebhookDispatcher dispatcher(*store_, clock_, nullptr, trusting);
  dispatcher.start();
  ASSERT_TRUE(receiver.wait_for_count(1, 10s)) << state("d1").last_error();
  // The CA file was read once: a directory added after it is gone verifies its receiver too.
  std::filesystem::remove(trusting.client.ca_file);
  hooked(receiver.url(), kSecret, 0, "d2");
  apply({user("u2")});
  ASSERT_TRUE(wait_until(
      [&] { return state("d2").after_sequence() == store_->last_sequence(); }, 10s))
      << state("d2").last_error();
  EXPECT_EQ(state("d2").failures(), 0u);
}

}  // namespace
}  // namespace dirfeed::rest
