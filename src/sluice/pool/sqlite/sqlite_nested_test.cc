// The nested load (docs/design/pool.md, "Nested loads") on hand-built derived batches: orders with
// line items (configured key) with serial numbers (synthetic key: foreign key + _index).

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/pool_testing.h"

namespace sluice::pool {
namespace {

using namespace testing_util;  // NOLINT(google-build-using-namespace)

// One derived table's share of a file: its rows and each row's parent row.
struct Part {
  Batch rows;
  std::vector<int64_t> parent_row;
};

NestedSpec OrderSpec(ChildMode items, std::string age = "", std::string del = "") {
  NestedSpec spec;
  spec.tables.push_back({Spec("orders", {"order_id"}, std::move(age), std::move(del))});
  spec.tables.push_back(
      {Spec("orders_items", {"item_id"}), 0, {"orders_order_id"}, {"order_id"}, items});
  spec.tables.push_back({Spec("orders_items_serials", {"orders_items_item_id", "_index"}),
                         1,
                         {"orders_items_item_id"},
                         {"item_id"},
                         ChildMode::kReplace});
  return spec;
}

// Orders: (order_id, v, deleted); items: (parent row, item_id, sku); serials: (parent row
// into items, value). The serials' _index is the element's position under its item.
struct Order {
  int64_t id;
  int64_t v;
  bool deleted;
};
struct Item {
  int64_t parent;
  int64_t id;
  std::string sku;
};
struct Serial {
  int64_t parent;
  std::string value;
};

std::vector<Part> OrderParts(const std::vector<Order>& orders, const std::vector<Item>& items,
                             const std::vector<Serial>& serials) {
  std::vector<std::optional<int64_t>> oid, v, iid, fk, sfk, index;
  std::vector<std::optional<uint8_t>> del;
  std::vector<std::optional<std::string>> sku, value;
  std::vector<int64_t> item_parent, serial_parent;
  for (const Order& o : orders) {
    oid.push_back(o.id);
    v.push_back(o.v);
    del.push_back(o.deleted ? 1 : 0);
  }
  for (const Item& i : items) {
    fk.push_back(orders[static_cast<size_t>(i.parent)].id);
    iid.push_back(i.id);
    sku.push_back(i.sku);
    item_parent.push_back(i.parent);
  }
  std::vector<int64_t> position(items.size(), 0);
  for (const Serial& s : serials) {
    sfk.push_back(items[static_cast<size_t>(s.parent)].id);
    index.push_back(position[static_cast<size_t>(s.parent)]++);
    value.push_back(s.value);
    serial_parent.push_back(s.parent);
  }
  std::vector<Part> parts;
  parts.push_back(
      {MakeBatch({{"order_id", Ints(oid)}, {"v", Ints(v)}, {"_deleted", Bools(del)}}), {}});
  parts.push_back(
      {MakeBatch({{"orders_order_id", Ints(fk)}, {"item_id", Ints(iid)}, {"sku", Strings(sku)}}),
       item_parent});
  parts.push_back({MakeBatch({{"orders_items_item_id", Ints(sfk)},
                              {"_index", Ints(index)},
                              {"value", Strings(value)}}),
                   serial_parent});
  return parts;
}

class NestedTest : public AnyPoolTest {
 protected:
  Status TryLoad(const NestedSpec& spec, int64_t seq, const std::vector<Part>& parts,
                 std::vector<ApplyCounts>* counts = nullptr) {
    auto tx = pool_->BeginNestedLoad(spec, seq);
    if (!tx.ok()) return tx.status();
    std::vector<DerivedBatch> batches;
    for (const Part& p : parts) batches.push_back({&p.rows, p.parent_row});
    SLUICE_RETURN_IF_ERROR((*tx)->Apply(batches));
    if (counts != nullptr) *counts = (*tx)->counts();
    return (*tx)->Commit(1000 + seq);
  }

  std::vector<std::string> LoadCounts(const NestedSpec& spec, int64_t seq,
                                      const std::vector<Part>& parts) {
    std::vector<ApplyCounts> counts;
    Status st = TryLoad(spec, seq, parts, &counts);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::vector<std::string> out;
    for (const ApplyCounts& c : counts) out.push_back(CountsText(c));
    return out;
  }

  Lines Items() {
    return Rows("SELECT orders_order_id, item_id, sku FROM orders_items ORDER BY item_id");
  }
  Lines Serials() {
    return Rows(
        "SELECT orders_items_item_id, _index, value FROM orders_items_serials ORDER BY 1, 2");
  }
  // Child rows whose parent row does not exist.
  Lines Orphans() {
    return Rows(
        "SELECT 'item', item_id FROM orders_items WHERE orders_order_id NOT IN (SELECT order_id "
        "FROM orders) UNION ALL SELECT 'serial', orders_items_item_id FROM "
        "orders_items_serials WHERE orders_items_item_id NOT IN (SELECT item_id FROM "
        "orders_items)");
  }

  void CheckDeleteCascades(ChildMode mode) {
    const NestedSpec spec = OrderSpec(mode, "v", "_deleted");
    LoadFirst(spec);
    // The delete row carries an item (ignored, counted as deleted with its serial).
    EXPECT_EQ(LoadCounts(spec, 2, OrderParts({{1, 12, true}}, {{0, 77, "q"}}, {{0, "w"}})),
              (Lines{"i0 u0 r0 d1", "i0 u0 r0 d1", "i0 u0 r0 d1"}));
    EXPECT_EQ(Rows("SELECT order_id FROM orders"), (Lines{"2"}));
    EXPECT_EQ(Items(), (Lines{"2|21|c"}));
    EXPECT_EQ(Serials(), (Lines{"21|0|s4"}));
    // The tombstone keeps an older order 1 from coming back, children included.
    EXPECT_EQ(LoadCounts(spec, 3, OrderParts({{1, 11, false}}, {{0, 11, "a"}}, {{0, "s"}})),
              (Lines{"i0 u0 r1 d0", "i0 u0 r1 d0", "i0 u0 r1 d0"}));
    EXPECT_EQ(Items(), (Lines{"2|21|c"}));
    EXPECT_EQ(Orphans(), Lines{});
  }

  void LoadFirst(const NestedSpec& spec) {
    EXPECT_EQ(LoadCounts(spec, 1,
                         OrderParts({{1, 10, false}, {2, 10, false}},
                                    {{0, 11, "a"}, {0, 12, "b"}, {1, 21, "c"}},
                                    {{0, "s1"}, {0, "s2"}, {1, "s3"}, {2, "s4"}})),
              (Lines{"i2 u0 r0 d0", "i3 u0 r0 d0", "i4 u0 r0 d0"}));
  }
};

INSTANTIATE_TEST_SUITE_P(Pools, NestedTest,
                         ::testing::Values(PoolKind::kSqlite, PoolKind::kPostgres), PoolKindName);

TEST_P(NestedTest, ReplaceRemovesDroppedChildrenAndTheirDescendants) {
  const NestedSpec spec = OrderSpec(ChildMode::kReplace);
  LoadFirst(spec);
  // Order 1 comes back with item 12 only (a new serial list); item 11 and its serials go.
  EXPECT_EQ(LoadCounts(spec, 2, OrderParts({{1, 11, false}}, {{0, 12, "b2"}}, {{0, "s9"}})),
            (Lines{"i0 u1 r0 d0", "i1 u0 r0 d0", "i1 u0 r0 d0"}));
  EXPECT_EQ(Items(), (Lines{"1|12|b2", "2|21|c"}));
  EXPECT_EQ(Serials(), (Lines{"12|0|s9", "21|0|s4"}));
  EXPECT_EQ(Orphans(), Lines{});
  // An empty list removes every child.
  EXPECT_EQ(LoadCounts(spec, 3, OrderParts({{2, 11, false}}, {}, {})),
            (Lines{"i0 u1 r0 d0", "i0 u0 r0 d0", "i0 u0 r0 d0"}));
  EXPECT_EQ(Items(), (Lines{"1|12|b2"}));
  EXPECT_EQ(Serials(), (Lines{"12|0|s9"}));
}

TEST_P(NestedTest, UpsertKeepsChildrenTheFileLacks) {
  const NestedSpec spec = OrderSpec(ChildMode::kUpsert);
  LoadFirst(spec);
  EXPECT_EQ(LoadCounts(spec, 2, OrderParts({{1, 11, false}}, {{0, 12, "b2"}}, {{0, "s9"}})),
            (Lines{"i0 u1 r0 d0", "i0 u1 r0 d0", "i1 u0 r0 d0"}));
  EXPECT_EQ(Items(), (Lines{"1|11|a", "1|12|b2", "2|21|c"}));
  // Serials are replaced under the item that was written (their table's mode), kept under 11.
  EXPECT_EQ(Serials(), (Lines{"11|0|s1", "11|1|s2", "12|0|s9", "21|0|s4"}));
  EXPECT_EQ(Orphans(), Lines{});
}

TEST_P(NestedTest, StaleParentAppliesNoChildren) {
  const NestedSpec spec = OrderSpec(ChildMode::kReplace, "v");
  LoadFirst(spec);
  // Order 1 at an older version (9): refused with all its items and serials; order 2 applies.
  EXPECT_EQ(LoadCounts(spec, 2,
                       OrderParts({{1, 9, false}, {2, 10, false}},
                                  {{0, 13, "x"}, {0, 14, "y"}, {1, 22, "d"}},
                                  {{0, "z1"}, {1, "z2"}, {2, "z3"}})),
            (Lines{"i0 u1 r1 d0", "i1 u0 r2 d0", "i1 u0 r2 d0"}));
  EXPECT_EQ(Items(), (Lines{"1|11|a", "1|12|b", "2|22|d"}));
  EXPECT_EQ(Serials(), (Lines{"11|0|s1", "11|1|s2", "12|0|s3", "22|0|z3"}));
  EXPECT_EQ(Orphans(), Lines{});
}

TEST_P(NestedTest, DeletedParentDeletesItsDescendantsUnderReplace) {
  CheckDeleteCascades(ChildMode::kReplace);
}

TEST_P(NestedTest, DeletedParentDeletesItsDescendantsUnderUpsert) {
  CheckDeleteCascades(ChildMode::kUpsert);
}

TEST_P(NestedTest, RepeatedParentInOneFileLastChildrenWin) {
  const NestedSpec spec = OrderSpec(ChildMode::kReplace);
  // Order 1 twice in one file: the second list replaces the first's.
  EXPECT_EQ(
      LoadCounts(spec, 1,
                 OrderParts({{1, 1, false}, {1, 2, false}},
                            {{0, 11, "a"}, {0, 12, "b"}, {1, 13, "c"}}, {{0, "s1"}, {2, "s2"}})),
      (Lines{"i1 u1 r0 d0", "i3 u0 r0 d0", "i2 u0 r0 d0"}));
  EXPECT_EQ(Items(), (Lines{"1|13|c"}));
  EXPECT_EQ(Serials(), (Lines{"13|0|s2"}));
  EXPECT_EQ(Orphans(), Lines{});
  // The ledger's counts are the root's; every table's are kept beside them.
  auto applied = pool_->FindApplied(kSchema, 1);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ(CountsText((*applied)->counts), "i1 u1 r0 d0");
  ASSERT_EQ((*applied)->tables.size(), 3u);
  EXPECT_EQ((*applied)->tables[1].table, "orders_items");
  EXPECT_EQ(CountsText((*applied)->tables[1].counts), "i3 u0 r0 d0");
  EXPECT_EQ(CountsText((*applied)->tables[2].counts), "i2 u0 r0 d0");
}

TEST_P(NestedTest, ChildrenSpreadOverBatchesAndRowsOutOfParentOrder) {
  const NestedSpec spec = OrderSpec(ChildMode::kReplace);
  std::vector<Part> a = OrderParts({{1, 1, false}, {2, 1, false}},
                                   {{1, 21, "c"}, {0, 11, "a"}, {1, 22, "d"}}, {{1, "s"}});
  std::vector<Part> b = OrderParts({{3, 1, false}}, {{0, 31, "e"}}, {});
  auto tx = pool_->BeginNestedLoad(spec, 1);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  for (const auto* parts : {&a, &b}) {
    std::vector<DerivedBatch> batches;
    for (const Part& p : *parts) batches.push_back({&p.rows, p.parent_row});
    Status st = (*tx)->Apply(batches);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ASSERT_TRUE((*tx)->Commit(5).ok());
  EXPECT_EQ(Items(), (Lines{"1|11|a", "2|21|c", "2|22|d", "3|31|e"}));
  EXPECT_EQ(Serials(), (Lines{"11|0|s"}));
}

TEST_P(NestedTest, ForeignKeysAreIndexed) {
  LoadFirst(OrderSpec(ChildMode::kReplace));
  // The configured child key does not lead with the foreign key: an index; the synthetic key
  // does: none needed.
  EXPECT_EQ(Rows(pg() ? "SELECT indexname, tablename FROM pg_indexes WHERE indexname LIKE "
                        "'\\_sluice\\_fk\\_%' ORDER BY 1"
                      : "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name "
                        "LIKE '_sluice_fk_%' ORDER BY name"),
            (Lines{"_sluice_fk_orders_items|orders_items"}));
  EXPECT_EQ(Rows(std::string("SELECT table_name, kind, column_name FROM ") +
                 (pg() ? "_sluice.schema_history" : "_sluice_schema_history") +
                 " WHERE table_name = 'orders_items' ORDER BY id"),
            (Lines{"orders_items|create|orders_order_id", "orders_items|create|item_id",
                   "orders_items|create|sku"}));
}

TEST_P(NestedTest, FailureRollsBackEveryTable) {
  const NestedSpec spec = OrderSpec(ChildMode::kReplace);
  LoadFirst(spec);
  std::vector<Part> parts = OrderParts({{1, 5, false}}, {{0, 15, "n"}}, {});
  // A null child key fails the file, naming the derived table.
  parts[1].rows.columns[1] = Ints({std::nullopt});
  Status st = TryLoad(spec, 2, parts);
  EXPECT_EQ(st.code(), ErrorCode::kPkNull) << st.ToString();
  EXPECT_NE(st.message().find("orders_items"), std::string::npos) << st.ToString();
  // A child column that does not fit its stored type: SCHEMA_MISMATCH naming table and column.
  parts = OrderParts({{1, 5, false}}, {{0, 15, "n"}}, {});
  parts[1].rows =
      MakeBatch({{"orders_order_id", Ints({1})}, {"item_id", Ints({15})}, {"sku", Doubles({1.5})}});
  st = TryLoad(spec, 2, parts);
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch) << st.ToString();
  EXPECT_NE(st.message().find("'sku' of table 'orders_items'"), std::string::npos) << st.ToString();
  // Applied, then dropped without a commit: nothing of it remains.
  {
    auto tx = pool_->BeginNestedLoad(spec, 3);
    ASSERT_TRUE(tx.ok());
    parts = OrderParts({{1, 5, false}, {9, 1, false}}, {{1, 91, "z"}}, {{0, "q"}});
    std::vector<DerivedBatch> batches;
    for (const Part& p : parts) batches.push_back({&p.rows, p.parent_row});
    ASSERT_TRUE((*tx)->Apply(batches).ok());
  }
  EXPECT_EQ(Rows("SELECT order_id, v FROM orders ORDER BY 1"), (Lines{"1|10", "2|10"}));
  EXPECT_EQ(Items(), (Lines{"1|11|a", "1|12|b", "2|21|c"}));
  EXPECT_EQ(Serials(), (Lines{"11|0|s1", "11|1|s2", "12|0|s3", "21|0|s4"}));
  auto applied = pool_->FindApplied(kSchema, 3);
  ASSERT_TRUE(applied.ok());
  EXPECT_FALSE(applied->has_value());
}

TEST_P(NestedTest, RejectsMalformedPlansAndBatches) {
  NestedSpec spec = OrderSpec(ChildMode::kReplace);
  spec.tables[2].parent = 2;
  EXPECT_EQ(pool_->BeginNestedLoad(spec, 1).status().code(), ErrorCode::kInvalidArgument);
  spec = OrderSpec(ChildMode::kReplace);
  spec.tables[1].table.age_column = "v";
  EXPECT_EQ(pool_->BeginNestedLoad(spec, 1).status().code(), ErrorCode::kInvalidArgument);
  spec = OrderSpec(ChildMode::kReplace);
  std::vector<Part> parts = OrderParts({{1, 1, false}}, {{0, 11, "a"}}, {});
  parts[1].parent_row = {3};
  Status st = TryLoad(spec, 1, parts);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("parent row 3"), std::string::npos) << st.ToString();
}

// The same random nested files on both pools: equal counts per table after every batch, equal
// rows after every file. Repeated orders and items (an item id may repeat under one order and
// move between orders), deletes and small ages (ties, refusals), in both child modes.
std::vector<std::string> Dump(Pool& pool, const std::string& sql) {
  auto r = pool.Query(sql, kSchema);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const auto& row : r->rows) {
    std::string line;
    for (const auto& v : row) line += (v ? *v : "NULL") + "|";
    out.push_back(line);
  }
  return out;
}

void RunNestedTwins(ChildMode items, uint32_t seed) {
  testing::TempDir tmp("nested_twins");
  ::sluice::postgres::testing::TestDatabase db;
  ASSERT_FALSE(db.conninfo().empty());
  FakeClock clock(1'700'000'000'000'000);
  auto lite = OpenSqlitePool(tmp.Join("pool"), clock);
  auto pg = OpenPostgresPool(db.conninfo(), clock);
  ASSERT_TRUE(lite.ok() && pg.ok());
  const NestedSpec spec = OrderSpec(items, "v", "_deleted");
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  for (int64_t seq = 1; seq <= 10; ++seq) {
    auto a = (*lite)->BeginNestedLoad(spec, seq);
    auto b = (*pg)->BeginNestedLoad(spec, seq);
    ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
    for (int batch = 0, batches = 1 + pick(2); batch < batches; ++batch) {
      std::vector<Order> orders;
      std::vector<Item> order_items;
      std::vector<Serial> serials;
      for (int o = 0, n = 1 + pick(5); o < n; ++o) {
        orders.push_back({pick(4), pick(3), pick(5) == 0});
        for (int i = 0, m = pick(3); i < m; ++i) {
          order_items.push_back({o, 10 + pick(6), "s" + std::to_string(seq)});
          for (int k = 0, q = pick(3); k < q; ++k) {
            serials.push_back({static_cast<int64_t>(order_items.size() - 1),
                               "v" + std::to_string(seq * 100 + k)});
          }
        }
      }
      std::vector<Part> parts = OrderParts(orders, order_items, serials);
      std::vector<DerivedBatch> derived;
      for (const Part& p : parts) derived.push_back({&p.rows, p.parent_row});
      ASSERT_TRUE((*a)->Apply(derived).ok());
      Status st = (*b)->Apply(derived);
      ASSERT_TRUE(st.ok()) << st.ToString();
      for (size_t t = 0; t < spec.tables.size(); ++t) {
        ASSERT_EQ(CountsText((*a)->counts()[t]), CountsText((*b)->counts()[t]))
            << "seed " << seed << " file " << seq << " batch " << batch << " table " << t;
      }
    }
    ASSERT_TRUE((*a)->Commit(seq).ok());
    ASSERT_TRUE((*b)->Commit(seq).ok());
    for (const char* sql :
         {"SELECT order_id, v FROM orders ORDER BY 1",
          "SELECT item_id, orders_order_id, sku FROM orders_items ORDER BY 1",
          "SELECT orders_items_item_id, _index, value FROM orders_items_serials ORDER BY 1, 2"}) {
      ASSERT_EQ(Dump(**lite, sql), Dump(**pg, sql))
          << "seed " << seed << " file " << seq << ": " << sql;
    }
  }
}

TEST(NestedTwinsTest, ReplaceGivesTheSameCountsAndRowsOnBothPools) {
  for (uint32_t seed = 1; seed <= 4; ++seed) RunNestedTwins(ChildMode::kReplace, seed);
}

TEST(NestedTwinsTest, UpsertGivesTheSameCountsAndRowsOnBothPools) {
  for (uint32_t seed = 1; seed <= 4; ++seed) RunNestedTwins(ChildMode::kUpsert, seed);
}

}  // namespace
}  // namespace sluice::pool
