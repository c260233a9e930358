// Loads the PERFORMANCE.md "orders" shape through the SQLite pool: 1M generated rows into an
// empty table (insert), then a 1M-row delta of which half update existing keys spread over
// the table and half are new keys (upsert). Rows are built in memory before timing, as in the
// tuned SQLite ceiling (935k rows/s insert, 268k rows/s upsert); compare in the same run.

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sluice/pool/pool.h"

namespace sluice::pool {
namespace {

using batch::Batch;
using batch::Column;
using batch::DataType;
using batch::TypeId;

constexpr int64_t kRows = 1'000'000;

template <class T>
void Put(Column* c, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  c->fixed.insert(c->fixed.end(), p, p + sizeof(T));
}

void PutString(Column* c, std::string_view s) {
  c->chars.insert(c->chars.end(), s.begin(), s.end());
  c->offsets.push_back(static_cast<int64_t>(c->chars.size()));
}

// Orders with keys from `key_of(i)`, deterministic for a seed. With `deletes`, a BOOLEAN
// `_deleted` column is true for half the rows (rows 0, 1, 4, 5, ...: half of the delta's
// updates and half of its new keys).
std::vector<Batch> MakeOrders(int64_t rows, uint32_t seed, int64_t (*key_of)(int64_t),
                              bool deletes = false) {
  static const char* kStatus[] = {"new", "paid", "packed", "shipped", "delivered", "cancelled"};
  static const char* kCurrency[] = {"EUR", "USD", "GBP", "CHF", "JPY"};
  auto schema = std::make_shared<batch::Schema>();
  auto add = [&](const char* name, DataType t) { schema->fields.push_back({name, t}); };
  add("order_id", DataType(TypeId::kInt64));
  add("customer_id", DataType(TypeId::kInt64));
  add("status", DataType(TypeId::kString));
  add("amount", DataType::Decimal(18, 2));
  add("currency", DataType(TypeId::kString));
  add("created_at", DataType::Timestamp(batch::TimeUnit::kMicros, false));
  add("updated_at", DataType::Timestamp(batch::TimeUnit::kMicros, false));
  add("note", DataType(TypeId::kString));
  add("qty", DataType(TypeId::kInt32));
  add("flag", DataType(TypeId::kBool));
  if (deletes) add("_deleted", DataType(TypeId::kBool));
  std::mt19937_64 rng(seed);
  std::vector<Batch> out;
  for (int64_t start = 0; start < rows; start += batch::kBatchRows) {
    int64_t n = std::min<int64_t>(batch::kBatchRows, rows - start);
    Batch b;
    b.schema = schema;
    b.num_rows = n;
    for (const auto& f : schema->fields) b.columns.push_back(batch::MakeColumn(f.type));
    for (int64_t i = start; i < start + n; ++i) {
      Put<int64_t>(&b.columns[0], key_of(i));
      Put<int64_t>(&b.columns[1], static_cast<int64_t>(rng() % 100'000));
      PutString(&b.columns[2], kStatus[rng() % 6]);
      Put<__int128>(&b.columns[3], static_cast<__int128>(rng() % 10'000'000));
      PutString(&b.columns[4], kCurrency[rng() % 5]);
      int64_t created = 1'600'000'000'000'000 + static_cast<int64_t>(rng() % 100'000'000'000'000);
      Put<int64_t>(&b.columns[5], created);
      Put<int64_t>(&b.columns[6], created + static_cast<int64_t>(rng() % 1'000'000'000));
      char note[51];
      size_t len = 30 + rng() % 21;
      for (size_t k = 0; k < len; ++k) note[k] = static_cast<char>('a' + rng() % 26);
      PutString(&b.columns[7], std::string_view(note, len));
      Put<int64_t>(&b.columns[8], static_cast<int64_t>(rng() % 100));
      Put<uint8_t>(&b.columns[9], static_cast<uint8_t>(rng() & 1));
      if (deletes) Put<uint8_t>(&b.columns[10], static_cast<uint8_t>((i / 2) % 2 == 0));
    }
    for (auto& c : b.columns) c.length = n;
    out.push_back(std::move(b));
  }
  return out;
}

int64_t BaseKey(int64_t i) { return i; }
// Even rows update keys spread over the base table, odd rows are new keys above it.
int64_t DeltaKey(int64_t i) { return i % 2 == 0 ? i : kRows + i; }

void Apply(Pool* pool, const TableSpec& spec, int64_t seq, const std::vector<Batch>& batches,
           benchmark::State& state) {
  auto tx = pool->BeginLoad(spec, seq);
  if (!tx.ok()) {
    state.SkipWithError(tx.status().ToString().c_str());
    return;
  }
  for (const Batch& b : batches) {
    Status st = (*tx)->Apply(b);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  Status st = (*tx)->Commit(seq);
  if (!st.ok()) state.SkipWithError(st.ToString().c_str());
}

// An empty pool in `dir` (emptied first), for one iteration; the caller pauses the timing.
Result<std::unique_ptr<Pool>> FreshPool(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return OpenSqlitePool(dir + "/pool", SystemClock::Instance());
}

enum class Delta { kNone, kUpsert, kDelete, kDeleteWithAge };

// kDelete: the upsert delta where half the rows delete (a delete column, no age column).
// kDeleteWithAge: the same with age column updated_at, so every delete leaves a tombstone and
// inserted rows check for one.
void BM_Orders(benchmark::State& state, Delta mode) {
  const bool upsert = mode != Delta::kNone;
  const bool deletes = mode == Delta::kDelete || mode == Delta::kDeleteWithAge;
  std::vector<Batch> base = MakeOrders(kRows, 1, BaseKey);
  std::vector<Batch> delta =
      upsert ? MakeOrders(kRows, 2, DeltaKey, deletes) : std::vector<Batch>{};
  TableSpec spec{"bench",
                 "orders",
                 {"order_id"},
                 mode == Delta::kDeleteWithAge ? "updated_at" : "",
                 deletes ? "_deleted" : ""};
  std::string dir = (std::filesystem::temp_directory_path() / "pool_bench_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  int64_t seq = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto pool = FreshPool(dir);
    if (!pool.ok()) {
      state.SkipWithError(pool.status().ToString().c_str());
      break;
    }
    if (upsert) Apply(pool->get(), spec, ++seq, base, state);
    state.ResumeTiming();
    Apply(pool->get(), spec, ++seq, upsert ? delta : base, state);
    state.PauseTiming();
    pool->reset();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kRows);
}

// Freshness cost: 1,000 one-row files, each its own load transaction and commit, into a
// table of 1,000 rows. What one commit costs (durability included) dominates.
void BM_SmallLoads(benchmark::State& state) {
  constexpr int64_t kLoads = 1000;
  std::vector<Batch> rows = MakeOrders(kLoads, 3, BaseKey);
  std::vector<Batch> one;
  for (int64_t i = 0; i < kLoads; ++i) {
    Batch b;
    b.schema = rows[0].schema;
    b.num_rows = 1;
    for (const Column& c : rows[0].columns) {
      Column o = batch::MakeColumn(c.type);
      if (!c.fixed.empty()) {
        size_t width = c.fixed.size() / static_cast<size_t>(c.length);
        o.fixed.assign(c.fixed.begin() + static_cast<std::ptrdiff_t>(width * i),
                       c.fixed.begin() + static_cast<std::ptrdiff_t>(width * (i + 1)));
      } else {
        std::string_view s = c.StringAt(i);
        PutString(&o, s);
      }
      o.length = 1;
      b.columns.push_back(std::move(o));
    }
    one.push_back(std::move(b));
  }
  TableSpec spec{"bench", "orders", {"order_id"}, ""};
  std::string dir = (std::filesystem::temp_directory_path() / "pool_bench_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  int64_t seq = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto pool = FreshPool(dir);
    if (!pool.ok()) {
      state.SkipWithError(pool.status().ToString().c_str());
      break;
    }
    state.ResumeTiming();
    for (const Batch& b : one) Apply(pool->get(), spec, ++seq, {b}, state);
    state.PauseTiming();
    pool->reset();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kLoads);
}

// The peer in the same run: the tuned SQLite C API with rows pre-built as the values the
// pool binds (timestamps and amounts already formatted), same table, same pragmas, same
// statement. The ratio BM_Orders / BM_RawSqlite is what the pool's own code costs.
struct RawRow {
  int64_t order_id, customer_id, qty, flag;
  std::string status, currency, created_at, updated_at, note;
  double amount;
};

std::vector<RawRow> ToRaw(const std::vector<Batch>& batches) {
  std::vector<RawRow> rows;
  for (const Batch& b : batches) {
    for (int64_t i = 0; i < b.num_rows; ++i) {
      RawRow r;
      r.order_id = b.columns[0].Value<int64_t>(i);
      r.customer_id = b.columns[1].Value<int64_t>(i);
      r.status = b.columns[2].StringAt(i);
      r.amount = static_cast<double>(static_cast<int64_t>(b.columns[3].Value<__int128>(i))) / 100;
      r.currency = b.columns[4].StringAt(i);
      r.created_at =
          batch::FormatTimestamp(b.columns[5].Value<int64_t>(i), batch::TimeUnit::kMicros, false);
      r.updated_at =
          batch::FormatTimestamp(b.columns[6].Value<int64_t>(i), batch::TimeUnit::kMicros, false);
      r.note = b.columns[7].StringAt(i);
      r.qty = b.columns[8].Value<int64_t>(i);
      r.flag = b.columns[9].fixed[static_cast<size_t>(i)];
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

bool RawExec(sqlite3* db, const char* sql, benchmark::State& state) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  state.SkipWithError(sqlite3_errmsg(db));
  return false;
}

void RawLoad(sqlite3* db, const std::vector<RawRow>& rows, benchmark::State& state) {
  const char* sql =
      "INSERT INTO orders(order_id, customer_id, status, amount, currency, created_at, "
      "updated_at, note, qty, flag) VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(order_id) DO UPDATE "
      "SET customer_id = excluded.customer_id, status = excluded.status, amount = "
      "excluded.amount, currency = excluded.currency, created_at = excluded.created_at, "
      "updated_at = excluded.updated_at, note = excluded.note, qty = excluded.qty, flag = "
      "excluded.flag";
  sqlite3_stmt* stmt = nullptr;
  if (!RawExec(db, "BEGIN IMMEDIATE", state)) return;
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  for (const RawRow& r : rows) {
    sqlite3_bind_int64(stmt, 1, r.order_id);
    sqlite3_bind_int64(stmt, 2, r.customer_id);
    sqlite3_bind_text(stmt, 3, r.status.data(), static_cast<int>(r.status.size()), SQLITE_STATIC);
    sqlite3_bind_double(stmt, 4, r.amount);
    sqlite3_bind_text(stmt, 5, r.currency.data(), static_cast<int>(r.currency.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, r.created_at.data(), static_cast<int>(r.created_at.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, r.updated_at.data(), static_cast<int>(r.updated_at.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, r.note.data(), static_cast<int>(r.note.size()), SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 9, r.qty);
    sqlite3_bind_int64(stmt, 10, r.flag);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      state.SkipWithError(sqlite3_errmsg(db));
      break;
    }
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  RawExec(db, "COMMIT", state);
}

void BM_RawSqlite(benchmark::State& state, bool upsert) {
  std::vector<RawRow> base = ToRaw(MakeOrders(kRows, 1, BaseKey));
  std::vector<RawRow> delta =
      upsert ? ToRaw(MakeOrders(kRows, 2, DeltaKey)) : std::vector<RawRow>{};
  std::string dir = (std::filesystem::temp_directory_path() / "pool_bench_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    sqlite3* db = nullptr;
    sqlite3_open((dir + "/raw.db").c_str(), &db);
    bool ok = RawExec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
                      "temp_store=MEMORY; PRAGMA cache_size=-262144; CREATE TABLE orders("
                      "order_id INTEGER PRIMARY KEY, customer_id BIGINT, status TEXT, amount "
                      "DECIMAL_BLOB(18,2), currency TEXT, created_at TIMESTAMP, updated_at "
                      "TIMESTAMP, note TEXT, qty INTEGER, flag BOOLEAN)",
                      state);
    if (ok && upsert) RawLoad(db, base, state);
    state.ResumeTiming();
    if (ok) RawLoad(db, upsert ? delta : base, state);
    state.PauseTiming();
    sqlite3_close(db);
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kRows);
}

BENCHMARK_CAPTURE(BM_Orders, insert, Delta::kNone)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_RawSqlite, insert, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Orders, upsert, Delta::kUpsert)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_RawSqlite, upsert, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Orders, upsert_half_deletes, Delta::kDelete)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Orders, upsert_half_deletes_age, Delta::kDeleteWithAge)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK(BM_SmallLoads)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace sluice::pool

BENCHMARK_MAIN();
