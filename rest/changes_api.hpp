#pragma once
// The Directory Changes API (specs/directory-changes-api.txt, DESIGN.md section 5):
//
//   GET /public/directory-changes?resourceType=user|group|membership
//       &onPremisesSyncEnabled=true|false[&lastSyncDate=ISO-8601][&limit=N]
//
// Authentication: an API key (`x-api-key`, or `Authorization: Api-Key KEY`) from the keys
// file; missing or unknown: 401. Parameters: resourceType exactly one of its three values,
// onPremisesSyncEnabled true or false (any case: Python clients send "True"), lastSyncDate as
// rest/iso_time.hpp parses it, limit (our extension) a positive integer; anything else 400.
// Errors have the document's shape: {"message": "...", "statusCode": 400|401}.
//
// 200: {"data": [record...], "message": "...", "statusCode": 200}, streamed (chunked) in
// pieces of about kChangesPieceSize records (a snapshot of users from their stored records,
// rest/stored_shapes.hpp: at most that many read, about kStoredPieceBytes), so memory does
// not grow with the answer. A record:
// {"resourceType", "resource", "changeType": created|updated|deleted, "timestamp",
// "onPremisesSyncEnabled"}. All reads of one answer go through one StoreView: the answer is
// one consistent state of the store, and writes made while it streams are not in it.
//
// Changes (lastSyncDate given, and the feed still holds every entry after it): one record
// per feed entry of that kind and onPremisesSyncEnabled (= the entry's from_directory) with
// timestamp strictly after lastSyncDate, oldest first; a resource changed several times
// appears once per change, with its state after that change (a deletion: its last state).
// IP mapping entries are no directory change and are skipped. `timestamp` is the entry's own
// (unique and increasing in the feed), so a client that passes back the newest timestamp it
// received gets exactly the changes after it: none missed, none twice. With `limit`, the
// list ends after `limit` records; the client continues the same way. Message: "Delta
// changes fetched successfully".
//
// Snapshot (no lastSyncDate, or one older than the retained history): every current
// resource of that kind and onPremisesSyncEnabled as `created`. Every snapshot record
// carries the same timestamp: that of the newest feed entry in the view (the state the
// snapshot shows is the state right after that entry), so passing it back continues with
// exactly the changes made after the snapshot. `limit` does not cut a snapshot: its records
// share one timestamp, so a cut one could not be continued; it is always complete
// (DESIGN.md 5: never a partial list), and it streams. Message: "Snapshot of current
// resources: ..." with the reason.
//
// "Older than the retained history": the feed no longer holds every entry after
// lastSyncDate. prune_feed drops the oldest entries, all older than the oldest retained one
// (timestamp O); so when nothing was ever pruned (the oldest retained entry is sequence 1)
// any lastSyncDate is answered from the feed, and otherwise lastSyncDate >= O - 1 µs is (no
// dropped entry can be after it) and anything earlier gets a snapshot. With every entry
// pruned, lastSyncDate at or after the newest entry ever appended gets the (empty) changes.
//
// Resources, as the document lists their fields; a string attribute AD did not give is
// null, businessPhones is an array (telephoneNumber, then otherTelephone).
// - user: id, displayName, department, jobTitle (title), businessPhones, surname, givenName,
//   accountEnabled (userAccountControl bit 0x2 clear), userPrincipalName,
//   onPremisesDomainName (the DNS name), onPremisesSamAccountName,
//   onPremisesSecurityIdentifier, onPremisesLastSyncDateTime (when dirfeed last read it
//   from AD; null for users created through the User ID API), onPremisesUserPrincipalName.
// - group: id, displayName, created (whenCreated), description, mailNickname, mailEnabled
//   (it has a mail address), onPremisesSyncEnabled, onPremisesSamAccountName,
//   onPremisesNetBiosName, onPremisesDomainName, onPremisesSecurityIdentifier,
//   onPremisesLastSyncDateTime.
// - membership: userId, groupId. One per direct user-in-group edge read from AD, the
//   primary group included (the feed's MEMBERSHIP entries; in a snapshot, each user's
//   member_of). Group-in-group edges are not user memberships and are never listed; groups
//   added to a user through the User ID API are not AD memberships either. Memberships come
//   from AD, so they are onPremisesSyncEnabled=true; with false the list is empty.
#include <cstddef>

#include "rest/api.hpp"

namespace dirfeed::rest {

// Per piece of a streamed answer: feed entries or objects read (a snapshot of users or groups
// writes those of the requested onPremisesSyncEnabled), or membership records (a piece ends
// with the user that reached it).
inline constexpr size_t kChangesPieceSize = 500;

// GET /public/directory-changes (route access Access::kApiKey: this checks the key).
Response directory_changes(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
