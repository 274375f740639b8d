// The feed-consumer engine against a real store: order, cursor, confirmation, retries, the
// commit signal, restarts and pruned entries.
#include "changefeed/feed_consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed {
namespace {

using namespace std::chrono_literals;
using testing::StoreTest;

// A sink that records every batch it is given and answers as `answer` says (default: all
// confirmed).
class RecordingSink : public FeedSink {
 public:
  using Answer = std::function<Delivery(const std::vector<pb::Change>&, size_t attempt)>;

  Delivery deliver(const std::vector<pb::Change>& entries) override {
    std::unique_lock lock(mutex_);
    std::vector<uint64_t> sequences;
    for (const pb::Change& entry : entries) sequences.push_back(entry.sequence());
    batches_.push_back(sequences);
    const size_t attempt = batches_.size();
    changed_.notify_all();
    if (block_) {
      changed_.wait(lock, [&] { return aborted_; });
      Delivery aborted;
      aborted.aborted = true;
      return aborted;
    }
    if (answer_) return answer_(entries, attempt);
    return Delivery{entries.back().sequence(), "", entries.size()};
  }

  void abort() override {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    changed_.notify_all();
  }

  bool accept(const pb::Change&) override {
    return accept_limit_ == 0 || ++accepted_ % accept_limit_ != 0;
  }

  void answer(Answer answer) { answer_ = std::move(answer); }  // before start()
  void accept_at_most(size_t n) { accept_limit_ = n; }          // before start()
  void block() { block_ = true; }                              // before start()

  // Waits (at most 10 s) until `done` holds for the batches seen so far.
  bool wait_for(const std::function<bool(const std::vector<std::vector<uint64_t>>&)>& done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return done(batches_); });
  }

  std::vector<std::vector<uint64_t>> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }

  // Every sequence handed over, in order, batch after batch.
  std::vector<uint64_t> sequences() {
    std::vector<uint64_t> all;
    for (const auto& batch : batches()) all.insert(all.end(), batch.begin(), batch.end());
    return all;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<uint64_t>> batches_;
  Answer answer_;
  size_t accept_limit_ = 0;  // 0: no limit of its own
  size_t accepted_ = 0;
  bool block_ = false;
  bool aborted_ = false;
};

class FeedConsumerTest : public StoreTest {
 protected:
  FeedConsumerOptions options(size_t max_batch = 1000) {
    FeedConsumerOptions o;
    o.name = "test";
    o.max_batch = max_batch;
    o.retry_base = 1ms;
    o.retry_cap = 2ms;
    o.idle_check = 1h;  // only the commit signal wakes it
    o.jitter = [] { return 0.0; };
    return o;
  }

  // Adds users one page each: one ADD entry per user.
  void add_users(int from, int count) {
    for (int i = from; i < from + count; ++i) apply({user("u" + std::to_string(i))});
  }

  static std::function<bool(const std::vector<std::vector<uint64_t>>&)> reached(uint64_t last) {
    return [last](const auto& batches) {
      return !batches.empty() && !batches.back().empty() && batches.back().back() >= last;
    };
  }

  pb::FeedConsumerState state() {
    std::optional<pb::FeedConsumerState> stored = store_->consumer_state("test");
    EXPECT_TRUE(stored.has_value());
    return stored.value_or(pb::FeedConsumerState());
  }

  // Stops `consumer` once the stored cursor reached `sequence` (at most 10 s).
  void stop_at(FeedConsumer& consumer, uint64_t sequence) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<pb::FeedConsumerState> stored = store_->consumer_state("test");
      if (stored && stored->after_sequence() >= sequence) break;
      std::this_thread::yield();
    }
    consumer.stop();
  }

  // An on_progress that keeps every report, for reported().
  std::function<void(const FeedConsumerProgress&)> progress_callback() {
    return [this](const FeedConsumerProgress& p) {
      std::lock_guard lock(progress_mutex_);
      progress_.push_back(p);
    };
  }
  std::vector<FeedConsumerProgress> reported() {
    std::lock_guard lock(progress_mutex_);
    return progress_;
  }

  RecordingSink sink_;
  std::mutex progress_mutex_;
  std::vector<FeedConsumerProgress> progress_;
};

TEST_F(FeedConsumerTest, DeliversEveryEntryInOrderInBatchesAndStoresTheCursor) {
  add_users(0, 5);
  ASSERT_EQ(store_->last_sequence(), 5u);
  FeedConsumer consumer(*store_, clock_, sink_, options(/*max_batch=*/2));
  consumer.start();
  ASSERT_TRUE(sink_.wait_for(reached(5)));
  stop_at(consumer, 5);
  EXPECT_EQ(sink_.batches(), (std::vector<std::vector<uint64_t>>{{1, 2}, {3, 4}, {5}}));
  EXPECT_EQ(state().after_sequence(), 5u);
  EXPECT_EQ(state().failures(), 0u);
  EXPECT_EQ(state().last_success_us(), clock_.now_us());
}

TEST_F(FeedConsumerTest, TheCommitSignalWakesItWithoutAPoll) {
  FeedConsumer consumer(*store_, clock_, sink_, options());  // idle_check: 1 h
  consumer.start();
  add_users(0, 1);
  ASSERT_TRUE(sink_.wait_for(reached(1)));
  add_users(1, 1);
  ASSERT_TRUE(sink_.wait_for(reached(2)));
  stop_at(consumer, 2);
  EXPECT_EQ(sink_.sequences(), (std::vector<uint64_t>{1, 2}));
}

TEST_F(FeedConsumerTest, AdvancesOnlyOverWhatTheSinkConfirmedAndRetriesTheRest) {
  add_users(0, 4);
  // First attempt: entries 1-2 confirmed, then an error; second: another error, nothing
  // confirmed; third: all.
  sink_.answer([](const std::vector<pb::Change>& entries, size_t attempt) {
    if (attempt == 1) return Delivery{2, "nats: timeout", 2};
    if (attempt == 2) return Delivery{0, "nats: no servers available", 0};
    return Delivery{entries.back().sequence(), "", 2};
  });
  FeedConsumer consumer(*store_, clock_, sink_, options(), progress_callback());
  consumer.start();
  ASSERT_TRUE(sink_.wait_for([](const auto& batches) { return batches.size() >= 3; }));
  stop_at(consumer, 4);
  EXPECT_EQ(sink_.batches(),
            (std::vector<std::vector<uint64_t>>{{1, 2, 3, 4}, {3, 4}, {3, 4}}));
  const pb::FeedConsumerState stored = state();
  EXPECT_EQ(stored.after_sequence(), 4u);
  EXPECT_EQ(stored.failures(), 0u);
  EXPECT_EQ(stored.last_error(), "nats: no servers available");
  EXPECT_EQ(stored.last_error_us(), clock_.now_us());
  const std::vector<FeedConsumerProgress> progress = reported();
  ASSERT_GE(progress.size(), 3u);
  EXPECT_EQ(progress[0].after_sequence, 2u);
  EXPECT_EQ(progress[0].backlog, 2u);
  EXPECT_TRUE(progress[0].failing);
  EXPECT_EQ(progress[1].failed_attempts, 2u);
  EXPECT_EQ(progress[2].delivered, 4u);
  EXPECT_EQ(progress[2].backlog, 0u);
  EXPECT_FALSE(progress[2].failing);
}

TEST_F(FeedConsumerTest, ReportsTheLagOfTheOldestEntryNotConfirmed) {
  add_users(0, 2);  // both at the clock's time
  clock_.advance(30s);
  sink_.answer([](const std::vector<pb::Change>&, size_t attempt) {
    return attempt == 1 ? Delivery{0, "down", 0} : Delivery{2, "", 2};
  });
  FeedConsumer consumer(*store_, clock_, sink_, options(), progress_callback());
  consumer.start();
  ASSERT_TRUE(sink_.wait_for([](const auto& batches) { return batches.size() >= 2; }));
  stop_at(consumer, 2);
  const std::vector<FeedConsumerProgress> progress = reported();
  ASSERT_GE(progress.size(), 2u);
  EXPECT_DOUBLE_EQ(progress[0].lag_seconds, 30.0);
  EXPECT_DOUBLE_EQ(progress[1].lag_seconds, 0.0);
}

TEST_F(FeedConsumerTest, ARestartResumesAfterTheStoredCursor) {
  add_users(0, 3);
  {
    FeedConsumer consumer(*store_, clock_, sink_, options());
    consumer.start();
    ASSERT_TRUE(sink_.wait_for(reached(3)));
    stop_at(consumer, 3);
  }
  add_users(3, 2);
  RecordingSink second;
  FeedConsumer consumer(*store_, clock_, second, options());
  consumer.start();
  ASSERT_TRUE(second.wait_for(reached(5)));
  stop_at(consumer, 5);
  EXPECT_EQ(second.sequences(), (std::vector<uint64_t>{4, 5}));
}

TEST_F(FeedConsumerTest, EntriesPrunedBeforeTheyWereConfirmedAreCountedAsLost) {
  add_users(0, 2);
  clock_.advance(1h);
  add_users(2, 2);
  pb::FeedConsumerState behind;
  behind.set_name("test");
  ASSERT_TRUE(store_->put_consumer_state(behind).is_ok());  // confirmed nothing yet
  ASSERT_TRUE(store_->prune_feed(clock_.now_us() - 1).is_ok());  // drops 1 and 2
  FeedConsumer consumer(*store_, clock_, sink_, options(), progress_callback());
  consumer.start();
  ASSERT_TRUE(sink_.wait_for(reached(4)));
  stop_at(consumer, 4);
  EXPECT_EQ(sink_.sequences(), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(state().lost(), 2u);
  const std::vector<FeedConsumerProgress> progress = reported();
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().lost, 2u);
}

TEST_F(FeedConsumerTest, ANewConsumerStartsAtTheOldestRetainedEntryWithNothingLost) {
  add_users(0, 2);
  clock_.advance(1h);
  add_users(2, 2);
  ASSERT_TRUE(store_->prune_feed(clock_.now_us() - 1).is_ok());
  FeedConsumer consumer(*store_, clock_, sink_, options());
  consumer.start();
  ASSERT_TRUE(sink_.wait_for(reached(4)));
  stop_at(consumer, 4);
  EXPECT_EQ(sink_.sequences(), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(state().lost(), 0u);
}

TEST_F(FeedConsumerTest, StopAbortsADeliveryInFlight) {
  add_users(0, 1);
  sink_.block();  // returns only when aborted
  FeedConsumer consumer(*store_, clock_, sink_, options());
  consumer.start();
  ASSERT_TRUE(sink_.wait_for([](const auto& batches) { return !batches.empty(); }));
  consumer.stop();  // returns: the sink was aborted
  EXPECT_FALSE(store_->consumer_state("test").has_value()) << "an aborted attempt records nothing";
}

// A sink ends a read when it has all it sends at once: the attempt reads no further.
TEST_F(FeedConsumerTest, ASinkCanEndTheReadOfAnAttempt) {
  add_users(0, 5);
  sink_.accept_at_most(2);
  FeedConsumer consumer(*store_, clock_, sink_, options());
  consumer.start();
  ASSERT_TRUE(sink_.wait_for(reached(5)));
  stop_at(consumer, 5);
  EXPECT_EQ(sink_.batches(), (std::vector<std::vector<uint64_t>>{{1, 2}, {3, 4}, {5}}));
}

// A sink may take part of a batch without failing (a full webhook batch): the rest follows at
// once, no failure recorded, no retry delay.
TEST_F(FeedConsumerTest, ASinkThatTakesPartOfABatchGetsTheRestAtOnce) {
  add_users(0, 5);
  sink_.answer([](const std::vector<pb::Change>& entries, size_t) {
    return Delivery{entries.front().sequence(), "", 1};  // one at a time
  });
  FeedConsumerOptions o = options();
  o.retry_base = 1h;  // a failure would stall the test
  o.retry_cap = 1h;
  FeedConsumer consumer(*store_, clock_, sink_, o);
  consumer.start();
  ASSERT_TRUE(sink_.wait_for([](const auto& batches) { return batches.size() >= 5; }));
  stop_at(consumer, 5);
  EXPECT_EQ(sink_.batches(), (std::vector<std::vector<uint64_t>>{
                                 {1, 2, 3, 4, 5}, {2, 3, 4, 5}, {3, 4, 5}, {4, 5}, {5}}));
  EXPECT_EQ(state().failures(), 0u);
  EXPECT_EQ(state().last_error(), "");
}

}  // namespace
}  // namespace dirfeed::changefeed
