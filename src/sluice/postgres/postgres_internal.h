#pragma once
// Private to postgres: what postgres.cc and copy.cc share.

namespace sluice::postgres {

// Counts one round trip to a server (RoundTrips).
void CountRoundTrip();

}  // namespace sluice::postgres
