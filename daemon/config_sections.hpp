#pragma once
// Readers of sections of the config file, each in a file of its own (config_<section>.cpp), on
// the engine of config_reader.hpp; config.cpp reads the rest and calls these. Errors go to
// `p` with their file, line and key.
#include <vector>

#include "daemon/config.hpp"
#include "daemon/config_reader.hpp"

namespace dirfeed::daemon {

// One item of domains: [...]: name, controllers, base_dn, tls, bind, sync (base_dn derived
// from the name when not given).
void read_domain(config_reader::Parser& p, const config_reader::Entry& e,
                 ldap::DomainOptions& domain);

// publish: {nats: {...}}.
void read_publish(config_reader::Parser& p, const config_reader::Entry& e,
                  PublishOptions& publish);

// ip_sources: [...]; names unique.
void read_ip_sources(config_reader::Parser& p, const config_reader::Entry& e,
                     std::vector<ipsource::SourceOptions>& sources);

}  // namespace dirfeed::daemon
