#pragma once
// Two replicating Samba AD DCs of one domain for failover tests, run by
// tests/samba/two-dcs.sh: domain pair.test (base DN DC=pair,DC=test), DC1
// ldaps://dc1.pair.test on 127.0.0.31, DC2 ldaps://dc2.pair.test on 127.0.0.32, both DCs'
// CAs in ca_file(). Takes the machine-wide Samba lock like SambaDc (one user of Samba DCs at
// a time). setup() makes a fresh pair (~20 s); the destructor stops both.
//
// Use from CMake like SambaDc (RESOURCE_LOCK samba, LABELS integration).
#include <string>
#include <vector>

namespace dirfeed::testing {

class SambaPair {
 public:
  // dir: folder for both DCs (at most 70 bytes). Starts nothing.
  explicit SambaPair(std::string dir);
  ~SambaPair();
  SambaPair(const SambaPair&) = delete;
  SambaPair& operator=(const SambaPair&) = delete;

  void setup();      // provision DC1, join DC2, replicate each way; both running
  void start(int n);  // DC n (1 or 2) with its data
  void stop(int n);   // kills DC n (SIGKILL: a DC that dies); data stays
  // Pulls the domain naming context from DC `from` into DC `to` now.
  void replicate(int to, int from);
  // DISABLE_OUTBOUND_REPL on DC n (on: no partner can pull from it; its changes stay there).
  void set_outbound_replication(int n, bool enabled);

  std::string uri(int n) const;  // "ldaps://dcN.pair.test"
  std::string ca_file() const;   // DIR/ca.pem
  std::string admin_dn() const;  // "Administrator@pair.test"
  std::string password_file() const;  // DIR/admin.password (no newline)
  std::string password() const;       // its content
  std::string base_dn() const;   // "DC=pair,DC=test"
  std::string domain() const;    // "pair.test"

  // ldapmodify -x as admin against DC n; throws with its output on failure.
  void ldif(int n, const std::string& text) const;
  // ldapsearch (subtree, paged) as admin against DC n; returns LDIF.
  std::string search(int n, const std::string& base, const std::string& filter,
                     const std::vector<std::string>& attrs) const;

 private:
  void script(const std::vector<std::string>& args);
  std::string dir_;
  bool used_ = false;
};

}  // namespace dirfeed::testing
