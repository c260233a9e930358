#pragma once
// Private to json: what inference (infer_internal.h) and decoding (decode_internal.h) share while
// they walk a record with simdjson On-Demand: the path to a value (for messages), built on the
// stack and rendered only on error, and the mapping of simdjson's error codes onto sluice's.

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/core.h"
#include "sluice/core/text.h"

namespace sluice::json {

namespace od = simdjson::ondemand;

// One step of the path from the record to a value: a field name or an array position.
struct PathStep {
  const PathStep* parent = nullptr;
  std::string_view field;  // empty with index >= 0
  int64_t index = -1;
};

// `line_items[2].qty`; a root-level step is just its name.
std::string RenderPath(const PathStep* step);

// A simdjson failure while walking a record. Type errors (a getter on a value of another
// type, a number out of range) are the caller's to turn into kSchemaMismatch; every other
// code means the JSON itself is malformed.
inline bool IsTypeError(simdjson::error_code e) {
  return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE;
}
inline Status Malformed(simdjson::error_code e, const PathStep* at) {
  std::string where = at ? " at '" + RenderPath(at) + "'" : "";
  return Err(ErrorCode::kCorruptFile, "malformed JSON" + where + ": " + simdjson::error_message(e));
}

// At most this many characters of a value are quoted in an error message.
constexpr size_t kQuotedValueChars = 40;
std::string QuoteValue(std::string_view text);

}  // namespace sluice::json
