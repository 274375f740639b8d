#pragma once
// Internal to changefeed/: the kRendered records (changefeed/renderer.hpp). ChangeWriter keeps
// them up to date in its batch (ChangeWriter::render_changes, in rendered.cpp); this makes them
// again at open when they are not the renderer's, and writes those of one object.
#include <string>

#include <rocksdb/write_batch.h>

#include "changefeed/database.hpp"

namespace dirfeed::changefeed {

// At a read-write open: with database.renderer(), makes every record again from the objects
// unless the stored fingerprint is the renderer's (batches of bounded size, the fingerprint
// in the last); without one, drops the fingerprint and the records.
rocksdb::Status prepare_rendered(const Database& database);

// Puts the records renderer gives `object` into `batch`, and deletes those of the shapes it
// gives none; with `group_shapes_only`, of the shapes that name groups only.
rocksdb::Status put_rendered(const Database& database, const Renderer& renderer,
                             const pb::DirectoryObject& object, const Renderer::GroupDn& group_dn,
                             rocksdb::WriteBatch& batch, bool group_shapes_only = false);

// Deletes every record of the object `guid` in `batch`.
rocksdb::Status erase_rendered(const Database& database, const Renderer& renderer,
                               const std::string& guid, rocksdb::WriteBatch& batch);

}  // namespace dirfeed::changefeed
