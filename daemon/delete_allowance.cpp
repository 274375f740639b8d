#include "daemon/delete_allowance.hpp"

#include <boost/log/trivial.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace dirfeed::daemon {

std::string DeleteAllowance::path(const std::string& domain) const {
  // Domain names are DNS names (checked by the config); a separator would leave the folder.
  if (domain.empty() || domain.find('/') != std::string::npos || domain.front() == '.') {
    throw std::invalid_argument("not a domain name: \"" + domain + "\"");
  }
  return state_dir_ + "/deletes-allowed/" + domain;
}

size_t DeleteAllowance::allowed(const std::string& domain) const {
  const std::string file = path(domain);
  std::ifstream in(file);
  if (!in) return 0;
  std::string text;
  std::getline(in, text);
  size_t count = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (error != std::errc() || end != text.data() + text.size()) {
    BOOST_LOG_TRIVIAL(warning) << file << ": \"" << text
                               << "\" is not a number of deletes; ignored";
    return 0;
  }
  return count;
}

void DeleteAllowance::allow(const std::string& domain, size_t count) const {
  const std::string file = path(domain);
  std::error_code error;
  std::filesystem::create_directories(state_dir_ + "/deletes-allowed", error);
  if (error) throw std::runtime_error(file + ": " + error.message());
  // Written whole, then renamed: the daemon never reads half a number.
  const std::string temporary = file + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << count << '\n';
    if (!out.flush()) throw std::runtime_error(temporary + ": " + std::strerror(errno));
  }
  std::filesystem::rename(temporary, file, error);
  if (error) throw std::runtime_error(file + ": " + error.message());
}

void DeleteAllowance::withdraw(const std::string& domain) const {
  const std::string file = path(domain);
  std::error_code error;
  std::filesystem::remove(file, error);
  if (error) BOOST_LOG_TRIVIAL(error) << file << ": cannot remove: " << error.message();
}

}  // namespace dirfeed::daemon
