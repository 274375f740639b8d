#pragma once
// A self-signed certificate made at test time (OpenSSL API, EC P-256, 1 day, SAN
// DNS:localhost and IP:127.0.0.1), written as PEM files. Link OpenSSL::Crypto.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace dirfeed::testing {

struct CertFiles {
  std::string cert_file;
  std::string key_file;
};

// Writes `<dir>/<name>.crt` and `<dir>/<name>.key` (unencrypted) and returns their paths.
inline CertFiles make_self_signed_cert(const std::string& dir, const std::string& name = "tls",
                                       const std::string& common_name = "localhost") {
  auto fail = [](const char* what) -> void { throw std::runtime_error(std::string("self-signed cert: ") + what); };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) fail("EVP_EC_gen");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), subject);
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) fail("X509V3_EXT_conf_nid");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");

  CertFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  auto write = [&](const std::string& path, auto&& writer) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) fail("fopen");
    const bool ok = writer(f);
    std::fclose(f);
    if (!ok) fail("PEM write");
  };
  write(files.cert_file, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
  write(files.key_file, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  return files;
}

}  // namespace dirfeed::testing
