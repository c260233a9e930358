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

namespace sluice::auth::testing {

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
