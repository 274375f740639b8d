// The dirfeed binary: everything lives in dirfeed_daemon, which tests link too.
#include <iostream>

#include "daemon/cli.hpp"

int main(int argc, char** argv) {
  return dirfeed::daemon::run_cli(argc, argv, std::cout, std::cerr);
}
