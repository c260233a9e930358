#pragma once
// Private to pool/sqlite: the nested load (docs/design/pool.md, "Nested loads"). One TableWriter
// per derived table inside the writer's one transaction; each batch of records is applied root row
// by root row, each followed by its children (and theirs) in depth-first order, so that the pool
// sees the file's rows in file order. The replace and cascade deletes are prepared statements per
// child table: for a child `c` of `p`, one DELETE per table of c's subtree, deepest first, each
// selecting its rows through the foreign keys up to `c.fk = <p's key>`.

#include <memory>
#include <mutex>

#include "sluice/core/core.h"
#include "sluice/pool/pool.h"
#include "sluice/sqlite/sqlite.h"

namespace sluice::pool::sqlite {

using ::sluice::sqlite::Db;
using ::sluice::sqlite::WriteTransaction;

// The caller holds `lock` (the writer mutex) and has begun `txn` on `db`; the load takes both
// over, as NewLoad does.
std::unique_ptr<NestedLoadTransaction> NewNestedLoad(Db* db, std::unique_lock<std::mutex> lock,
                                                     WriteTransaction txn, NestedSpec spec,
                                                     int64_t seq, const Clock& clock);

}  // namespace sluice::pool::sqlite
