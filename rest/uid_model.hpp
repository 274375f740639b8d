#pragma once
// The JSON of a user and of a group as the User ID Service API shows them
// (specs/user-id-service-api.txt), shared by its handlers (rest/uid_api) and the records the
// store keeps of them (rest/stored_shapes).
#include <string>
#include <vector>

#include "changefeed/renderer.hpp"
#include "dirfeed.pb.h"
#include "rest/api.hpp"
#include "rest/json.hpp"

namespace dirfeed::rest {

// The DN of the object with a GUID (nullptr: none), as changefeed::Renderer gives it.
using GroupDn = changefeed::Renderer::GroupDn;

// {"dn", "changetype" (of its last ADD/MODIFY/IP_ADD/IP_DELETE), "sAMAccountName",
// "NTLMIdentity" and "NTLMIIdentity" (NETBIOS\sam: the object's NetBIOS domain, else the
// configured one of its domain in `domains`), "mail", "ipv4_addresses" and "ipv6_addresses"
// (only when it has some), "objectGUID", "groups" (the DNs of its member_of, then of the
// api_groups AD does not list, each once; GUIDs group_dn knows no DN for are left out),
// "timestamp" (epoch seconds of last_change_us, else last_read_us)}.
void write_uid_user(JsonWriter& json, const pb::DirectoryObject& user,
                    const std::vector<DomainInfo>& domains, const GroupDn& group_dn);

// {"dn", "sAMAccountName", "NTLMIdentity", "NTLMIIdentity", "objectGUID", "groups",
// "objectClass": "Group", "changetype", "timestamp"}, the fields as for a user.
void write_uid_group(JsonWriter& json, const pb::DirectoryObject& group,
                     const std::vector<DomainInfo>& domains, const GroupDn& group_dn);

}  // namespace dirfeed::rest
