#include <vector>

#include "sluice/json/walk_internal.h"

namespace sluice::json {

std::string RenderPath(const PathStep* step) {
  std::vector<const PathStep*> steps;
  for (; step; step = step->parent) steps.push_back(step);
  std::string out;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if ((*it)->index >= 0) {
      out += '[' + std::to_string((*it)->index) + ']';
    } else {
      if (!out.empty()) out += '.';
      out += (*it)->field;
    }
  }
  return out;
}

std::string QuoteValue(std::string_view text) {
  if (text.size() <= kQuotedValueChars) return std::string(text);
  return std::string(text.substr(0, kQuotedValueChars)) + "...";
}

}  // namespace sluice::json
