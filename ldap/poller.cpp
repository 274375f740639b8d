#include "ldap/poller.hpp"

#include <boost/log/trivial.hpp>

#include <algorithm>
#include <future>
#include <sstream>

#include "ldap/ad_object.hpp"
#include "ldap/loop_guard.hpp"
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

// What the DC says about itself at the start of a pass.
struct ControllerInfo {
  std::string ds_service_name;  // DN of its NTDS Settings object
  std::string invocation_id;    // 16 bytes
  int64_t highest_usn = 0;
  std::string configuration_nc;
};

Error read_controller_info(Connection& connection, ControllerInfo& info) {
  std::optional<Entry> root;
  SearchRequest request{"", Scope::kBase, "(objectClass=*)",
                        {"dsServiceName", "highestCommittedUSN", "configurationNamingContext"}};
  if (Error error = connection.read_entry(request, root)) return error;
  if (!root) return {-1, connection.uri() + ": rootDSE not readable"};
  info.ds_service_name = root->first("dsservicename");
  info.configuration_nc = root->first("configurationnamingcontext");
  std::string usn(root->first("highestcommittedusn"));
  try {
    info.highest_usn = std::stoll(usn);
  } catch (const std::exception&) {
    return {-1, connection.uri() + ": rootDSE highestCommittedUSN \"" + usn + "\" is not a number"};
  }
  std::optional<Entry> settings;
  request = {info.ds_service_name, Scope::kBase, "(objectClass=*)", {"invocationId"}};
  if (Error error = connection.read_entry(request, settings)) return error;
  if (settings) info.invocation_id = settings->first("invocationid");
  if (info.invocation_id.size() != 16) {
    return {-1, connection.uri() + ": invocationId of " + info.ds_service_name + " not readable"};
  }
  return {};
}

Error read_domain_context(Connection& connection, const DomainOptions& options,
                          const ControllerInfo& info, DomainContext& context) {
  context.domain = options.name;
  context.base_dn = options.base_dn.empty() ? base_dn_from_domain(options.name) : options.base_dn;
  context.search_bases = options.sync.search_bases;
  std::optional<Entry> domain;
  if (Error error = connection.read_entry(
          {context.base_dn, Scope::kBase, "(objectClass=*)", {"objectSid"}}, domain)) {
    return error;
  }
  if (!domain) return {-1, connection.uri() + ": domain object " + context.base_dn + " not found"};
  context.domain_sid = sid_to_string(domain->first("objectsid"));
  context.netbios_name = options.netbios_name;
  if (context.netbios_name.empty()) {
    SearchRequest partitions{"CN=Partitions," + info.configuration_nc, Scope::kOneLevel,
                             "(&(objectClass=crossRef)(nCName=" +
                                 escape_filter_value(context.base_dn) + "))",
                             {"nETBIOSName"}};
    Error error = connection.paged_search(
        partitions, 10,
        [&](Entry&& entry) {
          context.netbios_name = entry.first("netbiosname");
          return true;
        },
        [] { return true; });
    if (error) return error;
    if (context.netbios_name.empty()) {
      return {-1, connection.uri() + ": no nETBIOSName for " + context.base_dn +
                      " in the Partitions container; set netbios_name in the config"};
    }
  }
  return {};
}

// The credential problems of `states` into `cursor` (for `dirfeed status`). True when that
// changed the cursor.
bool set_problems(pb::Cursor& cursor, const std::vector<ControllerState>& states) {
  pb::Cursor before = cursor;
  cursor.clear_controller_problems();
  for (const ControllerState& state : states) {
    if (state.credential_problem.empty()) continue;
    pb::ControllerProblem* problem = cursor.add_controller_problems();
    problem->set_uri(state.uri);
    problem->set_problem(state.credential_problem);
    problem->set_retry_after_us(state.retry_after_us);
  }
  return before.SerializeAsString() != cursor.SerializeAsString();
}

// One pass on one connection. Collects a page of observed objects, commits it with the
// cursor, and tracks the GUIDs a full sync has seen.
class Pass {
 public:
  Pass(const DomainOptions& options, PassSink& sink, const ControllerHealth& health,
       Connection& connection, const std::atomic<bool>& stop, PassResult& result)
      : options_(options), sink_(sink), health_(health), clock_(health.clock()),
        connection_(connection), stop_(stop), result_(result) {}

  Error run() {
    auto started = std::chrono::steady_clock::now();
    ControllerInfo info;
    if (Error error = read_controller_info(connection_, info)) return error;
    if (Error error = read_domain_context(connection_, options_, info, context_)) return error;
    BOOST_LOG_TRIVIAL(debug) << "domain " << options_.name << ": " << connection_.uri()
                             << " read in " << elapsed_ms(started) << " ms";
    std::optional<pb::Cursor> stored = sink_.load_cursor(options_.name);
    cursor_ = stored.value_or(pb::Cursor());
    cursor_.set_domain(options_.name);
    cursor_.set_controller(connection_.uri());
    cursor_.set_domain_sid(context_.domain_sid);
    cursor_.set_netbios_name(context_.netbios_name);
    set_problems(cursor_, health_.snapshot());
    if (options_.sync.strategy == Strategy::kUsn) return usn_pass(stored, info);
    return dirsync_pass(stored);
  }

 private:
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
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": full sync from "
                              << connection_.uri() << " (" << reason << ")";
      result_.full_sync = true;
      cursor_.set_full_sync_done(false);
    } else {
      if (info.highest_usn == stored->usn()) return finish_incremental(info);
      changed_since = "(uSNChanged>=" + std::to_string(stored->usn() + 1) + ")";
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
    cursor_.set_strategy(kDirSync);
    if (full) {
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": full sync (DirSync) from "
                              << connection_.uri();
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
    cursor_.set_full_sync_done(true);
    cursor_.set_last_pass_us(clock_.now_us());
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
      if (error) return error;
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
    cursor_.set_full_sync_done(true);
    cursor_.set_last_pass_us(clock_.now_us());
    size_t held_back = 0;
    if (!sink_.finish_full_sync(options_.name, seen_, cursor_, options_.sync.max_deletes,
                                held_back)) {
      return sink_error();
    }
    result_.held_back = held_back;
    if (held_back > 0) {
      BOOST_LOG_TRIVIAL(error) << "domain " << options_.name << ": full sync would delete "
                               << held_back << " objects, more than max_deletes ("
                               << options_.sync.max_deletes << "); deletes held back";
    }
    return {};
  }

  Error finish_incremental(const ControllerInfo& info) {
    if (!range_error_.message.empty()) return range_error_;
    if (!wait_for_commit()) return sink_error();
    cursor_.set_ds_service_name(info.ds_service_name);
    cursor_.set_invocation_id(info.invocation_id);
    cursor_.set_usn(info.highest_usn);
    cursor_.set_full_sync_done(true);
    cursor_.set_last_pass_us(clock_.now_us());
    if (!sink_.commit_page(options_.name, page_, cursor_)) return sink_error();
    page_.clear();
    return {};
  }

  Error sink_error() const {
    return {-1, "domain " + options_.name + ": writing to the store failed"};
  }

  bool stopped() const { return stop_.load(); }

  const DomainOptions& options_;
  PassSink& sink_;
  const ControllerHealth& health_;
  const Clock& clock_;
  Connection& connection_;
  const std::atomic<bool>& stop_;
  PassResult& result_;
  DomainContext context_;
  pb::Cursor cursor_;
  std::vector<pb::ObservedObject> page_;
  GuidSet seen_;
  Error range_error_;
  std::future<bool> pending_commit_;  // the page being stored (commit_page)
  bool sink_failed_ = false;
};

}  // namespace


DomainPoller::DomainPoller(DomainOptions options, PassSink& sink, const Clock& clock)
    : options_(std::move(options)), sink_(sink), clock_(clock),
      health_(options_.controllers, options_.bind, clock) {}

PassResult DomainPoller::run_pass(const std::atomic<bool>& stop) {
  health_.refresh();  // a changed password file or keytab ends the backoffs of the DCs refusing it
  PassResult result;
  result.waiting = true;
  std::string last_error;
  for (const std::string& uri : options_.controllers) {
    if (stop.load()) {
      result = PassResult();
      result.stopped = true;
      return result;
    }
    Error error;
    bool tried = false;
    // The connection of the last pass is reused when it is to this DC. A reused connection
    // that fails may just have been closed while idle: one more try on a fresh one decides.
    // Every connect-and-bind holds the DC's claim, so the notifier does not bind at once;
    // an attempt of the notifier's under way is awaited (its outcome decides), not skipped.
    for (bool reused = connection_ && connection_->uri() == uri;; reused = false) {
      if (!health_.claim(uri, /*wait=*/true)) {
        if (tried) health_.failed(uri, error);  // the reused connection's failure
        break;
      }
      tried = true;
      result = PassResult();
      result.controller = uri;
      if (!reused) {
        connection_ = Connection::open(uri, options_.tls, options_.bind, options_.sync.timeout,
                                       error, health_.kerberos());
      }
      if (!connection_) {
        health_.failed(uri, error);
        health_.release(uri, false);
        break;
      }
      health_.release(uri, true);
      Pass pass(options_, sink_, health_, *connection_, stop, result);
      error = pass.run();
      if (!error) break;
      if (stop.load()) {  // whatever failed while stopping is not the DC's fault
        result.stopped = true;
        return result;
      }
      connection_.reset();
      if (!reused) {
        health_.failed(uri, error);
        break;
      }
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": open connection to " << uri
                              << " failed (" << error.message << "); reconnecting";
    }
    if (!tried) continue;
    if (!error) {
      result.stopped = stop.load();
      result.ok = !result.stopped;
      health_.succeeded(uri);
      return result;
    }
    result.error = error.message;
    last_error = error.message;
    log_failure(uri);
  }
  if (result.waiting) {
    result = PassResult();
    result.waiting = true;
    std::string problems;
    for (const ControllerState& state : health_.snapshot()) {
      if (state.credential_problem.empty()) continue;
      problems += (problems.empty() ? " (" : "; ") + state.uri + ": " + state.credential_problem;
    }
    if (!problems.empty()) problems += ")";
    result.error = "every controller is backing off or being connected to" + problems +
                   "; next try in " +
                   std::to_string((health_.wait_time().count() + 999) / 1000) + " s";
  } else {
    result.error = last_error;
  }
  store_problems();
  return result;
}

void DomainPoller::store_problems() {
  std::optional<pb::Cursor> stored = sink_.load_cursor(options_.name);
  pb::Cursor cursor = stored.value_or(pb::Cursor());
  cursor.set_domain(options_.name);
  if (!set_problems(cursor, health_.snapshot())) return;
  // An empty page: only the cursor is written (the store logs a failure).
  (void)sink_.commit_page(options_.name, {}, cursor);
}

void DomainPoller::log_failure(const std::string& uri) const {
  for (const ControllerState& state : health_.snapshot()) {
    if (state.uri != uri) continue;
    int64_t retry_s = (state.retry_after_us - clock_.now_us() + 999'999) / 1'000'000;
    std::ostringstream line;
    line << "domain " << options_.name << ": DC " << uri << " failed (attempt " << state.failures
         << ", retry in " << retry_s << " s): ";
    if (!state.credential_problem.empty()) {
      line << state.credential_problem << " (not retried before the backoff ends or the "
           << secret_file_kind(options_.bind) << " changes): ";
    }
    line << state.last_error;
    BOOST_LOG_TRIVIAL(warning) << line.str();
  }
}

}  // namespace dirfeed::ldap
