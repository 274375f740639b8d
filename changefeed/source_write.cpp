#include "changefeed/source_write.hpp"

#include <algorithm>

namespace dirfeed::changefeed {
namespace {

// Whether `guid` is a live object of `source` (of `kind`, unless unspecified).
bool of_source(ChangeWriter& writer, const std::string& source, const std::string& guid,
               pb::ObjectKind kind = pb::OBJECT_KIND_UNSPECIFIED) {
  const pb::DirectoryObject* object = writer.find(guid);
  return object != nullptr && object->domain() == source &&
         (kind == pb::OBJECT_KIND_UNSPECIFIED || object->kind() == kind);
}

// The members of `observed` that are live objects of the source: a source never reaches into
// another source's or AD's objects.
void keep_own_members(ChangeWriter& writer, const std::string& source,
                      pb::ObservedObject& observed) {
  for (auto* list : {observed.mutable_members(), observed.mutable_members_removed()}) {
    auto end = std::remove_if(list->begin(), list->end(), [&](const std::string& member) {
      return !of_source(writer, source, member);
    });
    list->erase(end, list->end());
  }
}

}  // namespace

SourceOutcome apply_source_changes(ChangeWriter& writer, const std::string& source,
                                   const std::vector<SourceChange>& changes) {
  for (const SourceChange& change : changes) {
    const pb::DirectoryObject& object = change.observed.object();
    const std::string& guid = object.guid();
    if (guid.size() != kGuidSize) return SourceOutcome::kNotFound;
    if (change.expect == SourceChange::Expect::kDelete) {
      if (!of_source(writer, source, guid)) return SourceOutcome::kNotFound;
      writer.remove(guid);
      continue;
    }
    if (object.kind() != pb::USER && object.kind() != pb::GROUP) return SourceOutcome::kNotFound;
    if (change.expect == SourceChange::Expect::kNew) {
      if (writer.find(guid) != nullptr) return SourceOutcome::kDuplicate;
    } else if (!of_source(writer, source, guid, object.kind())) {
      return SourceOutcome::kNotFound;
    }
    pb::ObservedObject observed = change.observed;
    observed.set_partial(false);
    observed.clear_present_fields();
    observed.clear_primary_group_sid();
    observed.set_deleted(false);
    pb::DirectoryObject& named = *observed.mutable_object();
    named.set_domain(source);
    if (std::optional<std::string> key = keys::source_name_of(named)) {
      std::optional<std::string> holder = writer.indexed(Table::kSourceNames, *key);
      if (holder && *holder != guid) return SourceOutcome::kDuplicate;
    }
    keep_own_members(writer, source, observed);
    writer.apply(observed);
  }
  return SourceOutcome::kDone;
}

void remove_source_objects(ChangeWriter& writer, const std::string& source) {
  for (pb::ObjectKind kind : {pb::GROUP, pb::USER}) {
    const std::vector<std::string> guids = writer.domain_objects(source, kind);
    writer.prefetch(guids);
    for (const std::string& guid : guids) writer.remove(guid);
  }
}

}  // namespace dirfeed::changefeed
