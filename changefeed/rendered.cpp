#include "changefeed/rendered.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "changefeed/change_writer.hpp"
#include "changefeed/index_build.hpp"

namespace dirfeed::changefeed {
namespace {

// Past every kRendered key (a shape byte and 16 GUID bytes).
const std::string kRenderedEnd(kGuidSize + 2, '\xff');

// Whether the table holds any key.
bool has_records(const Database& database, rocksdb::Status* status) {
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.table(Table::kRendered)));
  it->SeekToFirst();
  *status = it->status();
  return it->Valid();
}

}  // namespace

rocksdb::Status put_rendered(const Database& database, const Renderer& renderer,
                             const pb::DirectoryObject& object, const Renderer::GroupDn& group_dn,
                             rocksdb::WriteBatch& batch, bool group_shapes_only) {
  rocksdb::ColumnFamilyHandle* table = database.table(Table::kRendered);
  std::string record;
  for (size_t shape = 0; shape < renderer.shape_count(); ++shape) {
    if (group_shapes_only && !renderer.names_groups(shape)) continue;
    record.clear();
    const std::string key = keys::rendered(shape, object.guid());
    rocksdb::Status status = renderer.render(shape, object, group_dn, record)
                                 ? batch.Put(table, key, record)
                                 : batch.Delete(table, key);
    if (!status.ok()) return status;
  }
  return rocksdb::Status::OK();
}

rocksdb::Status erase_rendered(const Database& database, const Renderer& renderer,
                               const std::string& guid, rocksdb::WriteBatch& batch) {
  for (size_t shape = 0; shape < renderer.shape_count(); ++shape) {
    rocksdb::Status status =
        batch.Delete(database.table(Table::kRendered), keys::rendered(shape, guid));
    if (!status.ok()) return status;
  }
  return rocksdb::Status::OK();
}

rocksdb::Status prepare_rendered(const Database& database) {
  rocksdb::ColumnFamilyHandle* state = database.table(Table::kState);
  rocksdb::ColumnFamilyHandle* table = database.table(Table::kRendered);
  const Renderer* renderer = database.renderer();
  std::string stored;
  rocksdb::Status status =
      database.db()->Get(rocksdb::ReadOptions(), state, keys::kRenderedKey, &stored);
  if (!status.ok() && !status.IsNotFound()) return status;
  const bool marked = status.ok();
  if (renderer != nullptr && marked && stored == renderer->fingerprint()) {
    return rocksdb::Status::OK();
  }

  rocksdb::WriteBatch batch;
  status = marked ? batch.Delete(state, keys::kRenderedKey) : rocksdb::Status::OK();
  if (status.ok() && has_records(database, &status)) {
    status = batch.DeleteRange(table, "", kRenderedEnd);
  }
  if (!status.ok()) return status;
  if (renderer == nullptr) {
    return batch.Count() == 0 ? rocksdb::Status::OK()
                              : database.db()->Write(rocksdb::WriteOptions(), &batch);
  }

  // The DNs of the objects that users name as their groups, read once each.
  std::unordered_map<std::string, std::optional<std::string>> dns;
  const Renderer::GroupDn group_dn = [&](const std::string& guid) -> const std::string* {
    auto [it, inserted] = dns.try_emplace(guid);
    if (inserted) {
      std::string value;
      pb::DirectoryObject group;
      if (database.db()->Get(rocksdb::ReadOptions(), database.table(Table::kObjects), guid, &value)
              .ok() &&
          group.ParseFromString(value)) {
        it->second = group.dn();
      }
    }
    return it->second ? &*it->second : nullptr;
  };
  return write_from_objects(database, batch, keys::kRenderedKey, renderer->fingerprint(),
                            [&](const pb::DirectoryObject& object, rocksdb::WriteBatch& out) {
                              return put_rendered(database, *renderer, object, group_dn, out);
                            });
}

void ChangeWriter::note_group_change(const pb::DirectoryObject* before,
                                     const pb::DirectoryObject* after) {
  const pb::DirectoryObject* group = before != nullptr ? before : after;
  if (group->kind() != pb::GROUP && (after == nullptr || after->kind() != pb::GROUP)) return;
  const bool renamed = before != nullptr && after != nullptr && before->dn() != after->dn();
  if (renamed || before == nullptr || after == nullptr) regrouped_[group->guid()] |= renamed;
}

void ChangeWriter::render_changes() {
  const Renderer* renderer = database_.renderer();
  if (renderer == nullptr) return;
  // What this write stores or deletes, then the members of the groups in regrouped_ (those it
  // did not touch otherwise keep their objects: their records alone are written).
  std::vector<std::string> written;
  for (const auto& [guid, entry] : objects_) {
    if (entry.needs_write) written.push_back(guid);
  }
  std::vector<std::string> members;
  for (const auto& [group, renamed] : regrouped_) {
    // An added or deleted group's AD members changed member_of, so they are written already;
    // the users the API put in it are not (api_groups keep the GUIDs of deleted groups).
    for (std::string& user : suffixes(Table::kApiGroupMembers, group)) {
      members.push_back(std::move(user));
    }
    if (!renamed) continue;
    for (std::string& member : suffixes(Table::kGroupMembers, group)) {
      members.push_back(std::move(member));
    }
    const pb::DirectoryObject* live_group = live(group);
    if (live_group != nullptr && !live_group->sid().empty()) {
      for (std::string& user :
           suffixes(Table::kPrimaryMembers, keys::primary_prefix(live_group->sid()))) {
        members.push_back(std::move(user));
      }
    }
  }
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  prefetch(members);

  const Renderer::GroupDn group_dn = [this](const std::string& guid) -> const std::string* {
    const pb::DirectoryObject* object = live(guid);
    return object != nullptr ? &object->dn() : nullptr;
  };
  for (const std::string& guid : written) {
    const pb::DirectoryObject* object = live(guid);
    note(object != nullptr ? put_rendered(database_, *renderer, *object, group_dn, unindexed_)
                           : erase_rendered(database_, *renderer, guid, unindexed_));
  }
  for (const std::string& guid : members) {
    const CachedObject& entry = cached(guid);
    if (entry.needs_write || !entry.live) continue;  // rendered above, or not stored
    note(put_rendered(database_, *renderer, *entry.live, group_dn, unindexed_,
                      /*group_shapes_only=*/true));
  }
}

}  // namespace dirfeed::changefeed
