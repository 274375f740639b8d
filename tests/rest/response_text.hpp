#pragma once
// Test support for handler-level tests: a Response's body as a client receives it, whether a
// string or streamed (ResponseBody::Stream).
#include <string>
#include <vector>

#include "rest/http_server.hpp"

namespace dirfeed::rest::testing {

// The pieces of a streamed body, calling its stream to the end as the server does (empty
// pieces included); a string body is one piece.
inline std::vector<std::string> response_pieces(const Response& response) {
  if (!response.body().stream) return {response.body()};
  std::vector<std::string> pieces;
  bool more = true;
  while (more) {
    std::string piece;
    more = response.body().stream(piece);
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

// The whole body text.
inline std::string response_text(const Response& response) {
  std::string text;
  for (const std::string& piece : response_pieces(response)) text += piece;
  return text;
}

}  // namespace dirfeed::rest::testing
