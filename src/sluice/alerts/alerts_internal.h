#pragma once
// Private to alerts: what the endpoint checks, the dispatcher and the evaluator share.

#include <string>
#include <string_view>
#include <vector>

#include "sluice/catalog/alerts.h"

namespace sluice::alerts {

// The recipients of an e-mail endpoint's target ("a@x.com, b@y.com"), trimmed.
std::vector<std::string> SplitRecipients(std::string_view target);

// Whether the endpoint takes events of `type`.
bool Subscribes(const catalog::AlertEndpoint& endpoint, std::string_view type);

}  // namespace sluice::alerts
