#include "changefeed/rocks_view.hpp"

#include <limits>
#include <optional>

#include "changefeed/keys.hpp"

namespace dirfeed::changefeed {
namespace {

bool matches(const FeedQuery& query, const pb::Change& change) {
  if (query.kind && change.kind() != *query.kind) return false;
  if (query.from_directory && change.from_directory() != *query.from_directory) return false;
  return true;
}

}  // namespace

void RocksView::objects_after(pb::ObjectKind kind, const std::string& domain,
                              const std::string& after_guid,
                              const Visitor<pb::DirectoryObject>& visit) const {
  // The first key after `after_guid`: the GUID with a zero byte appended sorts right after it.
  const std::string after = after_guid.empty() ? "" : after_guid + '\0';
  if (domain.empty()) {
    std::unique_ptr<rocksdb::Iterator> it = reader_.iterator(Table::kObjects);
    for (it->Seek(after); it->Valid(); it->Next()) {
      pb::DirectoryObject object;
      if (!object.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        continue;
      }
      if (object.kind() == kind && !visit(object)) return;
    }
    return;
  }
  const std::string prefix = keys::domain_kind_prefix(domain, kind);
  std::unique_ptr<rocksdb::Iterator> it = reader_.iterator(Table::kDomainIndex);
  for (it->Seek(prefix + after); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice guid = it->key();
    guid.remove_prefix(prefix.size());
    std::optional<pb::DirectoryObject> object = reader_.object(guid);
    if (object && !visit(*object)) return;
  }
}

void RocksView::changes_after_time(int64_t after_us, const FeedQuery& query,
                                   const Visitor<pb::Change>& visit) const {
  if (after_us == std::numeric_limits<int64_t>::max() || query.limit == 0) return;
  std::unique_ptr<rocksdb::Iterator> it = reader_.iterator(Table::kFeedByTime);
  size_t matched = 0;
  for (it->Seek(keys::time(after_us + 1, 0)); it->Valid(); it->Next()) {
    const uint64_t sequence = keys::decode_time_sequence(it->key().ToStringView());
    std::optional<pb::Change> change =
        reader_.get_message<pb::Change>(Table::kFeedBySequence, keys::sequence(sequence));
    if (!change || !matches(query, *change)) continue;
    if (!visit(*change) || ++matched >= query.limit) return;
  }
}

FeedBounds RocksView::feed_bounds() const {
  FeedBounds bounds;
  if (std::optional<std::string> value = reader_.get(Table::kState, keys::kFeedPositionKey)) {
    if (std::optional<FeedPosition> position = keys::decode_position(*value)) {
      bounds.newest_sequence = position->sequence;
      bounds.newest_timestamp_us = position->timestamp_us;
    }
  }
  std::unique_ptr<rocksdb::Iterator> it = reader_.iterator(Table::kFeedByTime);
  it->SeekToFirst();
  if (it->Valid()) {
    bounds.oldest_sequence = keys::decode_time_sequence(it->key().ToStringView());
    bounds.oldest_timestamp_us = keys::decode_time(it->key().ToStringView());
  }
  return bounds;
}

void RocksView::rendered_after(size_t shape, std::string_view after_guid,
                               const RecordVisitor& visit) const {
  if (reader_.database().renderer() == nullptr) return;
  const std::string prefix = keys::rendered(shape, "");
  std::lock_guard lock(listing_mutex_);
  // A listing read piece by piece goes on from where the last call stopped: no new seek.
  if (listing_ && listing_->Valid() && !after_guid.empty() &&
      listing_->key().ToStringView() == prefix + std::string(after_guid)) {
    listing_->Next();
  } else {
    std::string start = prefix;
    if (!after_guid.empty()) start.append(after_guid).push_back('\0');
    listing_ = reader_.iterator(Table::kRendered);
    listing_->Seek(start);
  }
  for (; listing_->Valid() && listing_->key().starts_with(prefix); listing_->Next()) {
    std::string_view guid = listing_->key().ToStringView();
    guid.remove_prefix(prefix.size());
    if (!visit(guid, listing_->value().ToStringView())) return;  // stays on this record
  }
  listing_.reset();
}

std::optional<pb::DirectoryObject> RocksView::group_by_sid(const std::string& sid) const {
  std::optional<pb::DirectoryObject> object = reader_.object_by_index(Table::kSidIndex, sid);
  if (!object || object->kind() != pb::GROUP) return std::nullopt;
  return object;
}

void RocksView::members(const std::string& group_guid,
                        const Visitor<pb::DirectoryObject>& visit) const {
  std::optional<pb::DirectoryObject> group = reader_.object(group_guid);
  if (!group || group->kind() != pb::GROUP) return;

  std::unique_ptr<rocksdb::Iterator> edges = reader_.iterator(Table::kGroupMembers);
  for (edges->Seek(group_guid); edges->Valid() && edges->key().starts_with(group_guid);
       edges->Next()) {
    rocksdb::Slice member = edges->key();
    member.remove_prefix(group_guid.size());
    std::optional<pb::DirectoryObject> object = reader_.object(member);
    if (object && !visit(*object)) return;
  }
  if (group->sid().empty()) return;
  const std::string prefix = keys::primary_prefix(group->sid());
  std::unique_ptr<rocksdb::Iterator> primary = reader_.iterator(Table::kPrimaryMembers);
  for (primary->Seek(prefix); primary->Valid() && primary->key().starts_with(prefix);
       primary->Next()) {
    rocksdb::Slice user = primary->key();
    user.remove_prefix(prefix.size());
    // A user that is also listed in `member` was visited above.
    if (reader_.get(Table::kGroupMembers, keys::edge(group_guid, user.ToStringView()))) continue;
    std::optional<pb::DirectoryObject> object = reader_.object(user);
    if (object && !visit(*object)) return;
  }
}

void RocksView::api_members(const std::string& group_guid,
                            const Visitor<pb::DirectoryObject>& visit) const {
  std::optional<pb::DirectoryObject> group = reader_.object(group_guid);
  if (!group || group->kind() != pb::GROUP) return;
  std::unique_ptr<rocksdb::Iterator> it = reader_.iterator(Table::kApiGroupMembers);
  for (it->Seek(group_guid); it->Valid() && it->key().starts_with(group_guid); it->Next()) {
    rocksdb::Slice user = it->key();
    user.remove_prefix(group_guid.size());
    std::optional<pb::DirectoryObject> object = reader_.object(user);
    if (object && object->kind() == pb::USER && !visit(*object)) return;
  }
}

void RocksView::changes_after_sequence(uint64_t after_sequence, const FeedQuery& query,
                                       const Visitor<pb::Change>& visit) const {
  if (after_sequence == std::numeric_limits<uint64_t>::max() || query.limit == 0) return;
  std::unique_ptr<rocksdb::Iterator> it = reader_.iterator(Table::kFeedBySequence);
  size_t matched = 0;
  for (it->Seek(keys::sequence(after_sequence + 1)); it->Valid(); it->Next()) {
    pb::Change change;
    if (!change.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      continue;
    }
    if (!matches(query, change)) continue;
    if (!visit(change) || ++matched >= query.limit) return;
  }
}

}  // namespace dirfeed::changefeed
