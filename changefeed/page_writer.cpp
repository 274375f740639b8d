#include "changefeed/page_writer.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <tuple>
#include <utility>

#include <google/protobuf/util/message_differencer.h>

namespace dirfeed::changefeed {
namespace {

using google::protobuf::FieldDescriptor;

// Fields the store derives itself; an observation never overwrites them (kind only when it
// names one).
bool is_derived_field(const FieldDescriptor* field) {
  switch (field->number()) {
    case pb::DirectoryObject::kGuidFieldNumber:
    case pb::DirectoryObject::kKindFieldNumber:
    case pb::DirectoryObject::kDomainFieldNumber:
    case pb::DirectoryObject::kFromDirectoryFieldNumber:
    case pb::DirectoryObject::kMemberOfFieldNumber:
    case pb::DirectoryObject::kLastReadUsFieldNumber:
    case pb::DirectoryObject::kLastChangeFieldNumber:
    case pb::DirectoryObject::kLastChangeUsFieldNumber:
    case pb::DirectoryObject::kIpv4AddressesFieldNumber:
    case pb::DirectoryObject::kIpv6AddressesFieldNumber:
    case pb::DirectoryObject::kApiGroupsFieldNumber:
    case pb::DirectoryObject::kIpTimeoutSFieldNumber:
      return true;
    default:
      return false;
  }
}

// Appends the puts and deletes of one batch to another.
class BatchCopier final : public rocksdb::WriteBatch::Handler {
 public:
  BatchCopier(const Database& database, rocksdb::WriteBatch& target)
      : database_(database), target_(target) {}

  rocksdb::Status PutCF(uint32_t family_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* handle = family(family_id);
    return handle != nullptr ? target_.Put(handle, key, value) : unknown_family();
  }
  rocksdb::Status DeleteCF(uint32_t family_id, const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* handle = family(family_id);
    return handle != nullptr ? target_.Delete(handle, key) : unknown_family();
  }

 private:
  rocksdb::ColumnFamilyHandle* family(uint32_t family_id) const {
    for (size_t i = 0; i < kTableCount; ++i) {
      rocksdb::ColumnFamilyHandle* handle = database_.table(static_cast<Table>(i));
      if (handle != nullptr && handle->GetID() == family_id) return handle;
    }
    return nullptr;
  }
  static rocksdb::Status unknown_family() {
    return rocksdb::Status::InvalidArgument("batch record for a column family not ours");
  }

  const Database& database_;
  rocksdb::WriteBatch& target_;
};

// A feed entry about `object`, without the object itself, not yet stamped.
pb::Change object_change(pb::ChangeType type, const pb::DirectoryObject& object) {
  pb::Change change;
  change.set_kind(object.kind());
  change.set_type(type);
  change.set_domain(object.domain());
  change.set_from_directory(object.from_directory());
  return change;
}

// A write to a table a read-only database does not have (Database::table).
rocksdb::Status missing_table(Table table) {
  return rocksdb::Status::NotSupported("table not in the database", table_name(table));
}

bool is_user_or_group(pb::ObjectKind kind) { return kind == pb::USER || kind == pb::GROUP; }

// The stored object as the observation says it is now: a partial observation overwrites
// only the fields it names (a named field without a value clears it); a full one replaces
// every attribute. Derived fields, last_read_us and last_change(_us) stay as stored.
pb::DirectoryObject merge_observation(const pb::DirectoryObject& stored,
                                      const pb::ObservedObject& observed) {
  pb::DirectoryObject merged;
  if (observed.partial()) {
    merged = stored;
    pb::DirectoryObject incoming = observed.object();
    const google::protobuf::Descriptor* descriptor = pb::DirectoryObject::descriptor();
    std::vector<const FieldDescriptor*> fields;
    for (const std::string& name : observed.present_fields()) {
      const FieldDescriptor* field = descriptor->FindFieldByName(name);
      if (field != nullptr && !is_derived_field(field) &&
          std::find(fields.begin(), fields.end(), field) == fields.end()) {
        fields.push_back(field);
      }
    }
    merged.GetReflection()->SwapFields(&merged, &incoming, fields);
  } else {
    merged = observed.object();
    merged.set_guid(stored.guid());
    merged.set_domain(stored.domain());
    merged.set_from_directory(stored.from_directory());
    *merged.mutable_member_of() = stored.member_of();
    // What the User ID API set is not AD's: a re-poll keeps it.
    *merged.mutable_ipv4_addresses() = stored.ipv4_addresses();
    *merged.mutable_ipv6_addresses() = stored.ipv6_addresses();
    *merged.mutable_api_groups() = stored.api_groups();
    merged.set_ip_timeout_s(stored.ip_timeout_s());
  }
  const pb::ObjectKind observed_kind = observed.object().kind();
  merged.set_kind(is_user_or_group(observed_kind) ? observed_kind : stored.kind());
  merged.set_last_read_us(stored.last_read_us());
  merged.set_last_change(stored.last_change());
  merged.set_last_change_us(stored.last_change_us());
  return merged;
}

// The primary group SID an observation of a stored user tells, or nullopt when it does not
// know it: a full read tells it when non-empty; a partial read when it names the attribute
// (an empty SID then means "no primary group").
std::optional<std::string> observed_primary_sid(const pb::ObservedObject& observed) {
  if (!observed.partial()) {
    if (observed.primary_group_sid().empty()) return std::nullopt;
    return observed.primary_group_sid();
  }
  for (const std::string& name : observed.present_fields()) {
    if (name == "primary_group_sid" || name == "primary_group_id") {
      return observed.primary_group_sid();
    }
  }
  return std::nullopt;
}

}  // namespace

PageWriter::PageWriter(const Database& database, std::string domain, int64_t now_us,
                       FeedPosition position, bool from_directory)
    : database_(database),
      domain_(std::move(domain)),
      now_us_(now_us),
      from_directory_(from_directory),
      position_(position),
      indexed_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

// ---- the change semantics --------------------------------------------------------------

bool PageWriter::apply(const pb::ObservedObject& observed) {
  const std::string& guid = observed.object().guid();
  if (guid.size() != kGuidSize) return false;
  if (observed.deleted()) {
    remove(guid);
    return true;
  }
  CachedObject& entry = cached(guid);
  if (entry.live) {
    modify(observed, entry);
    return true;
  }
  if (!is_user_or_group(observed.object().kind())) return false;
  add(observed, entry);
  return true;
}

void PageWriter::add(const pb::ObservedObject& observed, CachedObject& entry) {
  pb::DirectoryObject object = observed.object();
  object.set_domain(domain_);
  object.set_from_directory(from_directory_);
  object.set_last_read_us(now_us_);
  object.clear_member_of();
  const std::string guid = object.guid();
  adding_ = guid;
  update_indexes(nullptr, &object);

  // Groups that listed it before it was stored, and its primary group.
  std::vector<std::string> groups = suffixes(Table::kMemberGroups, guid);
  if (object.kind() == pb::USER && !observed.primary_group_sid().empty()) {
    set_primary_index(guid, observed.primary_group_sid());
    if (auto primary = group_by_sid(observed.primary_group_sid())) groups.push_back(*primary);
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  for (const std::string& group : groups) {
    const pb::DirectoryObject* stored_group = live(group);
    if (stored_group != nullptr && stored_group->kind() == pb::GROUP) object.add_member_of(group);
  }

  entry.live = std::move(object);
  entry.needs_write = true;
  const pb::DirectoryObject& added = *entry.live;
  emit_object(pb::ADD, added);
  if (added.kind() == pb::USER) {
    for (const std::string& group : added.member_of()) emit_membership(pb::ADD, guid, group);
  }
  if (added.kind() == pb::GROUP) {
    update_members(guid, observed);
    if (!added.sid().empty()) {
      for (const std::string& user : suffixes(Table::kPrimaryMembers,
                                              keys::primary_prefix(added.sid()))) {
        reconcile(user, guid);
      }
    }
  }
  adding_.clear();
}

void PageWriter::modify(const pb::ObservedObject& observed, CachedObject& entry) {
  pb::DirectoryObject& stored = *entry.live;
  const std::string guid = stored.guid();
  pb::DirectoryObject merged = merge_observation(stored, observed);
  if (!google::protobuf::util::MessageDifferencer::Equals(merged, stored)) {
    merged.set_last_read_us(now_us_);
    update_indexes(&stored, &merged);
    stored = std::move(merged);
    entry.needs_write = true;
    mark_modified(guid);
  }

  bool membership_changed = false;
  if (stored.kind() == pb::USER) {
    if (std::optional<std::string> sid = observed_primary_sid(observed)) {
      const std::string old_sid = set_primary_index(guid, *sid);
      if (old_sid != *sid) {
        for (const std::string& changed_sid : {old_sid, *sid}) {
          if (auto group = group_by_sid(changed_sid)) membership_changed |= reconcile(guid, *group);
        }
      }
    }
  }
  if (stored.kind() == pb::GROUP) membership_changed |= update_members(guid, observed);
  if (membership_changed) {
    stored.set_last_read_us(now_us_);
    entry.needs_write = true;
  }
}

void PageWriter::remove(const std::string& guid) {
  CachedObject& entry = cached(guid);
  if (!entry.live) return;
  const pb::DirectoryObject last = std::move(*entry.live);
  entry.live.reset();
  entry.needs_write = true;
  modified_.erase(guid);
  if (auto added = pending_adds_.extract(guid)) {  // added earlier in this write
    *added.mapped().mutable_object() = last;
    write(added.mapped());
  }
  update_indexes(&last, nullptr);
  update_api_group_index(guid, last.api_groups(), {});
  emit_object(pb::DELETE, last);

  // As a member: its edges go, and the groups it was in lose a member.
  for (const std::string& group : suffixes(Table::kMemberGroups, guid)) {
    erase(Table::kGroupMembers, keys::edge(group, guid));
    erase(Table::kMemberGroups, keys::edge(guid, group));
  }
  set_primary_index(guid, "");
  // Its IP mappings go with it (the DELETE entry carries the addresses it had).
  for (const std::string& ip : suffixes(Table::kIpMappings, guid)) unmap_ip(guid, ip);
  // Like an ADD, a DELETE does not make the groups it leaves MODIFY: the group objects did
  // not change, the MEMBERSHIP entries say what did.
  if (last.kind() == pb::USER) {
    for (const std::string& group : last.member_of()) emit_membership(pb::DELETE, guid, group);
  }

  // As a group: its members (and primary users) leave it.
  if (last.kind() == pb::GROUP) {
    const std::vector<std::string> members = suffixes(Table::kGroupMembers, guid);
    for (const std::string& member : members) {
      erase(Table::kGroupMembers, keys::edge(guid, member));
      erase(Table::kMemberGroups, keys::edge(member, guid));
    }
    prefetch(members);
    for (const std::string& member : members) reconcile(member, guid);
    if (!last.sid().empty()) {
      for (const std::string& user :
           suffixes(Table::kPrimaryMembers, keys::primary_prefix(last.sid()))) {
        reconcile(user, guid);
      }
    }
  }
}

bool PageWriter::update_members(const std::string& group, const pb::ObservedObject& observed) {
  std::vector<std::string> touched;
  auto add_edge = [&](const std::string& member) {
    put(Table::kGroupMembers, keys::edge(group, member), "");
    put(Table::kMemberGroups, keys::edge(member, group), "");
    touched.push_back(member);
  };
  auto remove_edge = [&](const std::string& member) {
    erase(Table::kGroupMembers, keys::edge(group, member));
    erase(Table::kMemberGroups, keys::edge(member, group));
    touched.push_back(member);
  };

  if (observed.members_known()) {
    std::unordered_set<std::string_view> wanted;
    for (const std::string& member : observed.members()) {
      if (member.size() == kGuidSize) wanted.insert(member);
    }
    for (const std::string& stored : suffixes(Table::kGroupMembers, group)) {
      if (wanted.erase(stored) == 0) remove_edge(stored);
    }
    for (const std::string& member : observed.members()) {
      if (wanted.erase(member) > 0) add_edge(member);  // not yet stored, nor a duplicate
    }
  } else if (observed.members_delta()) {
    for (const std::string& member : observed.members_removed()) {
      if (member.size() == kGuidSize && exists(Table::kGroupMembers, keys::edge(group, member))) {
        remove_edge(member);
      }
    }
    for (const std::string& member : observed.members()) {
      if (member.size() == kGuidSize && !exists(Table::kGroupMembers, keys::edge(group, member))) {
        add_edge(member);
      }
    }
  }

  prefetch(touched);
  bool changed = false;
  for (const std::string& member : touched) changed |= reconcile(member, group);
  return changed;
}

std::string PageWriter::set_primary_index(const std::string& user, const std::string& sid) {
  std::string old_sid = get(Table::kUserPrimary, user).value_or("");
  if (old_sid == sid) return old_sid;
  if (!old_sid.empty()) erase(Table::kPrimaryMembers, keys::primary_entry(old_sid, user));
  if (sid.empty()) {
    erase(Table::kUserPrimary, user);
  } else {
    put(Table::kPrimaryMembers, keys::primary_entry(sid, user), "");
    put(Table::kUserPrimary, user, sid);
  }
  return old_sid;
}

bool PageWriter::reconcile(const std::string& member_guid, const std::string& group_guid) {
  pb::DirectoryObject* member = live(member_guid);
  if (member == nullptr) return false;
  const pb::DirectoryObject* group = live(group_guid);

  bool should_be_in = false;
  if (group != nullptr && group->kind() == pb::GROUP) {
    should_be_in = exists(Table::kGroupMembers, keys::edge(group_guid, member_guid)) ||
                   (member->kind() == pb::USER && !group->sid().empty() &&
                    get(Table::kUserPrimary, member_guid) == group->sid());
  }
  auto* member_of = member->mutable_member_of();
  auto position = std::lower_bound(member_of->begin(), member_of->end(), group_guid);
  const bool is_in = position != member_of->end() && *position == group_guid;
  if (should_be_in == is_in) return false;

  if (should_be_in) {
    const auto index = position - member_of->begin();
    member_of->Add(std::string(group_guid));
    std::rotate(member_of->begin() + index, member_of->end() - 1, member_of->end());
  } else {
    member_of->erase(position);
  }
  cached(member_guid).needs_write = true;
  if (member_guid != adding_) mark_modified(member_guid);
  if (member->kind() == pb::USER) {
    emit_membership(should_be_in ? pb::ADD : pb::DELETE, member_guid, group_guid);
  }
  if (group != nullptr && group_guid != adding_) mark_modified(group_guid);
  return true;
}

// ---- indexes ---------------------------------------------------------------------------

void PageWriter::update_indexes(const pb::DirectoryObject* before,
                                const pb::DirectoryObject* after) {
  const std::string& guid = before != nullptr ? before->guid() : after->guid();
  struct IndexKeys {
    std::optional<std::string> dn, ntlm, sid, upn, source_name, domain;
  };
  auto keys_of = [](const pb::DirectoryObject* object) {
    IndexKeys result;
    if (object == nullptr) return result;
    result.domain = keys::domain_entry(object->domain(), object->kind(), object->guid());
    // A source's objects are found by their names in their source only (store.hpp).
    if (is_source_domain(object->domain())) {
      result.source_name = keys::source_name_of(*object);
      return result;
    }
    if (!object->dn().empty()) result.dn = keys::dn(object->dn());
    result.ntlm = keys::ntlm_of(*object);
    if (!object->sid().empty()) result.sid = object->sid();
    if (!object->user_principal_name().empty()) {
      result.upn = keys::upn(object->user_principal_name());
    }
    return result;
  };
  note_group_change(before, after);
  const IndexKeys old_keys = keys_of(before);
  const IndexKeys new_keys = keys_of(after);

  // Name indexes map a key to a GUID; another object may have taken the old key meanwhile.
  const std::array<std::tuple<Table, const std::optional<std::string>*,
                              const std::optional<std::string>*>, 5>
      name_indexes = {{{Table::kDnIndex, &old_keys.dn, &new_keys.dn},
                       {Table::kNtlmIndex, &old_keys.ntlm, &new_keys.ntlm},
                       {Table::kSidIndex, &old_keys.sid, &new_keys.sid},
                       {Table::kUpnIndex, &old_keys.upn, &new_keys.upn},
                       {Table::kSourceNames, &old_keys.source_name, &new_keys.source_name}}};
  for (const auto& [table, old_key, new_key] : name_indexes) {
    if (*old_key == *new_key) continue;
    if (old_key->has_value()) delete_index_entry(table, **old_key, guid);
    if (new_key->has_value()) put(table, **new_key, guid);
  }
  if (old_keys.domain != new_keys.domain) {
    if (old_keys.domain) erase(Table::kDomainIndex, *old_keys.domain);
    if (new_keys.domain) put(Table::kDomainIndex, *new_keys.domain, "");
  }
}

void PageWriter::update_api_group_index(
    const std::string& user, const google::protobuf::RepeatedPtrField<std::string>& before,
    const google::protobuf::RepeatedPtrField<std::string>& after) {
  for (const std::string& group : before) {
    if (std::find(after.begin(), after.end(), group) == after.end()) {
      erase(Table::kApiGroupMembers, keys::edge(group, user));
    }
  }
  for (const std::string& group : after) {
    if (std::find(before.begin(), before.end(), group) == before.end()) {
      put(Table::kApiGroupMembers, keys::edge(group, user), "");
    }
  }
}

void PageWriter::delete_index_entry(Table table, const std::string& key, const std::string& guid) {
  if (get(table, key) == guid) erase(table, key);
}

// ---- feed ------------------------------------------------------------------------------

void PageWriter::emit_ip(pb::ChangeType type, pb::DirectoryObject& user) {
  pb::Change change = object_change(type, user);
  stamp(change);
  stamp_last_change(user, change);
  *change.mutable_object() = user;
  write(change);
}

void PageWriter::mark_modified(const std::string& guid) {
  if (pending_adds_.count(guid) != 0) return;  // its ADD will carry the final state
  if (modified_.insert(guid).second) modified_order_.push_back(guid);
}

void PageWriter::stamp(pb::Change& change) {
  position_.sequence += 1;
  position_.timestamp_us = std::max(now_us_, position_.timestamp_us + 1);
  change.set_sequence(position_.sequence);
  change.set_timestamp_us(position_.timestamp_us);
  ++changes_;
}

void PageWriter::stamp_last_change(pb::DirectoryObject& object, const pb::Change& change) {
  object.set_last_change(change.type());
  object.set_last_change_us(change.timestamp_us());
  cached(object.guid()).needs_write = true;
}

void PageWriter::write(const pb::Change& change) {
  put_unindexed(Table::kFeedBySequence, keys::sequence(change.sequence()),
                change.SerializeAsString());
  put_unindexed(Table::kFeedByTime, keys::time(change.timestamp_us(), change.sequence()), "");
}

void PageWriter::emit(pb::Change change) {
  stamp(change);
  write(change);
}

void PageWriter::emit_object(pb::ChangeType type, const pb::DirectoryObject& object) {
  pb::Change change = object_change(type, object);
  if (type == pb::ADD) {
    // Its place in the feed is taken now; the object is filled in at commit, so changes later
    // in this write (groups it joins further down the page) are part of the ADD.
    stamp(change);
    pending_adds_.emplace(object.guid(), std::move(change));
    return;
  }
  *change.mutable_object() = object;
  emit(std::move(change));
}

void PageWriter::emit_membership(pb::ChangeType type, const std::string& user,
                                 const std::string& group) {
  pb::Change change;
  change.set_kind(pb::MEMBERSHIP);
  change.set_type(type);
  change.set_domain(domain_);
  change.set_from_directory(from_directory_);
  change.mutable_membership()->set_user_guid(user);
  change.mutable_membership()->set_group_guid(group);
  emit(std::move(change));
}

void PageWriter::put_cursor(const pb::Cursor& cursor) {
  put_unindexed(Table::kState, keys::cursor(domain_), cursor.SerializeAsString());
}

Status PageWriter::commit(CommitStats* stats) {
  for (auto& [guid, change] : pending_adds_) {
    pb::DirectoryObject* object = live(guid);
    // A later entry of this write (IP_ADD) stays the object's newest.
    if (object->last_change_us() < change.timestamp_us()) stamp_last_change(*object, change);
    *change.mutable_object() = *object;
    write(change);
  }
  for (const std::string& guid : modified_order_) {
    if (modified_.erase(guid) == 0) continue;  // deleted meanwhile, or already emitted
    pb::DirectoryObject* object = live(guid);
    if (object == nullptr) continue;
    pb::Change change = object_change(pb::MODIFY, *object);
    stamp(change);
    stamp_last_change(*object, change);
    *change.mutable_object() = *object;
    write(change);
  }
  render_changes();
  for (const auto& [guid, entry] : objects_) {
    if (!entry.needs_write) continue;
    if (entry.live) {
      put_unindexed(Table::kObjects, guid, entry.live->SerializeAsString());
    } else {
      erase_unindexed(Table::kObjects, guid);
    }
  }
  if (changes_ > 0) {
    put_unindexed(Table::kState, std::string(keys::kFeedPositionKey),
                  keys::encode_position(position_));
  }
  BatchCopier copier(database_, unindexed_);
  note(indexed_.GetWriteBatch()->Iterate(&copier));

  if (!failure_.ok()) return Status::error("store write not attempted: " + failure_.ToString());
  rocksdb::WriteOptions options;  // WAL on; the OS flushes it (sync = false)
  rocksdb::Status status = database_.db()->Write(options, &unindexed_);
  if (!status.ok()) return Status::error("store write failed: " + status.ToString());
  if (stats != nullptr) stats->changes = changes_;
  return Status::ok();
}

// ---- reads and writes through the batch -------------------------------------------------

PageWriter::CachedObject& PageWriter::cached(const std::string& guid) {
  auto [it, inserted] = objects_.try_emplace(guid);
  if (inserted) {
    std::string value;
    rocksdb::Status status =
        database_.db()->Get(rocksdb::ReadOptions(), database_.table(Table::kObjects), guid, &value);
    load(it->second, status, value);
  }
  return it->second;
}

void PageWriter::prefetch(const std::vector<std::string>& guids) {
  std::vector<const std::string*> missing;
  std::unordered_set<std::string_view> listed;
  for (const std::string& guid : guids) {
    if (!objects_.contains(guid) && listed.insert(guid).second) missing.push_back(&guid);
  }
  if (missing.empty()) return;
  std::vector<rocksdb::Slice> keys;
  keys.reserve(missing.size());
  for (const std::string* guid : missing) keys.emplace_back(*guid);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  database_.db()->MultiGet(rocksdb::ReadOptions(), database_.table(Table::kObjects), keys.size(),
                           keys.data(), values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    load(objects_[*missing[i]], statuses[i], values[i].ToStringView());
  }
}

void PageWriter::load(CachedObject& entry, const rocksdb::Status& status,
                      std::string_view value) {
  if (status.IsNotFound()) return;
  if (!status.ok()) {
    note(status);
    return;
  }
  pb::DirectoryObject object;
  if (!object.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    note(rocksdb::Status::Corruption("unreadable stored object"));
    return;
  }
  entry.live = std::move(object);
}

pb::DirectoryObject* PageWriter::live(const std::string& guid) {
  CachedObject& entry = cached(guid);
  return entry.live ? &*entry.live : nullptr;
}

std::optional<std::string> PageWriter::group_by_sid(const std::string& sid) {
  if (sid.empty()) return std::nullopt;
  std::optional<std::string> guid = get(Table::kSidIndex, sid);
  if (!guid) return std::nullopt;
  const pb::DirectoryObject* object = live(*guid);
  if (object == nullptr || object->kind() != pb::GROUP) return std::nullopt;
  return guid;
}

std::optional<std::string> PageWriter::get(Table table, const std::string& key) {
  std::string value;
  rocksdb::Status status = indexed_.GetFromBatchAndDB(database_.db(), rocksdb::ReadOptions(),
                                                    database_.table(table), key, &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) {
    note(status);
    return std::nullopt;
  }
  return value;
}

bool PageWriter::exists(Table table, const std::string& key) { return get(table, key).has_value(); }

std::vector<std::string> PageWriter::suffixes(Table table, const std::string& prefix) {
  const rocksdb::ReadOptions options;
  rocksdb::ColumnFamilyHandle* family = database_.table(table);
  std::unique_ptr<rocksdb::Iterator> it(
      indexed_.NewIteratorWithBase(family, database_.db()->NewIterator(options, family)));
  std::vector<std::string> result;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice rest = it->key();
    rest.remove_prefix(prefix.size());
    result.push_back(rest.ToString());
  }
  note(it->status());
  return result;
}

void PageWriter::put(Table table, const std::string& key, const std::string& value) {
  rocksdb::ColumnFamilyHandle* family = database_.table(table);
  note(family != nullptr ? indexed_.Put(family, key, value) : missing_table(table));
}

void PageWriter::erase(Table table, const std::string& key) {
  rocksdb::ColumnFamilyHandle* family = database_.table(table);
  note(family != nullptr ? indexed_.Delete(family, key) : missing_table(table));
}

void PageWriter::put_unindexed(Table table, const std::string& key, const std::string& value) {
  note(unindexed_.Put(database_.table(table), key, value));
}

void PageWriter::erase_unindexed(Table table, const std::string& key) {
  note(unindexed_.Delete(database_.table(table), key));
}

void PageWriter::note(const rocksdb::Status& status) {
  if (!status.ok() && failure_.ok()) failure_ = status;
}

}  // namespace dirfeed::changefeed
