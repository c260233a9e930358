#pragma once
// Test support, not part of auth's contract: the real client requests recorded in
// ../shared/s3-transcripts (the folder and its faults/), in file-name order, for the tests of
// auth/ and s3/ that replay them.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sluice/auth/auth.h"
#include "sluice/core/text.h"

namespace sluice::auth::testing {

// Header-list helpers for tests that edit recorded requests; names compare ignoring ASCII case.
inline std::string HeaderOf(const Headers& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}
inline bool HasHeader(const Headers& h, std::string_view name) {
  return std::any_of(h.begin(), h.end(),
                     [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); });
}
inline void SetHeader(Headers* h, std::string_view name, std::string value) {
  for (auto& [n, v] : *h) {
    if (EqualsIgnoreCase(n, name)) {
      v = std::move(value);
      return;
    }
  }
  h->emplace_back(std::string(name), std::move(value));
}
inline void RemoveHeader(Headers* h, std::string_view name) {
  std::erase_if(*h, [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); });
}

struct RecordedRequest {
  std::string file;  // the transcript's file name
  nlohmann::json request;
};

inline std::vector<RecordedRequest> LoadTranscriptRequests() {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(SLUICE_SHARED_DIR) / "s3-transcripts";
  std::vector<fs::path> files;
  for (const fs::path& dir : {root, root / "faults"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<RecordedRequest> out;
  for (const fs::path& f : files) {
    std::ifstream in(f);
    const nlohmann::json doc = nlohmann::json::parse(in);
    for (const nlohmann::json& r : doc.at("requests")) out.push_back({f.filename().string(), r});
  }
  return out;
}

}  // namespace sluice::auth::testing
