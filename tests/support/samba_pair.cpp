#include "tests/support/samba_pair.hpp"

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include "tests/support/samba_dc.hpp"

namespace dirfeed::testing {
namespace {

constexpr std::chrono::seconds kScriptTimeout{300};

std::string script_path() { return std::string(DIRFEED_SOURCE_DIR) + "/tests/samba/two-dcs.sh"; }

}  // namespace

std::string SambaPair::password() const {
  std::ifstream in(password_file());
  std::string text;
  std::getline(in, text);
  return text;
}

SambaPair::SambaPair(std::string dir) : dir_(std::move(dir)) {
  if (dir_.size() > 70) throw std::runtime_error("SambaPair: dir too long for Samba: " + dir_);
}

SambaPair::~SambaPair() {
  if (!used_) return;
  try {
    script({"teardown"});
  } catch (const std::exception& e) {
    std::cerr << "[samba-pair] teardown: " << e.what() << std::endl;
  }
}

void SambaPair::script(const std::vector<std::string>& args) {
  used_ = true;
  std::vector<std::string> argv{"bash", script_path(), args.front(), dir_};
  argv.insert(argv.end(), args.begin() + 1, args.end());
  auto t0 = std::chrono::steady_clock::now();
  run_checked(argv, {}, kScriptTimeout, /*samba_lock=*/true);
  std::cerr << "[samba-pair] " << args.front() << " took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms" << std::endl;
}

void SambaPair::setup() { script({"setup"}); }
void SambaPair::start(int n) { script({"start", std::to_string(n)}); }
void SambaPair::stop(int n) { script({"stop", std::to_string(n)}); }
void SambaPair::replicate(int to, int from) {
  script({"replicate", std::to_string(to), std::to_string(from)});
}

void SambaPair::set_outbound_replication(int n, bool enabled) {
  run_checked({"samba-tool", "drs", "options", "dc" + std::to_string(n) + ".pair.test",
               std::string("--dsa-option=") + (enabled ? "-" : "+") + "DISABLE_OUTBOUND_REPL",
               "-U", "PAIR\\Administrator", "--password=" + password()},
              {{"KRB5_CONFIG", dir_ + "/krb5.conf"}}, kScriptTimeout, true);
}

std::string SambaPair::uri(int n) const { return "ldaps://dc" + std::to_string(n) + ".pair.test"; }
std::string SambaPair::ca_file() const { return dir_ + "/ca.pem"; }
std::string SambaPair::admin_dn() const { return "Administrator@pair.test"; }
std::string SambaPair::password_file() const { return dir_ + "/admin.password"; }
std::string SambaPair::base_dn() const { return "DC=pair,DC=test"; }
std::string SambaPair::domain() const { return "pair.test"; }

void SambaPair::ldif(int n, const std::string& text) const {
  std::string path = dir_ + "/input.ldif";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  run_checked({"ldapmodify", "-x", "-H", uri(n), "-D", admin_dn(), "-y", password_file(), "-f",
               path},
              {{"LDAPTLS_CACERT", ca_file()}}, kScriptTimeout, true);
}

std::string SambaPair::search(int n, const std::string& base, const std::string& filter,
                              const std::vector<std::string>& attrs) const {
  std::vector<std::string> argv{"ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", uri(n),
                                "-D", admin_dn(), "-y", password_file(), "-E", "pr=500/noprompt",
                                "-b", base, filter};
  argv.insert(argv.end(), attrs.begin(), attrs.end());
  return run_checked(argv, {{"LDAPTLS_CACERT", ca_file()}}, kScriptTimeout, true);
}

}  // namespace dirfeed::testing
