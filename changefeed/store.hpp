#pragma once
// The change feed store: objects, indexes, membership edges, the feed and cursors in one
// RocksDB database (DESIGN.md sections 5 and 6). RocksDB types never leave changefeed/.
//
// Threading: every method may be called from any thread. Writes are serialised inside the
// store (one writer at a time), so sequence numbers are gap-free and timestamps never
// decrease. Reads see a consistent snapshot per call.
//
// Feed order: sequence numbers start at 1 and have no gaps. Timestamps are strictly
// increasing: each entry gets max(clock.now_us(), previous timestamp + 1), so two entries
// never share a timestamp and "after timestamp T" never splits or repeats a write (when the
// clock stands still or goes back, timestamps run ahead of it by one microsecond per entry).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "changefeed/renderer.hpp"
#include "core/clock.hpp"
#include "core/status.hpp"
#include "dirfeed.pb.h"

namespace dirfeed::changefeed {

struct StoreOptions {
  std::string path;  // directory of the RocksDB database; created when missing
  // Opens an existing database for reading only, also while another process has it open
  // (`dirfeed status` next to the daemon): reads see its state as of the open; writes fail.
  bool read_only = false;
  // Read-write: keeps a rendered record per shape of every live object (changefeed/
  // renderer.hpp); nullptr keeps none. Must outlive the store.
  const Renderer* renderer = nullptr;
};

// What one committed write produced.
struct CommitStats {
  size_t changes = 0;     // feed entries appended
  size_t held_back = 0;   // deletes not applied (finish_full_sync over max_deletes)
  size_t unconfirmed = 0; // deletes not applied (finish_full_sync from a DC that was behind)
  size_t ignored = 0;     // observed objects skipped (apply_page: unknown GUID without a
                          // kind, or a GUID that is not 16 bytes)
};

// How finish_full_sync treats the objects a full sync did not see.
struct ReconcilePolicy {
  size_t max_deletes = SIZE_MAX;  // more would go: none is deleted, all are held back
  // false: the DC that served the sync was behind the store (issue 16), so what it lacks may
  // only not have reached it yet: none is deleted; their GUIDs go into the stored cursor's
  // `unconfirmed` list (replacing what it held).
  bool deletes_confirmed = true;
};

// Filters for feed reads.
struct FeedQuery {
  std::optional<pb::ObjectKind> kind;          // only this kind
  std::optional<bool> from_directory;          // only objects from AD (true) or the API (false)
  size_t limit = SIZE_MAX;                     // stop after this many matches
};

// Outcome of a User ID API write that did not fail in storage.
enum class ApiOutcome {
  kDone,
  kNotFound,   // no live user with that GUID
  kDuplicate,  // create_user: the GUID, DN or NTLM identity is taken
};

// What PUT /user changes on a user. IPs are in canonical text form (inet_ntop), group GUIDs
// name stored groups; the lists given are the whole request, absent lists are untouched.
struct UserChange {
  enum class Op { kAdd, kModify, kDelete };
  Op op = Op::kAdd;
  std::optional<std::vector<std::string>> ipv4;
  std::optional<std::vector<std::string>> ipv6;
  std::optional<std::vector<std::string>> groups;
  int64_t default_lifetime_us = 0;  // used when the user has no ip_timeout_s of its own
};

// One IP mapping change learned from a logon event (an IP source, DESIGN.md section 5).
struct IpEvent {
  enum class Kind { kLogon, kLogoff };
  Kind kind = Kind::kLogon;
  std::string user_guid;
  std::string ip;            // canonical text form (inet_ntop)
  int64_t lifetime_us = 0;   // logon: mapped until now + lifetime_us
};

// What one apply_ip_events call did.
struct IpEventStats {
  size_t mapped = 0;    // logons that mapped or renewed an IP
  size_t unmapped = 0;  // logoffs that removed a mapping of their user
  size_t skipped = 0;   // events naming no live user; logoffs of an IP the user does not have
};

// Sources other than AD (DESIGN.md section 5, "Sources and scopes"). A SCIM directory's objects
// live in the domain named by its source name, "scim:<directory id>": they are listed with
// objects_after(kind, source) and never belong to a configured AD domain, their feed entries
// have from_directory false, and DN, NTLM, SID and UPN indexes do not hold them (the User ID
// API and IP sources never find them); their unique names are in a source name index instead.
inline constexpr std::string_view kScimSourcePrefix = "scim:";
inline std::string scim_source(std::string_view directory_id) {
  return std::string(kScimSourcePrefix) + std::string(directory_id);
}
// Whether `domain` names a source other than AD (a SCIM directory).
inline bool is_source_domain(std::string_view domain) {
  return domain.starts_with(kScimSourcePrefix);
}

// One change a source makes to one of its objects (Store::write_source).
struct SourceChange {
  enum class Expect {
    kNew,       // a create: the GUID must not be stored
    kExisting,  // a replace or patch: the GUID must be a live object of this source
    kDelete,    // the GUID must be a live object of this source; it is deleted
  };
  Expect expect = Expect::kNew;
  // The object's full state (a partial observation is not accepted): kind USER or GROUP, the
  // attributes, external_id and source_resource. For groups, members_known (members is the
  // whole list) or members_delta (members added, members_removed removed) or neither (kept);
  // member GUIDs that are not live objects of this source are dropped. Only guid for kDelete.
  pb::ObservedObject observed;
};

// What write_source decided when storage did not fail.
enum class SourceOutcome {
  kDone,
  kNotFound,   // a kExisting or kDelete GUID is not a live object of the source
  kDuplicate,  // a kNew GUID is stored, or a user's user_principal_name (group: display_name)
               // is another object's of the source (ASCII case-insensitive)
};

// Called per result; return false to stop early.
template <typename T>
using Visitor = std::function<bool(const T&)>;
// Called per rendered record with the object's GUID and the record (valid during the call);
// return false to stop early.
using RecordVisitor = std::function<bool(std::string_view guid, std::string_view record)>;

// Both ends of the feed. prune_feed drops the oldest entries, so the oldest retained one can
// be newer than the first ever appended (sequence 1); the newest is remembered even when pruned.
struct FeedBounds {
  uint64_t oldest_sequence = 0;    // oldest retained entry; 0: none retained
  int64_t oldest_timestamp_us = 0;
  uint64_t newest_sequence = 0;    // newest entry ever appended; 0: the feed never had one
  int64_t newest_timestamp_us = 0;
};

// A read-only view of the store frozen when Store::view() returned (a database snapshot):
// reads through it never see a later write, so an answer read in several calls (a listing
// streamed piece by piece) is one consistent state, and its feed ends at feed_bounds().
// While it lives the database keeps that state's records: hold one for one response, not
// longer. Must not outlive its Store. Any thread.
class StoreView {
 public:
  virtual ~StoreView() = default;
  // As Store::objects_after and Store::changes_after_time, in the view's state.
  virtual void objects_after(pb::ObjectKind kind, const std::string& domain,
                             const std::string& after_guid,
                             const Visitor<pb::DirectoryObject>& visit) const = 0;
  virtual void changes_after_time(int64_t after_us, const FeedQuery& query,
                                  const Visitor<pb::Change>& visit) const = 0;
  virtual FeedBounds feed_bounds() const = 0;
  // The rendered records of `shape` (Store::has_rendered_records), in GUID order, starting
  // after the GUID `after_guid` (empty: from the first). Nothing without records. A call
  // that goes on after the last record the previous one visited continues its iteration
  // (which the view keeps until then) instead of seeking again.
  virtual void rendered_after(size_t shape, std::string_view after_guid,
                              const RecordVisitor& visit) const = 0;
};

// ---- the store's roles -------------------------------------------------------------------
// Store is these interfaces at once; a module takes the role it uses (and a test fakes just
// that one). Every role shares the store's threading and feed order above.

// Reads for the APIs and the tools: objects, memberships, the feed, cursors, records.
class StoreReads {
 public:
  virtual ~StoreReads() = default;

  // Queries have no error channel: a record that cannot be read is treated as absent.

  // Lookups of live (not deleted) objects. DN, NTLM identity (NETBIOS\sam) and
  // userPrincipalName compare ASCII case-insensitively.
  virtual std::optional<pb::DirectoryObject> object_by_guid(const std::string& guid) const = 0;
  virtual std::optional<pb::DirectoryObject> object_by_dn(const std::string& dn) const = 0;
  virtual std::optional<pb::DirectoryObject> object_by_ntlm(const std::string& identity) const = 0;
  // The object whose user_principal_name is `upn` (when several share one, the last written).
  virtual std::optional<pb::DirectoryObject> object_by_upn(const std::string& upn) const = 0;
  virtual std::optional<pb::DirectoryObject> group_by_sid(const std::string& sid) const = 0;

  // Live objects of one kind in `domain` (lower-case DNS name), or all domains when empty,
  // in GUID order, starting after the GUID `after_guid` (empty: from the first). Resuming
  // with the last GUID visited continues a listing in pieces (each piece its own snapshot).
  virtual void objects_after(pb::ObjectKind kind, const std::string& domain,
                             const std::string& after_guid,
                             const Visitor<pb::DirectoryObject>& visit) const = 0;
  void objects(pb::ObjectKind kind, const std::string& domain,
               const Visitor<pb::DirectoryObject>& visit) const {
    objects_after(kind, domain, "", visit);
  }
  // Live direct members through AD (users and groups, the primary group's users included) of
  // a group: listed members in GUID order, then primary-group users not listed. Users the API
  // put in the group are not members here (see api_members).
  virtual void members(const std::string& group_guid,
                       const Visitor<pb::DirectoryObject>& visit) const = 0;

  // Live users the User ID API put in a live group (the group's GUID in their api_groups), in
  // GUID order; nothing when group_guid is not a live group. Independent of members(): a user
  // in the group through AD as well is visited by both. A deleted group's API members are kept
  // in the users' api_groups, so a group that comes back with its GUID has them again.
  virtual void api_members(const std::string& group_guid,
                           const Visitor<pb::DirectoryObject>& visit) const = 0;

  // Feed entries with sequence > after_sequence, oldest first.
  virtual void changes_after_sequence(uint64_t after_sequence, const FeedQuery& query,
                                      const Visitor<pb::Change>& visit) const = 0;
  // Feed entries with timestamp_us > after_us, oldest first.
  virtual void changes_after_time(int64_t after_us, const FeedQuery& query,
                                  const Visitor<pb::Change>& visit) const = 0;
  // Sequence number of the newest entry (0 for an empty feed).
  virtual uint64_t last_sequence() const = 0;

  // A consistent view of the store as it is now (see StoreView).
  virtual std::unique_ptr<StoreView> view() const = 0;

  // The cursor stored for `domain`, if any.
  virtual std::optional<pb::Cursor> cursor(const std::string& domain) const = 0;

  // The live object of `source` of that kind whose unique name (users: user_principal_name,
  // groups: display_name) is `name`, compared ASCII case-insensitively.
  virtual std::optional<pb::DirectoryObject> source_object_by_name(const std::string& source,
                                                                   pb::ObjectKind kind,
                                                                   const std::string& name) const = 0;

  // ---- rendered records (changefeed/renderer.hpp) -----------------------------------------

  // Whether the store keeps rendered records: opened read-write with a renderer.
  virtual bool has_rendered_records() const = 0;
  // The record of the live object `guid` in `shape`; nullopt when it has none (or the store
  // keeps none).
  virtual std::optional<std::string> rendered(size_t shape, const std::string& guid) const = 0;
};

// The directory sync writer: what the pollers observe of AD.
class DirectoryWrites {
 public:
  virtual ~DirectoryWrites() = default;


  // Diffs `observed` against the stored objects of `domain` and writes, in one WriteBatch
  // (WAL on): the changed objects, their indexes, membership edges, one feed entry per real
  // change (DESIGN.md section 5) and `cursor`. An object read again unchanged produces no
  // entry. Either everything of the call is stored or nothing is.
  //
  // Objects are applied in order; each sees what the earlier ones of the page did.
  // - deleted: a stored object is removed with its indexes and edges; a DELETE entry carries
  //   its last state. Unknown GUIDs are skipped.
  // - unknown GUID: stored (kind required, else ignored) with from_directory, domain and
  //   last_read_us set; its ADD carries member_of, filled from groups that listed it earlier
  //   and from its primary group.
  // - known GUID: a partial observation overwrites only `present_fields` (named but empty
  //   clears); a full one replaces all attributes. Derived fields (guid, domain,
  //   from_directory, member_of, and kind when unspecified) are kept. Equal to the stored
  //   object apart from last_read_us: nothing is written. Otherwise MODIFY.
  // - groups with members_known: their `member` edges become exactly `members`; with
  //   members_delta: `members` are added and `members_removed` removed; with neither the
  //   edges stay as they are.
  // - an object is in a stored group (its member_of, members() of the group) when the group
  //   lists it, or, for a user, when the group's SID is its primary_group_sid (a partial
  //   observation that does not name primary_group_sid/primary_group_id keeps the stored
  //   one). Both at once count once.
  // When a stored object enters or leaves a group, its member_of changes, a user gets a
  // MEMBERSHIP ADD/DELETE entry, and the object and the group are marked modified, except
  // when the object itself is being added or deleted (its ADD or DELETE says it all: the
  // groups it joins or leaves that way get no MODIFY); a deleted group gets no MODIFY.
  // Marked objects get one MODIFY each per call, with their final state, after the call's
  // other entries, in the order they were first marked. An object ADDed by the call gets no
  // MODIFY at all: its ADD entry keeps its place in the feed but carries the object's state
  // at the end of the call. Member lists are never part of a group's record, and edges naming
  // GUIDs that are not stored are kept (not visible in members()) until the group's list
  // changes or the group is deleted.
  virtual Status apply_page(const std::string& domain,
                            const std::vector<pb::ObservedObject>& observed,
                            const pb::Cursor& cursor, CommitStats* stats = nullptr) = 0;

  // Ends a full sync: deletes (with feed entries, as for a deleted observation) every object
  // of `domain` with from_directory set whose GUID is not in `seen`, and stores `cursor`, in
  // one batch. When more than `policy.max_deletes` would be deleted, deletes none and reports
  // them as held back; when the deletes are not confirmed, deletes none and stores their GUIDs
  // as the cursor's `unconfirmed` (the cursor's own list is replaced; emptied when none). The
  // cursor is stored either way. Memory holds at most max_deletes GUIDs.
  virtual Status finish_full_sync(const std::string& domain,
                                  const std::unordered_set<std::string>& seen,
                                  const pb::Cursor& cursor, const ReconcilePolicy& policy,
                                  CommitStats* stats = nullptr) = 0;

  // The objects of `domain` with from_directory set whose GUID is not in `seen` (what
  // finish_full_sync would delete): how many in `count`, and the first `keep` of their GUIDs
  // (in the domain index's order) in `kept`. Streams the index.
  virtual Status unseen_objects(const std::string& domain,
                                const std::unordered_set<std::string>& seen, size_t keep,
                                std::vector<std::string>* kept, size_t* count) const = 0;
};

// Writes of the User ID API and the IP sources: API users, their groups, user-to-IP
// mappings and their expiry.
class ApiWrites {
 public:
  virtual ~ApiWrites() = default;

  // ---- writes from the User ID API -------------------------------------------------------
  // Each is one WriteBatch with its feed entries, like a poll page.

  // Creates a user that is not from AD. `user` carries guid (16 bytes), kind USER, domain
  // (may be empty), the attributes, api_groups (GUIDs; any that are not stored groups are
  // dropped), ip_timeout_s, and ipv4_addresses/ipv6_addresses (canonical, mapped for
  // ip_timeout_s or else default_lifetime_us). from_directory is forced false. kDuplicate
  // when the GUID, DN or NTLM identity (netbios_domain\sam_account_name) is taken. Feed: ADD
  // (with the final state) then, when it has IPs, IP_ADD.
  virtual Status create_user(const pb::DirectoryObject& user, int64_t default_lifetime_us,
                             ApiOutcome* outcome) = 0;

  // Applies PUT /user to any live user (AD or API). add: maps the IPs (re-adding a mapped
  // IP only renews its expiry, no entry; an IP mapped to another user leaves that one, with
  // an IP_DELETE there first: one user per IP) and adds the groups to api_groups; modify: each
  // given list replaces that family's IPs / the api_groups; delete: unmaps the IPs and
  // removes the groups from api_groups (absent ones are ignored). Groups the user is in
  // through AD (member_of) are not api_groups and stay. Feed, in this order: IP_DELETE when
  // IPs went, IP_ADD when IPs came, MODIFY when api_groups changed; nothing when nothing did.
  virtual Status change_user(const std::string& guid, const UserChange& change,
                             ApiOutcome* outcome) = 0;

  // DELETE /user. A user created through the API is deleted (DELETE entry; its mappings go
  // with it). A user from AD is not deleted (AD owns it): its API data goes, its IP mappings
  // (IP_DELETE) and api_groups (MODIFY). kNotFound when no live user has the GUID.
  virtual Status delete_user(const std::string& guid, ApiOutcome* outcome) = 0;

  // ---- writes from IP sources -------------------------------------------------------------

  // Applies `events` in order in one WriteBatch (WAL on), with their feed entries, to live
  // users of any source. A logon maps the IP to the user as change_user's add does (IP_ADD;
  // a mapped IP only gets its new expiry, the last writer's) and so takes it from any other
  // user (IP_DELETE there first): one user per IP. A logoff unmaps the IP (IP_DELETE) when it
  // is mapped to that user, and does nothing otherwise (another user's logon took it since).
  virtual Status apply_ip_events(const std::vector<IpEvent>& events,
                                 IpEventStats* stats = nullptr) = 0;

  // Stores what IP source state.name() did (for `dirfeed status`; no feed entry), replacing
  // the last state of that name.
  virtual Status put_ip_source_state(const pb::IpSourceState& state) = 0;
  virtual std::optional<pb::IpSourceState> ip_source_state(const std::string& name) const = 0;

  // Removes IP mappings whose expiry is <= now_us (at most `limit` per call), one IP_DELETE
  // per user. Reports how many mappings went.
  virtual Status expire_ip_mappings(int64_t now_us, size_t limit = 10000,
                                    size_t* expired = nullptr) = 0;
};

// The Directory Sync API's own state, and the objects SCIM directories push.
class SyncState {
 public:
  virtual ~SyncState() = default;

  // ---- writes from other sources (SCIM directories) ---------------------------------------

  // Applies `changes` of `source` (a source name, see is_source_domain) in order, in one
  // WriteBatch (WAL on) with their feed entries, with the change semantics of apply_page:
  // ADD, MODIFY (when anything but last_read_us changed), DELETE, MEMBERSHIP ADD/DELETE and
  // coalesced MODIFYs of groups and users whose membership changed; every entry has
  // from_directory false and domain `source`. All or nothing: when a change's expectation
  // fails (*outcome kNotFound or kDuplicate), nothing of the call is written.
  virtual Status write_source(const std::string& source, const std::vector<SourceChange>& changes,
                              SourceOutcome* outcome, CommitStats* stats = nullptr) = 0;

  // ---- Directory Sync API: directories and their webhook delivery state -----------------
  // No feed entries: directories are configuration, not directory data.

  // Stores `directory` under its id, replacing one with that id. When no directory had that
  // id, its webhook state is created in the same write, at the feed's newest sequence: its
  // webhook delivers the changes that come after its creation.
  virtual Status put_directory(const pb::Directory& directory) = 0;
  // Changes the stored directory `id` in place: `change` runs under the store's write lock, so
  // no other write of directories comes in between (concurrent updates never lose one
  // another's fields, and an update never brings back a deleted directory). `change` returns
  // false to leave it as it was. *found false: there is no such directory, nothing written.
  virtual Status update_directory(const std::string& id,
                                  const std::function<bool(pb::Directory&)>& change,
                                  bool* found) = 0;
  // Removes a directory, its webhook state and every object of its source scim_source(id)
  // (pushed by an identity provider), in one batch: each object gets the DELETE (and a user its
  // MEMBERSHIP DELETE) entries a deletion records; groups go first. Memory grows with the
  // number of objects of the source. *existed says whether there was a directory.
  virtual Status delete_directory(const std::string& id, bool* existed,
                                  CommitStats* stats = nullptr) = 0;
  virtual std::optional<pb::Directory> directory(const std::string& id) const = 0;
  // Every directory, in id order.
  virtual void directories(const Visitor<pb::Directory>& visit) const = 0;
  virtual std::optional<pb::WebhookState> webhook_state(const std::string& id) const = 0;
  // Stores the state of directory state.directory_id(); a no-op (ok) when that directory no
  // longer exists, so a delivery finishing after a DELETE does not bring its state back.
  virtual Status put_webhook_state(const pb::WebhookState& state) = 0;

  // ---- Directory Sync API: the webhook event log (log_webhook_events) ---------------------
  // No feed entries. A directory's events are deleted with it (delete_directory).

  // Logs one POST of a directory's webhook (event.directory_id, id, created_us set); when the
  // directory then has more than max_per_directory, its oldest goes in the same write.
  virtual Status log_webhook_event(const pb::WebhookEvent& event, size_t max_per_directory) = 0;
  // The directory's logged events, newest first.
  virtual void webhook_events(const std::string& directory_id,
                              const Visitor<pb::WebhookEvent>& visit) const = 0;
  virtual std::optional<pb::WebhookEvent> webhook_event(const std::string& id) const = 0;
  // Deletes every logged event of the directory; *deleted: how many.
  virtual Status delete_webhook_events(const std::string& directory_id, size_t* deleted) = 0;
};

// Retention, the feed consumers' cursors, the store's identity and its commit signal.
class StoreMaintenance {
 public:
  virtual ~StoreMaintenance() = default;

  // ---- retention --------------------------------------------------------------------------

  // Drops feed entries with timestamp_us < before_us (feed.retention); objects, indexes,
  // cursors and sequence numbering are untouched. Returns how many were dropped.
  virtual Status prune_feed(int64_t before_us, uint64_t* dropped = nullptr) = 0;

  // Drops the events logged before before_us, of every directory.
  virtual Status prune_webhook_events(int64_t before_us, size_t* dropped = nullptr) = 0;

  // ---- feed consumers (changefeed/feed_consumer.hpp) ---------------------------------------
  // No feed entries. Each consumer's state is its own record (one Put).

  virtual Status put_consumer_state(const pb::FeedConsumerState& state) = 0;
  virtual std::optional<pb::FeedConsumerState> consumer_state(const std::string& name) const = 0;
  // Every consumer's state, in name order.
  virtual void consumer_states(const Visitor<pb::FeedConsumerState>& visit) const = 0;

  // This database's id, 32 hex digits, made when a read-write open first finds none and never
  // changed. It names the feed's entries outside the store (a NATS message id is
  // "<store id>-<sequence>"), so the entries of a new database are never taken for an old
  // one's. Empty only for a read-only open of a database that has none yet.
  virtual const std::string& store_id() const = 0;

  // The commit signal: calls `listener` after every write that appended feed entries, on the
  // writing thread with the store's write lock held, so it must only take note and return
  // (wake a thread), never call the store. Returns an id for remove_commit_listener; once that
  // returns, the listener is never called again.
  virtual uint64_t add_commit_listener(std::function<void()> listener) = 0;
  virtual void remove_commit_listener(uint64_t id) = 0;
};

class Store : public StoreReads,
              public DirectoryWrites,
              public ApiWrites,
              public SyncState,
              public StoreMaintenance {
 public:
  // Opens (creating when missing, with its missing parents, owner-only: 0700) the database at
  // options.path. Read-write, a database of an older dirfeed gets the tables it lacks, the API
  // group index (api_members) and the UPN index (object_by_upn) are built from its objects once
  // (one read of all objects each) and the IP owner index (one user per IP) from its mappings
  // once. On failure returns nullptr and sets *error to a message naming the path and the
  // cause.
  static std::unique_ptr<Store> open(const StoreOptions& options, const Clock& clock,
                                     std::string* error);
};

}  // namespace dirfeed::changefeed
