#include "ldap/pass.hpp"

#include <boost/log/trivial.hpp>

#include <algorithm>
#include <future>
#include <sstream>

#include "core/dn.hpp"
#include "ldap/ad_object.hpp"
#include "ldap/controller_info.hpp"
#include "ldap/delete_guard.hpp"
#include "ldap/loop_guard.hpp"
#include "ldap/replication.hpp"
#include "ldap/values.hpp"

namespace dirfeed::ldap {
namespace {

constexpr char kUsn[] = "usn";
constexpr char kDirSync[] = "dirsync";
// LDAP_DIRSYNC_INCREMENTAL_VALUES: linked values come as deltas, `member;range=1-1` added and
// `member;range=0-0` removed. Without it Samba reports added values only, never removals.
constexpr int kDirSyncIncrementalValues = static_cast<int>(0x80000000u);

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

// One pass on one connection. Collects a page of observed objects, commits it with the
// cursor, and tracks the GUIDs a full sync has seen.
class Pass {
 public:
  Pass(const DomainOptions& options, PassSink& sink, const ControllerHealth& health,
       Directory& connection, const std::atomic<bool>& stop, PassResult& result)
      : options_(options), sink_(sink), health_(health), clock_(health.clock()),
        connection_(connection), stop_(stop), result_(result) {}

  Error run() {
    auto started = std::chrono::steady_clock::now();
    ControllerInfo& info = info_;
    if (Error error = read_controller_info(connection_, info)) return error;
    if (Error error = read_domain_context(connection_, options_, info, context_)) return error;
    BOOST_LOG_TRIVIAL(debug) << "domain " << options_.name << ": " << connection_.uri()
                             << " read in " << elapsed_ms(started) << " ms";
    stored_ = sink_.load_cursor(options_.name);
    const std::optional<pb::Cursor>& stored = stored_;
    deletes_allowed_ = sink_.deletes_allowed(options_.name);
    cursor_ = stored.value_or(pb::Cursor());
    cursor_.set_domain(options_.name);
    cursor_.set_controller(connection_.uri());
    cursor_.set_domain_sid(context_.domain_sid);
    cursor_.set_netbios_name(context_.netbios_name);
    set_problems(cursor_, health_.snapshot());
    clear_hold(cursor_);  // a pass that commits is not held
    initial_cursor_ = cursor_;
    Error error = strategy_pass();
    if (error && !cookie_refused_.empty() && !stopped()) {
      // The DC cannot use the stored DirSync cookie (unreadable for it, or from elsewhere):
      // a full resync from no cookie on this DC, which records nothing for unchanged objects.
      BOOST_LOG_TRIVIAL(warning) << "domain " << options_.name << ": " << connection_.uri()
                                 << " refused the stored DirSync cookie (" << cookie_refused_
                                 << "); full resync from this DC";
      if (!wait_for_commit()) return sink_error();
      for (pb::Cursor* cursor : {&*stored_, &initial_cursor_}) {
        cursor->clear_dirsync_cookie();
        cursor->clear_dirsync_group_cookie();
      }
      restart_reading();
      error = strategy_pass();
    }
    if (!error && reread_) {
      // The delete guard counted more objects than it keeps and found the deletes within the
      // limit: the pass again from the stored cursor, committed page by page.
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": " << result_.objects
                              << " entries, within the delete limit; reading them again to commit";
      reread_ = false;
      streaming_ = true;
      restart_reading();
      error = strategy_pass();
    }
    return error;
  }

 private:
  // Forgets what this pass read so far, to read again from stored_ (nothing of it committed
  // but pages that are in the store already).
  void restart_reading() {
    guard_.reset();
    cursor_ = initial_cursor_;
    page_.clear();
    seen_.clear();
    range_error_ = {};
    cookie_refused_.clear();
    result_ = PassResult();
    result_.controller = connection_.uri();
  }

  Error strategy_pass() {
    if (options_.sync.strategy == Strategy::kUsn) return usn_pass(stored_, info_);
    return dirsync_pass(stored_);
  }

  // ---- the delete guard (delete_guard.hpp) -------------------------------------------------

  // The domain's objects from AD in the store, when max_delete_percent needs them (else 0).
  std::optional<size_t> objects_for_limit() {
    if (options_.sync.max_delete_percent <= 0) return 0;
    std::vector<std::string> none;
    return sink_.unseen_objects(options_.name, {}, 0, none);
  }

  // Checks `deletes` against the limit. Over it: the pass is held (nothing of it committed;
  // the stored cursor gets the hold), `held` set. Within it only thanks to the admin's
  // allowance: uses_allowance_ (withdrawn once the pass committed).
  Error check_deletes(size_t deletes, std::vector<std::string> listed, const std::string& what,
                      bool& held) {
    held = false;
    if (deletes == 0) return {};
    std::optional<size_t> objects = objects_for_limit();
    if (!objects) return sink_error();
    const size_t limit = delete_limit(options_.sync, *objects, deletes_allowed_);
    if (deletes <= limit) {
      uses_allowance_ = uses_allowance_ || deletes > delete_limit(options_.sync, *objects, 0);
      return {};
    }
    held = true;
    pb::Cursor hold = initial_cursor_;
    const int64_t since = stored_ && stored_->held_deletes() > 0 ? stored_->held_since_us()
                                                                 : clock_.now_us();
    std::string reason = what + " on " + connection_.uri() + " would delete " +
                         std::to_string(deletes) + " objects, more than " +
                         delete_limit_words(options_.sync, *objects) + " allows";
    record_hold(hold, deletes, std::move(listed), reason, since);
    if (!sink_.commit_page(options_.name, {}, hold)) return sink_error();
    result_.held_back = deletes;
    BOOST_LOG_TRIVIAL(error) << "domain " << options_.name << ": held: " << reason
                             << "; nothing of the pass is committed. `dirfeed deletes show --domain "
                             << options_.name << "` lists them, `dirfeed deletes allow` lets "
                             << "them through, a higher limit too";
    return {};
  }

  // Before a full sync that may delete: reads only the GUIDs in scope, and holds the sync
  // when the objects it would delete are over the limit (then `held`).
  Error prescan_full_sync(bool& held) {
    held = false;
    if (!stored_ || stored_->strategy().empty()) return {};  // nothing stored to delete
    if (deletes_allowed_ == 0 && !behind_reason().empty()) return {};  // deletes nothing
    GuidSet seen;
    for (const std::string& filter : {options_.sync.group_filter, options_.sync.user_filter}) {
      SearchRequest request{context_.base_dn, Scope::kSubtree, filter, {"objectGUID"}};
      Error error = connection_.paged_search(
          request, options_.sync.page_size,
          [&](Entry&& entry) {
            std::string guid(entry.first("objectguid"));
            bool in_scope = context_.search_bases.empty();
            for (const auto& base : context_.search_bases) {
              in_scope = in_scope || dn_within(entry.dn, base);
            }
            if (guid.size() == 16 && in_scope) seen.insert(std::move(guid));
            return !stopped();
          },
          [&] { return !stopped(); });
      if (error || stopped()) return error;
    }
    std::vector<std::string> listed;
    std::optional<size_t> unseen =
        sink_.unseen_objects(options_.name, seen, DeleteGuard::kMaxListed, listed);
    if (!unseen) return sink_error();
    return check_deletes(*unseen, std::move(listed), "a full sync", held);
  }

  // The end of a guarded incremental pass: commit what the guard kept, hold, or read again.
  Error settle_guard() {
    bool held = false;
    if (Error error = check_deletes(guard_->deletes(), guard_->listed(), "an incremental pass",
                                    held);
        error || held) {
      return error;
    }
    if (guard_->overflowed()) {
      reread_ = true;
      return {};
    }
    if (!guard_->commit()) return sink_error();
    if (uses_allowance_) sink_.allowance_used(options_.name);
    return {};
  }

  // The decision of DESIGN.md section 4: a cursor from another DC, another database identity,
  // or a USN above the DC's highest means a full resync, never a silent gap.
  std::string usn_full_sync_reason(const std::optional<pb::Cursor>& stored,
                                   const ControllerInfo& info) const {
    if (!stored) return "first sync";
    if (stored->strategy() != kUsn) return "strategy changed to usn";
    if (!stored->full_sync_done()) return "previous full sync did not finish";
    if (stored->ds_service_name() != info.ds_service_name) {
      return "controller changed (" + stored->ds_service_name() + " -> " + info.ds_service_name +
             ")";
    }
    if (stored->invocation_id() != info.invocation_id) return "invocationId changed (DC restored)";
    if (info.highest_usn < stored->usn()) {
      return "USN rollback (highestCommittedUSN " + std::to_string(info.highest_usn) +
             " < cursor " + std::to_string(stored->usn()) + ")";
    }
    return confirm_reason();
  }

  // Why a full sync is due to decide the stored cursor's unconfirmed objects, or "": they
  // wait, and this DC is now up to date (or an admin allowed the deletes).
  std::string confirm_reason() const {
    if (!stored_ || stored_->unconfirmed().empty()) return {};
    std::string objects = std::to_string(stored_->unconfirmed_size()) + " unconfirmed objects";
    if (deletes_allowed_ > 0) return objects + ": an admin allowed their deletes";
    if (!behind_reason().empty()) return {};
    return objects + ": " + connection_.uri() + " is now up to date";
  }

  // Why this DC may lack objects only because changes the store holds have not reached it yet
  // (issue 16: its up-to-dateness vector does not cover the stored seen_vector), or "". A
  // first sync, or a store from before seen_vector, has nothing to be behind.
  std::string behind_reason() const {
    if (!stored_ || stored_->seen_vector().empty()) return {};
    std::string gap = uncovered(info_.up_to_date, info_.invocation_id, stored_->seen_vector());
    if (gap.empty()) return {};
    return connection_.uri() + " has not replicated everything the store holds (" + gap + ")";
  }

  // Records in cursor_ what the store will reflect of the domain's replication once this pass
  // commits: the DC's vector as of now; merged with what the store held before unless a full
  // sync on an up-to-date DC replaced the store's state with this DC's.
  Error record_seen_vector(bool replaces) {
    int64_t highest_usn = 0;
    if (Error error = read_highest_usn(connection_, highest_usn)) return error;
    ReplicationVector now = controller_vector(info_.up_to_date, info_.invocation_id, highest_usn);
    if (replaces) cursor_.clear_seen_vector();
    merge_vector(*cursor_.mutable_seen_vector(), now);
    return {};
  }

  // Groups are read before users, so a user's first record already carries its groups (the
  // store keeps edges to members it has not seen yet).
  Error usn_pass(const std::optional<pb::Cursor>& stored, const ControllerInfo& info) {
    std::string reason = usn_full_sync_reason(stored, info);
    cursor_.set_strategy(kUsn);
    cursor_.clear_dirsync_cookie();
    std::string changed_since;
    if (!reason.empty()) {
      bool held = false;
      if (Error error = prescan_full_sync(held); error || held || stopped()) return error;
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": full sync from "
                              << connection_.uri() << " (" << reason << ")";
      result_.full_sync = true;
      cursor_.set_full_sync_done(false);
    } else {
      if (info.highest_usn == stored->usn()) return finish_incremental(info);
      changed_since = "(uSNChanged>=" + std::to_string(stored->usn() + 1) + ")";
      if (!streaming_) guard_.emplace(sink_, options_.name);
    }
    // A full sync reads groups, then users. An incremental pass reads everything changed in
    // one search (pages are ordered groups first, see commit_page), with tombstones: they lose
    // objectCategory, so only (isDeleted=TRUE) finds them.
    std::vector<std::string> searches;
    if (changed_since.empty()) {
      searches = {options_.sync.group_filter, options_.sync.user_filter};
    } else {
      searches = {"(&" + changed_since + "(|" + options_.sync.group_filter +
                  options_.sync.user_filter + "(isDeleted=TRUE)))"};
    }
    for (const std::string& filter : searches) {
      SearchRequest request;
      request.base = context_.base_dn;
      request.filter = filter;
      request.attributes = object_attributes(options_.sync.member_range_step);
      request.extended_dn = true;
      request.show_deleted = !changed_since.empty();
      auto started = std::chrono::steady_clock::now();
      size_t objects_before = result_.objects;
      Error error = connection_.paged_search(
          request, options_.sync.page_size,
          [&](Entry&& entry) { return take(entry, ReadMode::kComplete); },
          [&] { return commit_page(); });
      BOOST_LOG_TRIVIAL(debug) << "domain " << options_.name << ": search " << filter << ": "
                               << result_.objects - objects_before << " entries in "
                               << elapsed_ms(started) << " ms";
      if (error || stopped()) return error;
      if (sink_failed_ || !range_error_.message.empty()) break;  // reported by finish_*
    }
    if (result_.full_sync) {
      cursor_.set_ds_service_name(info.ds_service_name);
      cursor_.set_invocation_id(info.invocation_id);
      cursor_.set_usn(info.highest_usn);
      return finish_full_sync();
    }
    return finish_incremental(info);
  }

  // Two DirSync streams, each with its own cookie: groups (and tombstones) first, then users,
  // for the same reason usn_pass reads groups first.
  Error dirsync_pass(const std::optional<pb::Cursor>& stored) {
    bool full = !stored || stored->strategy() != kDirSync || !stored->full_sync_done() ||
                stored->dirsync_cookie().empty() || stored->dirsync_group_cookie().empty();
    std::string confirm = full ? std::string() : confirm_reason();
    full = full || !confirm.empty();
    cursor_.set_strategy(kDirSync);
    if (!full && !streaming_) guard_.emplace(sink_, options_.name);
    if (full) {
      bool held = false;
      if (Error error = prescan_full_sync(held); error || held || stopped()) return error;
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": full sync (DirSync) from "
                              << connection_.uri() << (confirm.empty() ? "" : " (" + confirm + ")");
      result_.full_sync = true;
      cursor_.set_full_sync_done(false);
      cursor_.clear_dirsync_cookie();
      cursor_.clear_dirsync_group_cookie();
    }
    // A DirSync from no cookie returns every object whole: read it as complete.
    ReadMode mode = full ? ReadMode::kComplete : ReadMode::kDirSyncIncremental;
    // Tombstones lose objectCategory, so they would not match a user filter.
    std::string group_filter = "(|" + options_.sync.group_filter + "(isDeleted=TRUE))";
    if (Error error = dirsync_stream(group_filter, mode, *cursor_.mutable_dirsync_group_cookie())) {
      return error;
    }
    if (Error error = dirsync_stream(options_.sync.user_filter, mode,
                                     *cursor_.mutable_dirsync_cookie())) {
      return error;
    }
    if (stopped()) return {};
    if (full) return finish_full_sync();
    if (!wait_for_commit()) return sink_error();
    if (Error error = record_seen_vector(/*replaces=*/false)) return error;
    result_.unconfirmed = cursor_.unconfirmed_size();
    cursor_.set_full_sync_done(true);
    cursor_.set_last_pass_us(clock_.now_us());
    if (guard_) {
      guard_->keep({}, cursor_);
      return settle_guard();
    }
    if (!sink_.commit_page(options_.name, {}, cursor_)) return sink_error();
    return {};
  }

  // Reads one DirSync stream from `cookie` until the server has no more, committing pages;
  // `cookie` (a field of cursor_) moves with each response.
  Error dirsync_stream(const std::string& filter, ReadMode mode, std::string& cookie) {
    SearchRequest request;
    request.base = context_.base_dn;
    request.filter = filter;
    request.attributes = object_attributes(0);
    request.extended_dn = true;
    bool more = true;
    for (uint64_t round = 1; more && !stopped(); ++round) {
      std::string next_cookie;
      Error error = connection_.dirsync_search(
          request, kDirSyncIncrementalValues, cookie,
          [&](Entry&& entry) { return take(entry, mode); }, next_cookie, more);
      if (error) {
        // (An incremental pass reads from the stored cookies, so stored_ is set.)
        if (mode == ReadMode::kDirSyncIncremental && refuses_cookie(error)) {
          cookie_refused_ = error.message;
        }
        return error;
      }
      if (stopped()) return {};  // the search was abandoned: no cookie to keep
      if (!range_error_.message.empty()) return range_error_;
      // This round's objects are not committed then: the stream goes on from the last cookie.
      if (std::string problem = dirsync_round_problem(round, cookie, next_cookie, more);
          !problem.empty()) {
        return {-1, connection_.uri() + ": " + problem + " (filter " + filter + ")"};
      }
      cookie = next_cookie;
      if (!commit_page(/*cursor_moved=*/true)) return stopped() ? Error{} : sink_error();
    }
    return {};
  }

  // Decodes one entry into the page, following ranged `member` retrieval to the end. Each
  // range must start where the last one ended (MemberRangeGuard): a DC that answers the same
  // range again cannot keep the pass here.
  bool take(const Entry& entry, ReadMode mode) {
    ++result_.objects;
    MemberRange range;
    auto observed = decode_object(entry, context_, mode, &range);
    if (!observed) return true;
    if (!observed->deleted()) seen_.insert(observed->object().guid());
    MemberRangeGuard guard;
    while (true) {
      if (std::string problem = guard.check(range); !problem.empty()) {
        range_error_ = {-1, connection_.uri() + ": group " + parse_extended_dn(entry.dn).dn +
                                ": " + problem};
        return false;
      }
      if (range.complete) break;
      if (Error error = read_member_range(entry.dn, guard.next_start(), *observed, range)) {
        range_error_ = std::move(error);
        return false;
      }
    }
    page_.push_back(std::move(*observed));
    // A response larger than a page (DirSync) is committed in pages too, with the cursor from
    // before it: re-reading those objects after a crash records nothing new.
    if (page_.size() >= static_cast<size_t>(options_.sync.page_size)) return commit_page();
    return true;
  }

  // Reads the values of the group from index `start` on into `observed` and their range.
  Error read_member_range(const std::string& extended_dn, int64_t start,
                          pb::ObservedObject& observed, MemberRange& range) {
    int step = options_.sync.member_range_step;
    std::string attribute = "member;range=" + std::to_string(start) + "-" +
                            (step > 0 ? std::to_string(start + step - 1) : "*");
    std::optional<Entry> entry;
    SearchRequest request{parse_extended_dn(extended_dn).dn, Scope::kBase, "(objectClass=*)",
                          {attribute}};
    request.extended_dn = true;
    if (Error error = connection_.read_entry(request, entry)) return error;
    if (!entry) return {-1, connection_.uri() + ": group " + request.base + " vanished during ranged read"};
    range = take_members(*entry, observed);
    return {};
  }

  // Hands the page and the cursor to the sink on another thread, so reading the next page
  // overlaps with storing this one. Pages are stored in order: the previous commit is waited
  // for first. An empty page is committed only when it is the first or `cursor_moved`.
  bool commit_page(bool cursor_moved = false) {
    if (!range_error_.message.empty() || stopped()) return false;
    if (!wait_for_commit()) return false;
    if (page_.empty() && result_.pages > 0 && !cursor_moved) return true;
    // Deleted users, deleted groups, groups, users: a deleted user leaves its groups before
    // they go, and users find their groups' edges already stored.
    auto rank = [](const pb::ObservedObject& observed) {
      bool group = observed.object().kind() == pb::GROUP;
      if (observed.deleted()) return group ? 1 : 0;
      return group ? 2 : 3;
    };
    std::stable_sort(page_.begin(), page_.end(),
                     [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    if (guard_) {  // kept until the pass ends
      guard_->keep(std::move(page_), cursor_);
      page_.clear();
      ++result_.pages;
      return true;
    }
    pending_commit_ = std::async(std::launch::async,
                                 [this, page = std::move(page_), cursor = cursor_] {
                                   return sink_.commit_page(options_.name, page, cursor);
                                 });
    page_.clear();
    ++result_.pages;
    return true;
  }

  // Waits for the page being stored, if any; false once any commit failed.
  bool wait_for_commit() {
    if (pending_commit_.valid() && !pending_commit_.get()) sink_failed_ = true;
    return !sink_failed_;
  }

  Error finish_full_sync() {
    if (!range_error_.message.empty()) return range_error_;
    if (!page_.empty() && !commit_page()) return sink_error();
    if (!wait_for_commit()) return sink_error();
    Reconcile how;
    std::optional<size_t> objects = objects_for_limit();
    if (!objects) return sink_error();
    how.max_deletes = delete_limit(options_.sync, *objects, deletes_allowed_);
    std::string behind = deletes_allowed_ > 0 ? std::string() : behind_reason();
    how.deletes_confirmed = behind.empty();
    if (Error error = record_seen_vector(/*replaces=*/how.deletes_confirmed)) return error;
    if (!how.deletes_confirmed) {
      cursor_.set_unconfirmed_reason(behind);
      if (cursor_.unconfirmed().empty()) cursor_.set_unconfirmed_since_us(clock_.now_us());
    }
    cursor_.set_full_sync_done(true);
    cursor_.set_last_pass_us(clock_.now_us());
    ReconcileResult reconciled;
    if (!sink_.finish_full_sync(options_.name, seen_, cursor_, how, reconciled)) {
      return sink_error();
    }
    result_.held_back = reconciled.held_back;
    result_.unconfirmed = reconciled.unconfirmed;
    // The allowance was for this resync (whatever it deleted, unconfirmed objects included).
    if (deletes_allowed_ > 0 && reconciled.held_back == 0) sink_.allowance_used(options_.name);
    if (reconciled.held_back > 0) {
      BOOST_LOG_TRIVIAL(error) << "domain " << options_.name << ": full sync would delete "
                               << reconciled.held_back << " objects, more than max_deletes ("
                               << how.max_deletes << "); deletes held back";
    }
    if (reconciled.unconfirmed > 0) {
      BOOST_LOG_TRIVIAL(warning)
          << "domain " << options_.name << ": " << reconciled.unconfirmed
          << " objects the store holds are missing on " << connection_.uri()
          << "; not deleted but kept as unconfirmed, because " << behind
          << ". A pass on an up-to-date DC confirms or deletes them; `dirfeed deletes show "
          << "--domain " << options_.name << "` lists them, `dirfeed deletes allow` deletes them";
    } else if (stored_ && !stored_->unconfirmed().empty()) {
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": the "
                              << stored_->unconfirmed_size()
                              << " unconfirmed objects are decided (full sync on "
                              << connection_.uri() << ")";
    }
    return {};
  }

  Error finish_incremental(const ControllerInfo& info) {
    if (!range_error_.message.empty()) return range_error_;
    if (!wait_for_commit()) return sink_error();
    if (Error error = record_seen_vector(/*replaces=*/false)) return error;
    result_.unconfirmed = cursor_.unconfirmed_size();
    cursor_.set_ds_service_name(info.ds_service_name);
    cursor_.set_invocation_id(info.invocation_id);
    cursor_.set_usn(info.highest_usn);
    cursor_.set_full_sync_done(true);
    cursor_.set_last_pass_us(clock_.now_us());
    if (guard_) {
      guard_->keep(std::move(page_), cursor_);
      page_.clear();
      return settle_guard();
    }
    if (!sink_.commit_page(options_.name, page_, cursor_)) return sink_error();
    page_.clear();
    return {};
  }

  Error sink_error() {
    result_.store_failed = true;
    return {-1, "domain " + options_.name + ": writing to the store failed"};
  }

  bool stopped() const { return stop_.load(); }

  // Whether the DC's answer to a DirSync search from a cookie says the cookie is the problem:
  // a result the server sent (not a transport failure) of the kinds AD and Samba give for a
  // cookie they cannot use (Samba: unavailableCriticalExtension, "Unable to unmarshall
  // cookie"); not, say, insufficientAccessRights, which a resync would meet again.
  static bool refuses_cookie(const Error& error) {
    switch (error.code) {
      case 1:   // operationsError
      case 2:   // protocolError
      case 12:  // unavailableCriticalExtension
      case 53:  // unwillingToPerform
      case 80:  // other
        return true;
      default:
        return false;
    }
  }

  const DomainOptions& options_;
  PassSink& sink_;
  const ControllerHealth& health_;
  const Clock& clock_;
  Directory& connection_;
  const std::atomic<bool>& stop_;
  PassResult& result_;
  DomainContext context_;
  ControllerInfo info_;                // what the DC said about itself at the start
  std::optional<pb::Cursor> stored_;   // the cursor as the pass found it
  size_t deletes_allowed_ = 0;         // by an admin (PassSink::deletes_allowed)
  pb::Cursor initial_cursor_;          // stored_ as this pass would keep it if it commits nothing
  std::optional<DeleteGuard> guard_;   // an incremental pass's pages, until it ends
  bool reread_ = false;                // the guard overflowed within the limit: read again
  std::string cookie_refused_;         // why the DC refused the stored DirSync cookie
  bool streaming_ = false;             // the second reading: pages committed as they come
  bool uses_allowance_ = false;        // check_deletes let deletes through on the allowance
  pb::Cursor cursor_;
  std::vector<pb::ObservedObject> page_;
  GuidSet seen_;
  Error range_error_;
  std::future<bool> pending_commit_;  // the page being stored (commit_page)
  bool sink_failed_ = false;
};

}  // namespace

bool set_problems(pb::Cursor& cursor, const std::vector<ControllerState>& states) {
  pb::Cursor before = cursor;
  cursor.clear_controller_problems();
  for (const ControllerState& state : states) {
    if (state.failures == 0) continue;
    pb::ControllerProblem* problem = cursor.add_controller_problems();
    problem->set_uri(state.uri);
    const bool refused = !state.credential_problem.empty();
    problem->set_problem(refused ? state.credential_problem : state.last_error);
    problem->set_bind_refused(refused);
    problem->set_retry_after_us(state.retry_after_us);
  }
  return before.SerializeAsString() != cursor.SerializeAsString();
}

Error run_pass_on(const DomainOptions& options, PassSink& sink, const ControllerHealth& health,
                  Directory& connection, const std::atomic<bool>& stop, PassResult& result) {
  Pass pass(options, sink, health, connection, stop, result);
  return pass.run();
}

}  // namespace dirfeed::ldap
