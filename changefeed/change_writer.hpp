#pragma once
// Internal to changefeed/: one write of the store (an apply_page or finish_full_sync call)
// from the first read to the commit of its single WriteBatch. It applies the change
// semantics of DESIGN.md section 5 as documented on Store::apply_page.
//
// Reads see the database as left by earlier commits plus everything this write has done so
// far: index, edge and primary-group writes go through a WriteBatchWithIndex, and objects
// through a cache of the ones this write touched. What is never read back during a write
// (objects, feed entries, state) goes to a plain WriteBatch, which is cheaper; commit copies
// the indexed records into it and writes that one batch. Memory therefore grows with what
// one page touches, never with the size of the directory.
//
// Not thread-safe: the caller holds the store's write lock from construction to commit, so
// the database under the batch does not change.
//
// Implemented in change_writer.cpp (the change semantics of an observation, the indexes),
// change_writer_commit.cpp (feed entries and their coalescing, the commit, reads and writes
// through the batch), api_writes.cpp (User ID API users, IP mappings and their expiry) and
// rendered.cpp (the rendered records, changefeed/renderer.hpp); source_write.hpp drives it
// for sources other than AD.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <rocksdb/utilities/write_batch_with_index.h>

#include "changefeed/database.hpp"
#include "changefeed/store.hpp"

namespace dirfeed::changefeed {

class ChangeWriter {
 public:
  // `now_us` stamps last_read_us and is the lower bound of the feed timestamps; `position` is
  // the feed position committed so far. `from_directory`: objects this write adds, and its
  // MEMBERSHIP entries, are AD's (true) or a source's (false, `domain` its source name).
  ChangeWriter(const Database& database, std::string domain, int64_t now_us, FeedPosition position,
               bool from_directory = true);

  // Loads these objects with one MultiGet (an optimisation: reads would load them anyway).
  void prefetch(const std::vector<std::string>& guids);

  // Diffs one observed object into the write. Returns false when it was ignored: a GUID that
  // is not 16 bytes, or an unknown object without a kind.
  bool apply(const pb::ObservedObject& observed);

  // Deletes a stored object with every consequence (indexes, edges both ways, member_of of
  // its members, feed entries). An unknown GUID is a no-op.
  void remove(const std::string& guid);

  void put_cursor(const pb::Cursor& cursor);

  // ---- User ID API writes (Store::create_user, change_user, delete_user, expiry) -------

  // The live object, or nullptr.
  const pb::DirectoryObject* find(const std::string& guid) { return live(guid); }
  // Whether a name index (kDnIndex, kNtlmIndex) holds `key`.
  bool index_taken(Table table, const std::string& key) { return exists(table, key); }
  // The GUID a name index (kSourceNames, ...) maps `key` to, as this write left it.
  std::optional<std::string> indexed(Table table, const std::string& key) {
    return get(table, key);
  }
  // The GUIDs of the live objects of one kind in a domain (or source), in GUID order, this
  // write's changes included.
  std::vector<std::string> domain_objects(const std::string& domain, pb::ObjectKind kind) {
    return suffixes(Table::kDomainIndex, keys::domain_kind_prefix(domain, kind));
  }
  // Removes a kState record in this write's batch.
  void erase_state(const std::string& key) { erase_unindexed(Table::kState, key); }
  // The user the IP (canonical text) is mapped to, if any.
  std::optional<std::string> ip_owner(const std::string& ip);
  // Stores a new API user (not from AD) and maps its ipv4/ipv6_addresses until
  // now + lifetime_us: ADD, then IP_ADD when it has addresses.
  void create_user(pb::DirectoryObject user, int64_t lifetime_us);
  // Unmaps `remove` (IP_DELETE when any was mapped), maps `add` until expires_us (IP_ADD for
  // the new ones; mapped ones are renewed silently) and, when `groups` is given, makes it the
  // user's api_groups (stored groups only; MODIFY when that changed). One user per IP: an IP
  // of `add` mapped to another user is unmapped there first (its IP_DELETE comes first). A
  // no-op for an unknown GUID.
  void change_api_data(const std::string& guid, const std::vector<std::string>& add,
                       const std::vector<std::string>& remove, int64_t expires_us,
                       const std::optional<std::vector<std::string>>& groups);
  // When the IP is mapped to `guid` already: moves its expiry to expires_us (no entry, the
  // object untouched) and returns true. Otherwise does nothing and returns false.
  bool renew_ip(const std::string& guid, const std::string& ip, int64_t expires_us);
  // Unmaps the mappings with expiry <= now_us among the first `limit` expiry entries due;
  // returns how many.
  size_t expire_ip_mappings(int64_t now_us, size_t limit);

  // Appends the coalesced MODIFY entries and writes everything in one WriteBatch, WAL on.
  // Nothing is written when a read of this write failed or the write itself fails.
  Status commit(CommitStats* stats);

  // The feed position after this write (valid to adopt once commit succeeded).
  const FeedPosition& position() const { return position_; }

 private:
  // An object as this write sees it: nullopt when not stored (or deleted by this write).
  struct CachedObject {
    std::optional<pb::DirectoryObject> live;
    bool needs_write = false;
  };

  CachedObject& cached(const std::string& guid);
  void load(CachedObject& entry, const rocksdb::Status& status, std::string_view value);
  pb::DirectoryObject* live(const std::string& guid);
  std::optional<std::string> group_by_sid(const std::string& sid);

  void add(const pb::ObservedObject& observed, CachedObject& entry);
  void modify(const pb::ObservedObject& observed, CachedObject& entry);

  // Updates the group's `member` edges as observed: replaced by `members` when members_known,
  // changed by `members`/`members_removed` when members_delta, else untouched. Returns
  // whether the effective membership of any stored object changed.
  bool update_members(const std::string& group, const pb::ObservedObject& observed);
  // Moves the user's primary-group index entry; returns the old SID ("" when none).
  std::string set_primary_index(const std::string& user, const std::string& sid);
  // Makes group ∈ member.member_of agree with the edges and the primary index, with the
  // feed entries that follow (MEMBERSHIP for users, coalesced MODIFYs). Returns whether
  // member_of changed. A no-op for a member that is not stored.
  bool reconcile(const std::string& member, const std::string& group);

  void update_indexes(const pb::DirectoryObject* before, const pb::DirectoryObject* after);
  // Notes in regrouped_ a group that is added, deleted or gets another dn (update_indexes).
  void note_group_change(const pb::DirectoryObject* before, const pb::DirectoryObject* after);
  // With a renderer: puts the records of every object this write stores (deletes those of the
  // objects it deletes) and of the members of the groups in regrouped_, into the batch.
  void render_changes();
  // Makes the user's kApiGroupMembers entries go from the groups `before` to `after`.
  void update_api_group_index(const std::string& user,
                              const google::protobuf::RepeatedPtrField<std::string>& before,
                              const google::protobuf::RepeatedPtrField<std::string>& after);
  void delete_index_entry(Table table, const std::string& key, const std::string& guid);

  // IP mapping rows (mapping, expiry, owner); unmap returns whether the mapping existed.
  // `owned`: the owner row already names `user` (not written again). Expiry rows are never
  // read through the batch, so they go to the unindexed one (cheaper per key).
  void map_ip(const std::string& user, const std::string& ip, int64_t expires_us, bool owned);
  bool unmap_ip(const std::string& user, const std::string& ip);
  // Emits an IP_ADD or IP_DELETE entry about the user as it is now.
  void emit_ip(pb::ChangeType type, pb::DirectoryObject& user);

  void mark_modified(const std::string& guid);
  // Assigns the next sequence number and timestamp.
  void stamp(pb::Change& change);
  // Records a stamped ADD or MODIFY entry on its object (last_change, last_change_us), so the
  // stored object and its newest entry agree.
  void stamp_last_change(pb::DirectoryObject& object, const pb::Change& change);
  // Puts a stamped entry into the feed tables.
  void write(const pb::Change& change);
  void emit(pb::Change change);
  void emit_object(pb::ChangeType type, const pb::DirectoryObject& object);
  void emit_membership(pb::ChangeType type, const std::string& user, const std::string& group);

  // Batch-and-database reads; a failed read is remembered and fails the commit.
  std::optional<std::string> get(Table table, const std::string& key);
  bool exists(Table table, const std::string& key);
  // The rest of every key that starts with `prefix`, in key order.
  std::vector<std::string> suffixes(Table table, const std::string& prefix);
  // Writes to tables read back during the write (indexes, edges, primary group).
  void put(Table table, const std::string& key, const std::string& value);
  void erase(Table table, const std::string& key);
  // Writes to tables never read back during the write (objects, feed, state).
  void put_unindexed(Table table, const std::string& key, const std::string& value);
  void erase_unindexed(Table table, const std::string& key);
  void note(const rocksdb::Status& status);

  const Database& database_;
  const std::string domain_;
  const int64_t now_us_;
  const bool from_directory_;
  FeedPosition position_;
  rocksdb::WriteBatchWithIndex indexed_;
  rocksdb::WriteBatch unindexed_;
  rocksdb::Status failure_;
  size_t changes_ = 0;

  std::unordered_map<std::string, CachedObject> objects_;
  // IP -> its owner row as this write has it (read once, kept by map_ip and unmap_ip).
  std::unordered_map<std::string, std::optional<std::string>> ip_owners_;
  // Objects owing a MODIFY entry, emitted once each at commit in first-marked order.
  std::vector<std::string> modified_order_;
  std::unordered_set<std::string> modified_;
  // ADD entries of this write, stamped but written at commit with the object's final state
  // (a later MODIFY of the same object in this write is absorbed).
  std::unordered_map<std::string, pb::Change> pending_adds_;
  // Groups added, deleted (false) or whose dn changed (true) in this write: their members'
  // rendered records name them (changefeed/renderer.hpp).
  std::unordered_map<std::string, bool> regrouped_;
  // The object whose ADD is being applied: its own ADD already carries its groups, so
  // neither it nor the groups it joins get a MODIFY for that.
  std::string adding_;
};

}  // namespace dirfeed::changefeed
