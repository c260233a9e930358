#pragma once
// Private to json: the schema of a window of records (the rules are in json.h). Observe each
// record, then Finish. Memory: one node per distinct path, not per value.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/json/walk_internal.h"

namespace sluice::json {

class Inferrer {
 public:
  // `target`: types for the paths it names (may be null).
  explicit Inferrer(const batch::Schema* target);
  ~Inferrer();
  // Folds one record (an object) into the types. kCorruptFile for malformed JSON;
  // kLimitExceeded past kMaxInferredFields distinct paths.
  Status Observe(od::object record);
  batch::Schema Finish() const;

  struct Node;

 private:
  int64_t paths_ = 0;  // declared before root_, which counts itself
  std::unique_ptr<Node> root_;
  const batch::Schema* target_;
};

}  // namespace sluice::json
