// Store on RocksDB: writes go through ChangeWriter under one lock; queries read a snapshot.
#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "changefeed/change_writer.hpp"
#include "changefeed/database.hpp"
#include "changefeed/event_log.hpp"
#include "changefeed/index_build.hpp"
#include "changefeed/keys.hpp"
#include "changefeed/rendered.hpp"
#include "changefeed/rocks_view.hpp"
#include "changefeed/source_write.hpp"
#include "changefeed/state_records.hpp"
#include "changefeed/store.hpp"

namespace dirfeed::changefeed {
namespace {

class RocksStore final : public Store {
 public:
  RocksStore(std::unique_ptr<Database> database, const Clock& clock, FeedPosition position,
             std::string store_id)
      : database_(std::move(database)),
        clock_(clock),
        position_(position),
        store_id_(std::move(store_id)) {}

  Status apply_page(const std::string& domain, const std::vector<pb::ObservedObject>& observed,
                    const pb::Cursor& cursor, CommitStats* stats) override {
    std::lock_guard lock(write_mutex_);
    ChangeWriter writer(*database_, domain, clock_.now_us(), position_);
    std::vector<std::string> guids;
    guids.reserve(observed.size());
    for (const pb::ObservedObject& object : observed) guids.push_back(object.object().guid());
    writer.prefetch(guids);

    CommitStats result;
    for (const pb::ObservedObject& object : observed) {
      if (!writer.apply(object)) ++result.ignored;
    }
    writer.put_cursor(cursor);
    return commit(writer, result, stats);
  }

  Status finish_full_sync(const std::string& domain, const std::unordered_set<std::string>& seen,
                          const pb::Cursor& cursor, const ReconcilePolicy& policy,
                          CommitStats* stats) override {
    const size_t max_deletes = policy.max_deletes;
    std::lock_guard lock(write_mutex_);
    // Keeps at most max_deletes GUIDs in memory.
    std::vector<std::string> unseen;
    size_t unseen_count = 0;
    if (Status status = unseen_objects(domain, seen, max_deletes, &unseen, &unseen_count);
        !status.is_ok()) {
      return status;
    }

    ChangeWriter writer(*database_, domain, clock_.now_us(), position_);
    CommitStats result;
    pb::Cursor stored = cursor;
    stored.clear_unconfirmed();
    if (unseen_count > max_deletes) {
      result.held_back = unseen_count;
    } else if (!policy.deletes_confirmed) {
      result.unconfirmed = unseen.size();
      for (std::string& guid : unseen) stored.add_unconfirmed(std::move(guid));
    } else {
      writer.prefetch(unseen);
      for (const std::string& guid : unseen) writer.remove(guid);
    }
    if (stored.unconfirmed().empty()) {
      stored.clear_unconfirmed_reason();
      stored.clear_unconfirmed_since_us();
    }
    writer.put_cursor(stored);
    return commit(writer, result, stats);
  }

  Status unseen_objects(const std::string& domain, const std::unordered_set<std::string>& seen,
                        size_t keep, std::vector<std::string>* kept,
                        size_t* count) const override {
    *count = 0;
    SnapshotReader reader(*database_);
    const std::string prefix = keys::domain_prefix(domain);
    std::unique_ptr<rocksdb::Iterator> it = reader.iterator(Table::kDomainIndex);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      rocksdb::Slice key = it->key();
      if (key.size() < prefix.size() + kGuidSize) continue;
      key.remove_prefix(key.size() - kGuidSize);
      std::string guid = key.ToString();
      if (seen.contains(guid)) continue;
      std::optional<pb::DirectoryObject> object = reader.object(guid);
      if (!object || !object->from_directory()) continue;
      if (++*count <= keep && kept != nullptr) kept->push_back(std::move(guid));
    }
    if (!it->status().ok()) return Status::error("store read failed: " + it->status().ToString());
    return Status::ok();
  }

  Status prune_feed(int64_t before_us, uint64_t* dropped) override {
    std::lock_guard lock(write_mutex_);
    // Sequences and timestamps grow together: the entries to drop are a prefix of both tables.
    uint64_t first_kept = position_.sequence + 1;
    uint64_t first = 0;
    {
      SnapshotReader reader(*database_);
      std::unique_ptr<rocksdb::Iterator> it = reader.iterator(Table::kFeedByTime);
      it->SeekToFirst();
      if (!it->Valid()) {
        if (dropped != nullptr) *dropped = 0;
        return Status::ok();
      }
      first = keys::decode_time_sequence(it->key().ToStringView());
      it->Seek(keys::time(before_us, 0));
      if (it->Valid()) first_kept = keys::decode_time_sequence(it->key().ToStringView());
      if (!it->status().ok()) return Status::error("store read failed: " + it->status().ToString());
    }
    if (dropped != nullptr) *dropped = first_kept > first ? first_kept - first : 0;
    if (first_kept <= first) return Status::ok();
    rocksdb::WriteBatch batch;
    rocksdb::Status status = batch.DeleteRange(database_->table(Table::kFeedBySequence),
                                               keys::sequence(0), keys::sequence(first_kept));
    if (status.ok()) {
      status = batch.DeleteRange(database_->table(Table::kFeedByTime), keys::time(INT64_MIN, 0),
                                 keys::time(before_us, 0));
    }
    if (status.ok()) status = database_->db()->Write(rocksdb::WriteOptions(), &batch);
    if (!status.ok()) return Status::error("pruning the feed failed: " + status.ToString());
    return Status::ok();
  }

  Status write_source(const std::string& source, const std::vector<SourceChange>& changes,
                      SourceOutcome* outcome, CommitStats* stats) override {
    if (!is_source_domain(source)) return Status::error("write_source: not a source: " + source);
    std::lock_guard lock(write_mutex_);
    ChangeWriter writer(*database_, source, clock_.now_us(), position_, /*from_directory=*/false);
    *outcome = apply_source_changes(writer, source, changes);
    if (*outcome != SourceOutcome::kDone) return Status::ok();
    return commit(writer, CommitStats(), stats);
  }

  std::optional<pb::DirectoryObject> source_object_by_name(const std::string& source,
                                                           pb::ObjectKind kind,
                                                           const std::string& name) const override {
    return SnapshotReader(*database_).object_by_index(Table::kSourceNames,
                                                      keys::source_name(source, kind, name));
  }

  Status create_user(const pb::DirectoryObject& user, int64_t default_lifetime_us,
                     ApiOutcome* outcome) override {
    if (user.guid().size() != kGuidSize) return Status::error("create_user: GUID is not 16 bytes");
    std::lock_guard lock(write_mutex_);
    ChangeWriter writer(*database_, user.domain(), clock_.now_us(), position_);
    const std::optional<std::string> ntlm = keys::ntlm_of(user);
    if (writer.find(user.guid()) != nullptr ||
        (!user.dn().empty() && writer.index_taken(Table::kDnIndex, keys::dn(user.dn()))) ||
        (ntlm && writer.index_taken(Table::kNtlmIndex, *ntlm))) {
      *outcome = ApiOutcome::kDuplicate;
      return Status::ok();
    }
    const int64_t lifetime_us =
        user.ip_timeout_s() > 0 ? user.ip_timeout_s() * 1'000'000 : default_lifetime_us;
    writer.create_user(user, lifetime_us);
    *outcome = ApiOutcome::kDone;
    return commit(writer, CommitStats(), nullptr);
  }

  Status change_user(const std::string& guid, const UserChange& change,
                     ApiOutcome* outcome) override {
    std::lock_guard lock(write_mutex_);
    const int64_t now_us = clock_.now_us();
    ChangeWriter writer(*database_, "", now_us, position_);
    const pb::DirectoryObject* user = writer.find(guid);
    if (user == nullptr || user->kind() != pb::USER) {
      *outcome = ApiOutcome::kNotFound;
      return Status::ok();
    }
    std::vector<std::string> add, remove;
    std::optional<std::vector<std::string>> groups;
    const std::vector<std::string> api_groups(user->api_groups().begin(), user->api_groups().end());
    auto given = [&](const std::optional<std::vector<std::string>>& list) {
      return list ? *list : std::vector<std::string>();
    };
    switch (change.op) {
      case UserChange::Op::kAdd:
        for (const auto* list : {&change.ipv4, &change.ipv6}) {
          for (const std::string& ip : given(*list)) add.push_back(ip);
        }
        if (change.groups) {
          groups = api_groups;
          groups->insert(groups->end(), change.groups->begin(), change.groups->end());
        }
        break;
      case UserChange::Op::kModify: {
        auto replace = [&](const std::optional<std::vector<std::string>>& list,
                           const google::protobuf::RepeatedPtrField<std::string>& current) {
          if (!list) return;
          for (const std::string& ip : current) {
            if (std::find(list->begin(), list->end(), ip) == list->end()) remove.push_back(ip);
          }
          add.insert(add.end(), list->begin(), list->end());
        };
        replace(change.ipv4, user->ipv4_addresses());
        replace(change.ipv6, user->ipv6_addresses());
        groups = change.groups;
        break;
      }
      case UserChange::Op::kDelete:
        for (const auto* list : {&change.ipv4, &change.ipv6}) {
          for (const std::string& ip : given(*list)) remove.push_back(ip);
        }
        if (change.groups) {
          groups.emplace();
          for (const std::string& group : api_groups) {
            if (std::find(change.groups->begin(), change.groups->end(), group) ==
                change.groups->end()) {
              groups->push_back(group);
            }
          }
        }
        break;
    }
    const int64_t lifetime_us =
        user->ip_timeout_s() > 0 ? user->ip_timeout_s() * 1'000'000 : change.default_lifetime_us;
    writer.change_api_data(guid, add, remove, now_us + lifetime_us, groups);
    *outcome = ApiOutcome::kDone;
    return commit(writer, CommitStats(), nullptr);
  }

  Status delete_user(const std::string& guid, ApiOutcome* outcome) override {
    std::lock_guard lock(write_mutex_);
    ChangeWriter writer(*database_, "", clock_.now_us(), position_);
    const pb::DirectoryObject* user = writer.find(guid);
    if (user == nullptr || user->kind() != pb::USER) {
      *outcome = ApiOutcome::kNotFound;
      return Status::ok();
    }
    if (!user->from_directory()) {
      writer.remove(guid);
    } else {
      std::vector<std::string> addresses(user->ipv4_addresses().begin(),
                                         user->ipv4_addresses().end());
      addresses.insert(addresses.end(), user->ipv6_addresses().begin(),
                       user->ipv6_addresses().end());
      writer.change_api_data(guid, {}, addresses, 0, std::vector<std::string>());
    }
    *outcome = ApiOutcome::kDone;
    return commit(writer, CommitStats(), nullptr);
  }

  Status apply_ip_events(const std::vector<IpEvent>& events, IpEventStats* stats) override {
    std::lock_guard lock(write_mutex_);
    const int64_t now_us = clock_.now_us();
    ChangeWriter writer(*database_, "", now_us, position_);
    IpEventStats result;
    // IP -> the logon this call mapped it with last: a repeat (same user, same lifetime) would
    // set the same expiry again, so it is counted and skipped.
    std::unordered_map<std::string, const IpEvent*> last_logon;
    for (const IpEvent& event : events) {
      if (event.kind == IpEvent::Kind::kLogon) {
        auto [it, inserted] = last_logon.try_emplace(event.ip, &event);
        if (!inserted && it->second->user_guid == event.user_guid &&
            it->second->lifetime_us == event.lifetime_us) {
          ++result.mapped;
          continue;
        }
        it->second = &event;
      } else {
        last_logon.erase(event.ip);
      }
      if (event.kind == IpEvent::Kind::kLogon &&
          writer.renew_ip(event.user_guid, event.ip, now_us + event.lifetime_us)) {
        ++result.mapped;  // most logons: the user's own IP again
        continue;
      }
      const pb::DirectoryObject* user = writer.find(event.user_guid);
      if (user == nullptr || user->kind() != pb::USER) {
        ++result.skipped;
      } else if (event.kind == IpEvent::Kind::kLogon) {
        writer.change_api_data(event.user_guid, {event.ip}, {}, now_us + event.lifetime_us,
                               std::nullopt);
        ++result.mapped;
      } else if (writer.ip_owner(event.ip) == event.user_guid) {
        writer.change_api_data(event.user_guid, {}, {event.ip}, 0, std::nullopt);
        ++result.unmapped;
      } else {
        ++result.skipped;
      }
    }
    if (stats != nullptr) *stats = result;
    if (result.mapped + result.unmapped == 0) return Status::ok();
    return commit(writer, CommitStats(), nullptr);
  }



  const std::string& store_id() const override { return store_id_; }

  uint64_t add_commit_listener(std::function<void()> listener) override {
    std::lock_guard lock(listeners_mutex_);
    listeners_.emplace(++last_listener_id_, std::move(listener));
    return last_listener_id_;
  }

  void remove_commit_listener(uint64_t id) override {
    std::lock_guard lock(listeners_mutex_);
    listeners_.erase(id);
  }


  Status put_ip_source_state(const pb::IpSourceState& state) override {
    return changefeed::put_ip_source_state(*database_, state);
  }
  std::optional<pb::IpSourceState> ip_source_state(const std::string& name) const override {
    return changefeed::ip_source_state(*database_, name);
  }
  Status put_consumer_state(const pb::FeedConsumerState& state) override {
    return changefeed::put_consumer_state(*database_, state);
  }
  std::optional<pb::FeedConsumerState> consumer_state(const std::string& name) const override {
    return changefeed::consumer_state(*database_, name);
  }
  void consumer_states(const Visitor<pb::FeedConsumerState>& visit) const override {
    changefeed::consumer_states(*database_, visit);
  }

  Status expire_ip_mappings(int64_t now_us, size_t limit, size_t* expired) override {
    std::lock_guard lock(write_mutex_);
    ChangeWriter writer(*database_, "", clock_.now_us(), position_);
    const size_t count = writer.expire_ip_mappings(now_us, limit);
    if (expired != nullptr) *expired = count;
    if (count == 0) return Status::ok();
    return commit(writer, CommitStats(), nullptr);
  }

  std::optional<pb::Cursor> cursor(const std::string& domain) const override {
    return SnapshotReader(*database_).get_message<pb::Cursor>(Table::kState, keys::cursor(domain));
  }

  Status put_directory(const pb::Directory& directory) override {
    if (directory.id().empty()) return Status::error("put_directory: no id");
    std::lock_guard lock(write_mutex_);
    rocksdb::WriteBatch batch;
    rocksdb::ColumnFamilyHandle* state = database_->table(Table::kState);
    rocksdb::Status status = batch.Put(state, keys::directory(directory.id()),
                                       directory.SerializeAsString());
    if (status.ok() && !SnapshotReader(*database_).get(Table::kState,
                                                       keys::directory(directory.id()))) {
      pb::WebhookState webhook;
      webhook.set_directory_id(directory.id());
      webhook.set_after_sequence(position_.sequence);
      status = batch.Put(state, keys::webhook_state(directory.id()), webhook.SerializeAsString());
    }
    if (status.ok()) status = database_->db()->Write(rocksdb::WriteOptions(), &batch);
    if (!status.ok()) return Status::error("storing directory " + directory.id() + " failed: " +
                                           status.ToString());
    return Status::ok();
  }

  Status update_directory(const std::string& id,
                          const std::function<bool(pb::Directory&)>& change,
                          bool* found) override {
    std::lock_guard lock(write_mutex_);
    return changefeed::update_directory(*database_, id, change, found);
  }

  Status delete_directory(const std::string& id, bool* existed, CommitStats* stats) override {
    std::lock_guard lock(write_mutex_);
    *existed = SnapshotReader(*database_).get(Table::kState, keys::directory(id)).has_value();
    if (!*existed) return Status::ok();
    const std::string source = scim_source(id);
    ChangeWriter writer(*database_, source, clock_.now_us(), position_, /*from_directory=*/false);
    remove_source_objects(writer, source);
    for (const std::string& key : changefeed::webhook_event_keys(*database_, id))
      writer.erase_state(key);
    writer.erase_state(keys::directory(id));
    writer.erase_state(keys::webhook_state(id));
    Status status = commit(writer, CommitStats(), stats);
    if (!status.is_ok()) return Status::error("deleting directory " + id + ": " + status.message());
    return Status::ok();
  }

  std::optional<pb::Directory> directory(const std::string& id) const override {
    return changefeed::directory(*database_, id);
  }

  void directories(const Visitor<pb::Directory>& visit) const override {
    changefeed::directories(*database_, visit);
  }

  std::optional<pb::WebhookState> webhook_state(const std::string& id) const override {
    return changefeed::webhook_state(*database_, id);
  }

  Status put_webhook_state(const pb::WebhookState& webhook) override {
    std::lock_guard lock(write_mutex_);
    return changefeed::put_webhook_state(*database_, webhook);
  }

  Status log_webhook_event(const pb::WebhookEvent& event, size_t max_per_directory) override {
    std::lock_guard lock(write_mutex_);
    return changefeed::log_webhook_event(*database_, event, max_per_directory);
  }

  void webhook_events(const std::string& directory_id,
                      const Visitor<pb::WebhookEvent>& visit) const override {
    changefeed::webhook_events(*database_, directory_id, visit);
  }

  std::optional<pb::WebhookEvent> webhook_event(const std::string& id) const override {
    return changefeed::webhook_event(*database_, id);
  }

  Status delete_webhook_events(const std::string& directory_id, size_t* deleted) override {
    std::lock_guard lock(write_mutex_);
    return changefeed::delete_webhook_events(*database_, directory_id, deleted);
  }

  Status prune_webhook_events(int64_t before_us, size_t* dropped) override {
    std::lock_guard lock(write_mutex_);
    return changefeed::prune_webhook_events(*database_, before_us, dropped);
  }

  std::optional<pb::DirectoryObject> object_by_guid(const std::string& guid) const override {
    return RocksView(*database_).object_by_guid(guid);
  }
  std::optional<pb::DirectoryObject> object_by_dn(const std::string& dn) const override {
    return RocksView(*database_).object_by_dn(dn);
  }
  std::optional<pb::DirectoryObject> object_by_ntlm(const std::string& identity) const override {
    return RocksView(*database_).object_by_ntlm(identity);
  }
  std::optional<pb::DirectoryObject> object_by_upn(const std::string& upn) const override {
    return RocksView(*database_).object_by_upn(upn);
  }
  std::optional<pb::DirectoryObject> group_by_sid(const std::string& sid) const override {
    return RocksView(*database_).group_by_sid(sid);
  }

  void objects_after(pb::ObjectKind kind, const std::string& domain,
                     const std::string& after_guid,
                     const Visitor<pb::DirectoryObject>& visit) const override {
    RocksView(*database_).objects_after(kind, domain, after_guid, visit);
  }

  void members(const std::string& group_guid,
               const Visitor<pb::DirectoryObject>& visit) const override {
    RocksView(*database_).members(group_guid, visit);
  }

  void api_members(const std::string& group_guid,
                   const Visitor<pb::DirectoryObject>& visit) const override {
    RocksView(*database_).api_members(group_guid, visit);
  }

  void changes_after_sequence(uint64_t after_sequence, const FeedQuery& query,
                              const Visitor<pb::Change>& visit) const override {
    RocksView(*database_).changes_after_sequence(after_sequence, query, visit);
  }

  void changes_after_time(int64_t after_us, const FeedQuery& query,
                          const Visitor<pb::Change>& visit) const override {
    RocksView(*database_).changes_after_time(after_us, query, visit);
  }

  uint64_t last_sequence() const override {
    std::optional<std::string> value =
        SnapshotReader(*database_).get(Table::kState, keys::kFeedPositionKey);
    std::optional<FeedPosition> position = value ? keys::decode_position(*value) : std::nullopt;
    return position ? position->sequence : 0;
  }

  std::unique_ptr<StoreView> view() const override {
    return std::make_unique<RocksView>(*database_);
  }

  bool has_rendered_records() const override { return database_->renderer() != nullptr; }

  std::optional<std::string> rendered(size_t shape, const std::string& guid) const override {
    if (database_->renderer() == nullptr) return std::nullopt;
    // One read: consistent without a snapshot.
    std::string value;
    if (!database_->db()
             ->Get(rocksdb::ReadOptions(), database_->table(Table::kRendered),
                   keys::rendered(shape, guid), &value)
             .ok()) {
      return std::nullopt;
    }
    return value;
  }

 private:
  // Commits a write and adopts its feed position. Caller holds write_mutex_.
  Status commit(ChangeWriter& writer, CommitStats result, CommitStats* stats) {
    Status status = writer.commit(&result);
    if (status.is_ok()) {
      const bool appended = writer.position().sequence != position_.sequence;
      position_ = writer.position();
      if (appended) signal_commit();
    }
    if (stats != nullptr) *stats = result;
    return status;
  }

  void signal_commit() {
    std::lock_guard lock(listeners_mutex_);
    for (const auto& [id, listener] : listeners_) listener();
  }

  std::unique_ptr<Database> database_;
  const Clock& clock_;
  std::mutex write_mutex_;
  FeedPosition position_;  // committed feed position; guarded by write_mutex_
  const std::string store_id_;
  std::mutex listeners_mutex_;  // taken after write_mutex_, never before
  std::map<uint64_t, std::function<void()>> listeners_;  // listeners_mutex_
  uint64_t last_listener_id_ = 0;                        // listeners_mutex_
};

}  // namespace

std::unique_ptr<Store> Store::open(const StoreOptions& options, const Clock& clock,
                                   std::string* error) {
  std::unique_ptr<Database> database = Database::open(options.path, options.read_only, error);
  if (!database) return nullptr;
  FeedPosition position;
  std::string value;
  rocksdb::Status status = database->db()->Get(
      rocksdb::ReadOptions(), database->table(Table::kState), keys::kFeedPositionKey, &value);
  if (status.ok()) {
    std::optional<FeedPosition> stored = keys::decode_position(value);
    if (!stored) {
      *error = "database " + options.path + ": unreadable feed position";
      return nullptr;
    }
    position = *stored;
  } else if (!status.IsNotFound()) {
    *error = "database " + options.path + ": " + status.ToString();
    return nullptr;
  }
  if (!options.read_only) {
    status = build_api_group_index(*database);
    if (!status.ok()) {
      *error = "database " + options.path + ": building the API group index failed: " +
               status.ToString();
      return nullptr;
    }
    status = build_ip_owner_index(*database);
    if (!status.ok()) {
      *error = "database " + options.path + ": building the IP owner index failed: " +
               status.ToString();
      return nullptr;
    }
    status = build_upn_index(*database);
    if (!status.ok()) {
      *error = "database " + options.path + ": building the UPN index failed: " +
               status.ToString();
      return nullptr;
    }
    database->set_renderer(options.renderer);
    status = prepare_rendered(*database);
    if (!status.ok()) {
      *error = "database " + options.path + ": rendering the objects failed: " +
               status.ToString();
      return nullptr;
    }
  }
  std::string store_id;
  if (Status id = read_store_id(*database, options.read_only, &store_id); !id.is_ok()) {
    *error = "database " + options.path + ": " + id.message();
    return nullptr;
  }
  return std::make_unique<RocksStore>(std::move(database), clock, position, std::move(store_id));
}

}  // namespace dirfeed::changefeed
