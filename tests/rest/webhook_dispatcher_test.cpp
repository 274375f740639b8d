// The webhook dispatcher (rest/webhooks.hpp) delivering each directory's events to a real
// receiver on 127.0.0.1 (HTTP and HTTPS; allowed by the options) over a real store in a temp
// dir: order, signatures, batches, retries, the event log, restarts, address policy.
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
#include "tests/rest/webhook_receiver.hpp"
#include "tests/rest/webhooks_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/self_signed_cert.hpp"

namespace dirfeed::rest {
namespace {

using namespace std::chrono_literals;
using dirfeed::testing::ReceivedRequest;
using dirfeed::testing::signature_valid;
using dirfeed::testing::wait_until;
using dirfeed::testing::WebhookReceiver;
using testing::kSecret;
using testing::Strings;
using testing::WebhooksTest;

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
