#include "changefeed/change_writer.hpp"

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

ChangeWriter::ChangeWriter(const Database& database, std::string domain, int64_t now_us,
                           FeedPosition position, bool from_directory)
    : database_(database),
      domain_(std::move(domain)),
      now_us_(now_us),
      from_directory_(from_directory),
      position_(position),
      indexed_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

// ---- the change semantics --------------------------------------------------------------

bool ChangeWriter::apply(const pb::ObservedObject& observed) {
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

void ChangeWriter::add(const pb::ObservedObject& observed, CachedObject& entry) {
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

void ChangeWriter::modify(const pb::ObservedObject& observed, CachedObject& entry) {
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

void ChangeWriter::remove(const std::string& guid) {
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

bool ChangeWriter::update_members(const std::string& group, const pb::ObservedObject& observed) {
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

std::string ChangeWriter::set_primary_index(const std::string& user, const std::string& sid) {
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

bool ChangeWriter::reconcile(const std::string& member_guid, const std::string& group_guid) {
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

void ChangeWriter::update_indexes(const pb::DirectoryObject* before,
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

void ChangeWriter::update_api_group_index(
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

void ChangeWriter::delete_index_entry(Table table, const std::string& key,
                                      const std::string& guid) {
  if (get(table, key) == guid) erase(table, key);
}

}  // namespace dirfeed::changefeed
