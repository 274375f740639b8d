#include "daemon/store_sink.hpp"

#include <boost/log/trivial.hpp>

#include "core/guid.hpp"
#include "proto/names.hpp"

namespace dirfeed::daemon {
std::string describe(const pb::Change& change, const changefeed::StoreReads& store) {
  auto name = [&](const std::string& guid) {
    auto object = store.object_by_guid(guid);
    return object ? object->dn() : guid_to_string(guid);
  };
  std::string line(change_type_name(change.type()));
  switch (change.kind()) {
    case pb::USER:
    case pb::GROUP:
      line += change.kind() == pb::USER ? " user " : " group ";
      line += change.object().dn() + " (" + guid_to_string(change.object().guid()) + ")";
      break;
    case pb::MEMBERSHIP:
      line += " membership " + name(change.membership().user_guid()) + " in " +
              name(change.membership().group_guid());
      break;
    default:
      line += " ?";
  }
  return line;
}

std::optional<pb::Cursor> StoreSink::load_cursor(const std::string& domain) {
  return store_.cursor(domain);
}

bool StoreSink::commit_page(const std::string& domain,
                            const std::vector<pb::ObservedObject>& objects,
                            const pb::Cursor& cursor) {
  uint64_t before = log_changes_ ? store_.last_sequence() : 0;
  changefeed::CommitStats stats;
  Status status = store_.apply_page(domain, objects, cursor, &stats);
  if (!status.is_ok()) {
    BOOST_LOG_TRIVIAL(error) << "domain " << domain << ": storing a page of " << objects.size()
                             << " objects failed: " << status.message();
    return false;
  }
  changes_ += stats.changes;
  if (log_changes_ && stats.changes > 0) log_changes_after(domain, before);
  return true;
}

bool StoreSink::finish_full_sync(const std::string& domain, const ldap::GuidSet& seen,
                                 const pb::Cursor& cursor, const ldap::Reconcile& how,
                                 ldap::ReconcileResult& result) {
  uint64_t before = log_changes_ ? store_.last_sequence() : 0;
  changefeed::CommitStats stats;
  Status status = store_.finish_full_sync(domain, seen, cursor,
                                          {how.max_deletes, how.deletes_confirmed}, &stats);
  if (!status.is_ok()) {
    BOOST_LOG_TRIVIAL(error) << "domain " << domain << ": finishing the full sync failed: "
                             << status.message();
    return false;
  }
  result.held_back = stats.held_back;
  result.unconfirmed = stats.unconfirmed;
  changes_ += stats.changes;
  if (log_changes_ && stats.changes > 0) log_changes_after(domain, before);
  return true;
}

size_t StoreSink::deletes_allowed(const std::string& domain) {
  return allowance_ ? allowance_->allowed(domain) : 0;
}

void StoreSink::allowance_used(const std::string& domain) {
  if (allowance_) allowance_->withdraw(domain);
}

std::vector<std::string> StoreSink::known_objects(const std::string& domain,
                                                  const std::vector<std::string>& guids) {
  std::vector<std::string> known;
  for (const std::string& guid : guids) {
    std::optional<pb::DirectoryObject> object = store_.object_by_guid(guid);
    if (object && object->from_directory() && object->domain() == domain) known.push_back(guid);
  }
  return known;
}

std::optional<size_t> StoreSink::unseen_objects(const std::string& domain,
                                                const ldap::GuidSet& seen, size_t keep,
                                                std::vector<std::string>& kept) {
  size_t count = 0;
  Status status = store_.unseen_objects(domain, seen, keep, &kept, &count);
  if (!status.is_ok()) {
    BOOST_LOG_TRIVIAL(error) << "domain " << domain << ": reading the store failed: "
                             << status.message();
    return std::nullopt;
  }
  return count;
}

void StoreSink::log_changes_after(const std::string& domain, uint64_t sequence) const {
  store_.changes_after_sequence(sequence, {}, [&](const pb::Change& change) {
    if (change.domain() == domain) {
      BOOST_LOG_TRIVIAL(debug) << "domain " << domain << ": #" << change.sequence() << " "
                               << describe(change, store_);
    }
    return true;
  });
}

}  // namespace dirfeed::daemon
