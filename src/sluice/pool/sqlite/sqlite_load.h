#pragma once
// Private to pool/sqlite: the SQLite load transaction (one file applied to one table) and the
// name folding the pool's schema bookkeeping shares with it.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "sluice/core/core.h"
#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/sqlite_db.h"

namespace sluice::pool::sqlite {

// SQLite compares identifiers ASCII-case-insensitively; so must the schema bookkeeping.
std::string Fold(std::string_view name);

// The hidden table holding the tombstones of `table` (pool.h, "Deletes").
std::string TombstoneTable(std::string_view table);

// The caller holds `lock` (the writer mutex) and has run BEGIN IMMEDIATE on `db`; the load
// takes both over: Commit commits and unlocks, destruction without Commit rolls back.
std::unique_ptr<LoadTransaction> NewLoad(Connection* db, std::unique_lock<std::mutex> lock,
                                         TableSpec spec, int64_t seq, const Clock& clock);

}  // namespace sluice::pool::sqlite
