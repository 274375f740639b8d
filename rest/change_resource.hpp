#pragma once
// The Directory Changes API's resources (rest/changes_api.hpp lists their fields), written for
// that API and for the feed's sinks beyond this machine (publish.nats).
#include <string>
#include <vector>

#include "dirfeed.pb.h"
#include "rest/api.hpp"
#include "rest/json.hpp"

namespace dirfeed::rest {

// A user or group as a `resource`. `domains`: a group's onPremisesNetBiosName when the object
// carries none.
void write_change_resource(JsonWriter& json, const pb::DirectoryObject& object,
                           const std::vector<DomainInfo>& domains);

// A membership resource: {"userId", "groupId"}.
void write_change_membership(JsonWriter& json, const std::string& user_guid,
                             const std::string& group_guid);

// A feed entry as one JSON object, the body of a NATS message:
//   {"seq", "timestamp" (ISO 8601 UTC, microseconds), "domain", "kind" (user|group|membership),
//    "type" (add|modify|delete|ip-add|ip-delete), "source", "object"}
// `source`: "ad" for an object read from AD, the directory id for one a SCIM directory pushed,
// "api" for one written through the User ID API. `object`: the user or group as
// write_change_resource shows it after the change (a delete: as it was), a membership as
// write_change_membership. An IP entry (ip-add, ip-delete) also has "ipv4" and "ipv6": the
// user's mapped addresses after it.
std::string feed_entry_json(const pb::Change& change, const std::vector<DomainInfo>& domains);

}  // namespace dirfeed::rest
