#pragma once
// LDIF add records for seeding the Samba DC fixture (SambaDc::ldif): an OU, a user, a group.
// Each record ends in a blank line, so that records concatenate into one LDIF text.
#include <string>
#include <vector>

namespace dirfeed::testing {

// `dn` as an organizationalUnit.
inline std::string ldif_ou(const std::string& dn) {
  return "dn: " + dn + "\nchangetype: add\nobjectClass: organizationalUnit\n\n";
}

// CN=`cn`,`parent` as a user named `sam` (sAMAccountName), with `attributes`: more LDIF lines,
// each ending in "\n" (`cn` as LDIF writes it: "Smith\\, John").
inline std::string ldif_user(const std::string& cn, const std::string& parent,
                             const std::string& sam, const std::string& attributes = "") {
  return "dn: CN=" + cn + "," + parent + "\nchangetype: add\nobjectClass: user\n" +
         "sAMAccountName: " + sam + "\n" + attributes + "\n";
}

// CN=`cn`,`parent` as a group named `sam` (sAMAccountName) with `attributes` (as for
// ldif_user), whose members are the DNs `members`.
inline std::string ldif_group(const std::string& cn, const std::string& parent,
                              const std::string& sam, const std::vector<std::string>& members,
                              const std::string& attributes = "") {
  std::string record = "dn: CN=" + cn + "," + parent + "\nchangetype: add\nobjectClass: group\n" +
                       "sAMAccountName: " + sam + "\n" + attributes;
  for (const std::string& member : members) record += "member: " + member + "\n";
  return record + "\n";
}

}  // namespace dirfeed::testing
