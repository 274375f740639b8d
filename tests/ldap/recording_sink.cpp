#include "tests/ldap/recording_sink.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

namespace dirfeed::ldap::testing {
namespace {

// What a change compares: the object's fields, its complete members, its primary group.
bool same(const pb::ObservedObject& a, const pb::ObservedObject& b) {
  using google::protobuf::util::MessageDifferencer;
  if (!MessageDifferencer::Equals(a.object(), b.object())) return false;
  if (a.primary_group_sid() != b.primary_group_sid()) return false;
  std::vector<std::string> left(a.members().begin(), a.members().end());
  std::vector<std::string> right(b.members().begin(), b.members().end());
  std::sort(left.begin(), left.end());
  std::sort(right.begin(), right.end());
  return left == right;
}

// Copies the value of `field` (cleared first) from `from` into `into`.
void copy_field(const pb::DirectoryObject& from, pb::DirectoryObject& into,
                const google::protobuf::FieldDescriptor* field) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = pb::DirectoryObject::GetReflection();
  reflection->ClearField(&into, field);
  if (field->is_repeated()) {
    for (int i = 0; i < reflection->FieldSize(from, field); ++i) {
      reflection->AddString(&into, field, reflection->GetRepeatedString(from, field, i));
    }
    return;
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      reflection->SetString(&into, field, reflection->GetString(from, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      reflection->SetUInt32(&into, field, reflection->GetUInt32(from, field));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      reflection->SetEnumValue(&into, field, reflection->GetEnumValue(from, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      reflection->SetBool(&into, field, reflection->GetBool(from, field));
      break;
    default:
      break;
  }
}

// `stored` updated by a DirSync partial: its present fields, its member delta.
pb::ObservedObject merged(pb::ObservedObject stored, const pb::ObservedObject& partial) {
  for (const std::string& name : partial.present_fields()) {
    if (const auto* field = pb::DirectoryObject::descriptor()->FindFieldByName(name)) {
      copy_field(partial.object(), *stored.mutable_object(), field);
    }
  }
  if (partial.members_delta()) {
    std::vector<std::string> members(stored.members().begin(), stored.members().end());
    for (const std::string& added : partial.members()) {
      if (std::find(members.begin(), members.end(), added) == members.end()) {
        members.push_back(added);
      }
    }
    for (const std::string& removed : partial.members_removed()) std::erase(members, removed);
    stored.clear_members();
    for (const std::string& member : members) stored.add_members(member);
  }
  return stored;
}

}  // namespace

void RecordingSink::clear_records() {
  commits.clear();
  full_syncs.clear();
  changes.clear();
}

std::optional<pb::Cursor> RecordingSink::load_cursor(const std::string&) { return cursor; }

bool RecordingSink::commit_page(const std::string&, const std::vector<pb::ObservedObject>& page,
                                const pb::Cursor& next) {
  if (fail_commits) return false;
  commits.push_back({page, next});
  for (const pb::ObservedObject& observed : page) apply(observed);
  cursor = next;
  return true;
}

void RecordingSink::apply(const pb::ObservedObject& observed) {
  const std::string& guid = observed.object().guid();
  auto it = objects.find(guid);
  if (observed.deleted()) {
    if (it == objects.end()) return;
    changes.push_back("delete " + it->second.object().sam_account_name());
    objects.erase(it);
    return;
  }
  if (it == objects.end()) {
    changes.push_back("add " + observed.object().sam_account_name());
    objects.emplace(guid, observed);
    return;
  }
  pb::ObservedObject updated = observed.partial() ? merged(it->second, observed) : observed;
  if (!observed.partial() && !observed.members_known()) {
    *updated.mutable_members() = it->second.members();
  }
  if (!same(it->second, updated)) {
    changes.push_back("modify " + updated.object().sam_account_name());
  }
  it->second = std::move(updated);
}

bool RecordingSink::finish_full_sync(const std::string&, const GuidSet& seen,
                                     const pb::Cursor& next, const Reconcile& how,
                                     ReconcileResult& result) {
  if (fail_commits) return false;
  full_syncs.push_back({seen, next, how});
  std::vector<std::string> unseen;
  for (const auto& [guid, object] : objects) {
    if (!seen.contains(guid)) unseen.push_back(guid);
  }
  cursor = next;
  if (!how.deletes_confirmed) {
    cursor->clear_unconfirmed();
    for (const std::string& guid : unseen) cursor->add_unconfirmed(guid);
    result.unconfirmed = unseen.size();
    return true;
  }
  if (unseen.size() > how.max_deletes) {
    result.held_back = unseen.size();
    return true;
  }
  cursor->clear_unconfirmed();
  for (const std::string& guid : unseen) {
    changes.push_back("delete " + objects.at(guid).object().sam_account_name());
    objects.erase(guid);
  }
  return true;
}

size_t RecordingSink::deletes_allowed(const std::string&) { return allowed; }

void RecordingSink::allowance_used(const std::string&) {
  allowed = 0;
  ++allowances_used;
}

std::vector<std::string> RecordingSink::known_objects(const std::string&,
                                                      const std::vector<std::string>& guids) {
  std::vector<std::string> known;
  for (const std::string& guid : guids) {
    if (objects.contains(guid)) known.push_back(guid);
  }
  return known;
}

std::optional<size_t> RecordingSink::unseen_objects(const std::string&, const GuidSet& seen,
                                                    size_t keep, std::vector<std::string>& kept) {
  size_t unseen = 0;
  for (const auto& [guid, object] : objects) {
    if (seen.contains(guid)) continue;
    if (kept.size() < keep) kept.push_back(guid);
    ++unseen;
  }
  return unseen;
}

}  // namespace dirfeed::ldap::testing
