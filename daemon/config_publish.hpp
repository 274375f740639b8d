#pragma once
// The publish section of the config file: sinks of the feed beyond this machine.
#include "daemon/config.hpp"
#include "daemon/config_reader.hpp"

namespace dirfeed::daemon {

// publish: {nats: {...}}; the errors go to `p` with their file, line and key.
void read_publish(config_reader::Parser& p, const config_reader::Entry& e,
                  PublishOptions& publish);

}  // namespace dirfeed::daemon
