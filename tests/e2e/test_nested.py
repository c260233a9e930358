"""End to end on nested tables (DESIGN.md, "Nested tables"): the seed's nested demo with the aws
CLI, the nested reference files unnested by sluice against the same files unnested by DuckDB
(table by table), and deltas on nested data written by DuckDB: replace vs upsert children, a
stale parent, a deleted parent, four levels, maps, arrays of scalars, empty and null lists."""

import decimal
import json
import os
import unittest

from harness import GENERATED, TEST_PG, SluiceTestCase, comparable, duckdb

def rowset(rows):
    """Rows (dicts) as a sorted list of comparable tuples, keyed by column name."""
    def key(v):
        v = comparable(v)
        return repr(v.normalize() if isinstance(v, decimal.Decimal) else v)
    return sorted(tuple(sorted((k, key(v)) for k, v in r.items())) for r in rows)


# The reference files' derived tables (root `t`): DuckDB's unnesting of file `f` into each, with
# sluice's names. Child keys: line_items by order_line_id, every other array by `_index`. A null
# struct or list element gives no row (its position still counts: shape/nested.h); a null
# scalar element is a row with a null value.
def reference_queries(t, f):
    src = f"read_parquet('{f}')"
    return {
        t: f"""SELECT order_id, customer.name AS customer_name,
                      customer.address.city AS customer_address_city,
                      customer.address.zip AS customer_address_zip FROM {src}""",
        f"{t}_tags": f"""SELECT order_id AS {t}_order_id, i - 1 AS _index, v AS value
                         FROM (SELECT order_id, unnest(tags) AS v,
                                      generate_subscripts(tags, 1) AS i FROM {src})""",
        f"{t}_line_items": f"""SELECT order_id AS {t}_order_id, li.order_line_id, li.product,
                                     li.quantity, li.price
                              FROM (SELECT order_id, unnest(line_items) AS li FROM {src})
                              WHERE li IS NOT NULL""",
        f"{t}_shipments": f"""SELECT order_id AS {t}_order_id, i - 1 AS _index, s.shipment_id
                             FROM (SELECT order_id, unnest(shipments) AS s,
                                          generate_subscripts(shipments, 1) AS i FROM {src})
                             WHERE s IS NOT NULL""",
        f"{t}_shipments_packages": f"""
            SELECT order_id AS {t}_order_id, si - 1 AS {t}_shipments__index, pi - 1 AS _index,
                   p.package_id
            FROM (SELECT order_id, si, unnest(s.packages) AS p,
                         generate_subscripts(s.packages, 1) AS pi
                  FROM (SELECT order_id, unnest(shipments) AS s,
                               generate_subscripts(shipments, 1) AS si FROM {src})
                  WHERE s IS NOT NULL)
            WHERE p IS NOT NULL""",
        f"{t}_shipments_packages_items": f"""
            SELECT order_id AS {t}_order_id, si - 1 AS {t}_shipments__index,
                   pi - 1 AS {t}_shipments_packages__index, ii - 1 AS _index, it.sku, it.qty
            FROM (SELECT order_id, si, pi, unnest(p.items) AS it,
                         generate_subscripts(p.items, 1) AS ii
                  FROM (SELECT order_id, si, unnest(s.packages) AS p,
                               generate_subscripts(s.packages, 1) AS pi
                        FROM (SELECT order_id, unnest(shipments) AS s,
                                     generate_subscripts(shipments, 1) AS si FROM {src})
                        WHERE s IS NOT NULL)
                  WHERE p IS NOT NULL)
            WHERE it IS NOT NULL""",
        f"{t}_attributes": f"""SELECT order_id AS {t}_order_id, i - 1 AS _index, e.key, e.value
                              FROM (SELECT order_id, unnest(map_entries(attributes)) AS e,
                                           generate_subscripts(map_entries(attributes), 1) AS i
                                    FROM {src})""",
        f"{t}_score_matrix": f"""SELECT order_id AS {t}_order_id, i - 1 AS _index
                                FROM (SELECT order_id, unnest(score_matrix) AS r,
                                             generate_subscripts(score_matrix, 1) AS i
                                      FROM {src})
                                WHERE r IS NOT NULL""",
        f"{t}_score_matrix_value": f"""
            SELECT order_id AS {t}_order_id, i - 1 AS {t}_score_matrix__index, j - 1 AS _index,
                   v AS value
            FROM (SELECT order_id, i, unnest(r) AS v, generate_subscripts(r, 1) AS j
                  FROM (SELECT order_id, unnest(score_matrix) AS r,
                               generate_subscripts(score_matrix, 1) AS i FROM {src}))""",
    }


# The delta files' record: order_id, version (age), _deleted, line_items (keyed by
# order_line_id), tags (scalars), shipments -> packages -> items (four levels).
DELTA_COLUMNS = ("order_id BIGINT, version INTEGER, _deleted BOOLEAN, "
                 "line_items STRUCT(order_line_id INTEGER, product VARCHAR)[], tags VARCHAR[], "
                 "shipments STRUCT(shipment_id INTEGER, packages STRUCT(package_id INTEGER, "
                 "items STRUCT(sku VARCHAR, qty INTEGER)[])[])[]")

EXAMPLE = {
    "order_id": 1, "version": 1, "_deleted": False,
    "line_items": [{"order_line_id": 1, "product": "p"}], "tags": ["t"],
    "shipments": [{"shipment_id": 1, "packages": [{"package_id": 1,
                                                   "items": [{"sku": "s", "qty": 1}]}]}],
}


def order(order_id, version, items, tags=(), shipments=(), deleted=False):
    """One record of the delta files as a DuckDB row expression."""
    def lst(values, render, typ):
        if values is None:
            return f"NULL::{typ}"
        return "[" + ", ".join(render(v) for v in values) + f"]::{typ}"
    li = lst(items, lambda i: f"{{'order_line_id': {i[0]}, 'product': '{i[1]}'}}",
             "STRUCT(order_line_id INTEGER, product VARCHAR)[]")
    tg = lst(tags, lambda s: f"'{s}'", "VARCHAR[]")
    sh = lst(shipments, lambda s: "{'shipment_id': %d, 'packages': [%s]}" % (s[0], ", ".join(
        "{'package_id': %d, 'items': [%s]}" % (p[0], ", ".join(
            f"{{'sku': '{sku}', 'qty': {qty}}}" for sku, qty in p[1])) for p in s[1])),
        "STRUCT(shipment_id INTEGER, packages STRUCT(package_id INTEGER, "
        "items STRUCT(sku VARCHAR, qty INTEGER)[])[])[]")
    return f"({order_id}::BIGINT, {version}::INTEGER, {str(deleted).lower()}, {li}, {tg}, {sh})"


class NestedTest(SluiceTestCase):
    def setUp(self):
        self.work = os.path.join(self.tmp, self._testMethodName)
        os.makedirs(self.work, exist_ok=True)

    def write_example(self, record):
        path = os.path.join(self.work, "order.json")
        with open(path, "w") as f:
            json.dump(record, f)
        return path

    def add_nested(self, conn, table, example, pk, *extra):
        self.sluice("table", "add", conn["bucket"], table, "--nested", "--example",
                    self.write_example(example), "--pk", pk, *extra)

    def write_orders(self, name, *orders):
        path = os.path.join(self.work, name)
        duckdb(f"COPY (SELECT * FROM (VALUES {', '.join(orders)}) "
               f"t(order_id, version, _deleted, line_items, tags, shipments)) "
               f"TO '{path}' (FORMAT parquet)")
        return path

    def push(self, conn, table, path, count, statuses=("loaded",)):
        self.aws(conn, "s3", "cp", path, f"s3://{conn['bucket']}/{table}/{os.path.basename(path)}")
        return self.wait_files(conn, table, count, statuses=statuses)[count - 1]

    def rows(self, conn, sql):
        return [tuple(r.values()) for r in self.query(conn, sql)]

    def assert_no_orphans(self, conn, t):
        orphans = self.query(conn, f"""
            SELECT 'line_items' AS t, {t}_order_id AS k FROM {t}_line_items
              WHERE {t}_order_id NOT IN (SELECT order_id FROM {t})
            UNION ALL SELECT 'tags', {t}_order_id FROM {t}_tags
              WHERE {t}_order_id NOT IN (SELECT order_id FROM {t})
            UNION ALL SELECT 'shipments', {t}_order_id FROM {t}_shipments
              WHERE {t}_order_id NOT IN (SELECT order_id FROM {t})
            UNION ALL SELECT 'packages', p.{t}_order_id FROM {t}_shipments_packages p
              WHERE NOT EXISTS (SELECT 1 FROM {t}_shipments s WHERE s.{t}_order_id =
                p.{t}_order_id AND s._index = p.{t}_shipments__index)
            UNION ALL SELECT 'items', i.{t}_order_id FROM {t}_shipments_packages_items i
              WHERE NOT EXISTS (SELECT 1 FROM {t}_shipments_packages p WHERE p.{t}_order_id =
                i.{t}_order_id AND p.{t}_shipments__index = i.{t}_shipments__index AND
                p._index = i.{t}_shipments_packages__index)""")
        self.assertEqual(orphans, [])

    def test_seed_nested_demo_with_aws_cli(self):
        conn = self.create_connection("seed-nested")
        example = {"order_id": "ORD-2001",
                   "customer": {"name": "Ana Lima", "address": {"city": "Porto"}},
                   "tags": ["priority", "gift"],
                   "line_items": [{"order_line_id": 1, "product": "espresso machine",
                                   "quantity": 1, "price": 249.90},
                                  {"order_line_id": 2, "product": "coffee beans 1kg",
                                   "quantity": 3, "price": 18.50}],
                   "created_at": "2024-05-03T14:30:00"}
        self.add_nested(conn, "nested", example, "order_id", "--child-pk",
                        "line_items=order_line_id")
        record = self.push(conn, "nested", os.path.join(GENERATED, "seed_order_nested.parquet"), 1)
        self.assertEqual(record["inserted"], 1)
        self.assertEqual(self.rows(conn, "SELECT order_id, customer_name, customer_address_city "
                                   "FROM nested"), [("ORD-2001", "Ana Lima", "Porto")])
        items = self.query(conn, "SELECT nested_order_id, order_line_id, product, quantity, price "
                           "FROM nested_line_items ORDER BY order_line_id")
        self.assertEqual([(r["nested_order_id"], r["order_line_id"], r["product"],
                           comparable(r["price"])) for r in items],
                         [("ORD-2001", 1, "espresso machine", decimal.Decimal("249.90")),
                          ("ORD-2001", 2, "coffee beans 1kg", decimal.Decimal("18.50"))])
        self.assertEqual(self.rows(conn, "SELECT nested_order_id, _index, value FROM nested_tags "
                                   "ORDER BY _index"),
                         [("ORD-2001", 0, "priority"), ("ORD-2001", 1, "gift")])
        if TEST_PG:
            # The seed's nested demo through psql: the derived tables, joined on their keys.
            text = self.psql(f'SELECT n.order_id, i.order_line_id, i.product, i.price FROM '
                             f'"{conn["bucket"]}".nested n JOIN "{conn["bucket"]}".nested_line_items i '
                             f'ON i.nested_order_id = n.order_id ORDER BY 2')
            self.assertIn("ORD-2001 |             1 | espresso machine | 249.90", text)
            self.assertIn("ORD-2001 |             2 | coffee beans 1kg |  18.50", text)
        # The per-table counts are in the log line of the load.
        self.assertIn("nested_line_items: 2 inserted", self.server.log())

        # The same record as JSON (the seed's "coming later"), into a second table configured
        # from the same example: the same rows, the foreign key named after that table.
        self.add_nested(conn, "nestedjs", example, "order_id", "--child-pk",
                        "line_items=order_line_id")
        json_path = os.path.join(self.work, "seed_order_nested.json")
        with open(json_path, "w") as dst:
            json.dump(example, dst, indent=2)  # the seed's record, one pretty-printed object
        record = self.push(conn, "nestedjs", json_path, 1)
        self.assertEqual(record["inserted"], 1)
        for parquet_sql, json_sql in [
                ("SELECT order_id, customer_name, customer_address_city, created_at FROM nested",
                 "SELECT order_id, customer_name, customer_address_city, created_at "
                 "FROM nestedjs"),
                ("SELECT nested_order_id, order_line_id, product, quantity, price "
                 "FROM nested_line_items ORDER BY order_line_id",
                 "SELECT nestedjs_order_id, order_line_id, product, quantity, price "
                 "FROM nestedjs_line_items ORDER BY order_line_id"),
                ("SELECT nested_order_id, _index, value FROM nested_tags ORDER BY _index",
                 "SELECT nestedjs_order_id, _index, value FROM nestedjs_tags ORDER BY _index")]:
            self.assertEqual([tuple(comparable(v) for v in r.values())
                              for r in self.query(conn, json_sql)],
                             [tuple(comparable(v) for v in r.values())
                              for r in self.query(conn, parquet_sql)], json_sql)

    def test_reference_files_equal_duckdb_unnest(self):
        conn = self.create_connection("reference")
        example = {"order_id": 1, "customer": {"name": "n", "address": {"city": "c", "zip": "z"}},
                   "tags": ["t"],
                   "line_items": [{"order_line_id": 1, "product": "p", "quantity": 1,
                                   "price": 1.5}],
                   "shipments": [{"shipment_id": 1, "packages": [
                       {"package_id": 1, "items": [{"sku": "s", "qty": 1}]}]}],
                   "score_matrix": [[1.5]]}
        names = sorted(n for n in os.listdir(GENERATED)
                       if n.startswith("orders_nested_") and n.endswith(".parquet"))
        self.assertGreaterEqual(len(names), 3)
        for n, name in enumerate(names):
            with self.subTest(file=name):
                t = f"ref{n}"
                self.add_nested(conn, t, example, "order_id", "--child-pk",
                                "line_items=order_line_id")
                path = os.path.join(GENERATED, name)
                record = self.push(conn, t, path, 1)
                self.assertEqual(record["status"], "loaded")
                tables = {n for n in self.table_names(conn) if n == t or n.startswith(t + "_")}
                queries = reference_queries(t, path)
                self.assertEqual(tables, set(queries))
                for table, sql in queries.items():
                    got = self.query(conn, f'SELECT * FROM "{table}"')
                    want = duckdb(sql)
                    self.assertEqual(len(got), len(want), table)
                    if got:
                        self.assertEqual(set(got[0]), set(want[0]), table)
                    self.assertEqual(rowset(got), rowset(want), table)

    def test_replace_removes_a_line_item_upsert_keeps_it(self):
        conn = self.create_connection("replace-upsert")
        # `rep`: line items by position (synthetic key: children replace); `ups`: by
        # order_line_id (configured key: children upsert).
        self.add_nested(conn, "rep", EXAMPLE, "order_id")
        self.add_nested(conn, "ups", EXAMPLE, "order_id", "--child-pk", "line_items=order_line_id")
        v1 = self.write_orders("v1.parquet", order(1, 1, [(1, "a"), (2, "b"), (3, "c")]),
                               order(2, 1, [(1, "x")]))
        v2 = self.write_orders("v2.parquet", order(1, 2, [(1, "a"), (3, "c2")]))
        for t in ("rep", "ups"):
            self.push(conn, t, v1, 1)
            record = self.push(conn, t, v2, 2)
            self.assertEqual(record["updated"], 1, t)
        self.assertEqual(self.rows(conn, "SELECT rep_order_id, _index, order_line_id, product FROM "
                                   "rep_line_items ORDER BY 1, 2"),
                         [(1, 0, 1, "a"), (1, 1, 3, "c2"), (2, 0, 1, "x")])
        self.assertEqual(self.rows(conn, "SELECT ups_order_id, order_line_id, product FROM "
                                   "ups_line_items ORDER BY 1, 2"),
                         [(1, 1, "a"), (1, 2, "b"), (1, 3, "c2"), (2, 1, "x")])

    def test_stale_and_deleted_parents_four_levels_and_lists(self):
        conn = self.create_connection("deltas")
        t = "ord"
        self.add_nested(conn, t, EXAMPLE, "order_id", "--age-column", "version",
                        "--delete-column", "_deleted", "--child-pk", "line_items=order_line_id")
        ship = [(10, [(1, [("s1", 1), ("s2", 2)]), (2, [("s3", 3)])]), (11, [(1, [])])]
        v1 = self.write_orders("v1.parquet",
                               order(1, 5, [(1, "a"), (2, "b")], ["x", "y"], ship),
                               order(2, 5, [(1, "c")], ["z"], ship),
                               order(3, 5, [(1, "d")], None, None))
        record = self.push(conn, t, v1, 1)
        self.assertEqual(record["inserted"], 3)
        self.assertEqual(len(self.query(conn, f"SELECT * FROM {t}_shipments_packages_items")), 6)
        self.assert_no_orphans(conn, t)

        # Order 1 arrives older (version 4) with other children: refused, children untouched.
        # Order 2 is deleted: its line items, tags, shipments, packages and items go.
        # Order 3 gets an empty tag list and one shipment with an empty package list.
        v2 = self.write_orders("v2.parquet",
                               order(1, 4, [(9, "old")], [], []),
                               order(2, 6, [(1, "c")], ["z"], ship, deleted=True),
                               order(3, 6, [(1, "d")], [], [(12, [])]))
        record = self.push(conn, t, v2, 2)
        self.assertEqual((record["updated"], record["refused"], record["deleted"]), (1, 1, 1))
        self.assertEqual(self.rows(conn, f"SELECT order_id, version FROM {t} ORDER BY 1"),
                         [(1, 5), (3, 6)])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, order_line_id, product FROM "
                                   f"{t}_line_items ORDER BY 1, 2"),
                         [(1, 1, "a"), (1, 2, "b"), (3, 1, "d")])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, value FROM {t}_tags ORDER BY 1, 2"),
                         [(1, "x"), (1, "y")])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, shipment_id FROM {t}_shipments "
                                   f"ORDER BY 1, 2"), [(1, 10), (1, 11), (3, 12)])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, sku FROM {t}_shipments_packages_items "
                                   f"ORDER BY 1, 2"), [(1, "s1"), (1, "s2"), (1, "s3")])
        self.assert_no_orphans(conn, t)

        # Order 1 at a newer version: its four levels are replaced (one shipment, one package,
        # one item), its tags become null (gone); the deleted order 2 stays deleted against an
        # older version (its tombstone).
        v3 = self.write_orders("v3.parquet",
                               order(1, 7, [(2, "b2")], None, [(20, [(5, [("s9", 9)])])]),
                               order(2, 5, [(1, "back?")], ["z"], ship))
        record = self.push(conn, t, v3, 3)
        self.assertEqual((record["updated"], record["refused"]), (1, 1))
        self.assertEqual(self.rows(conn, f"SELECT order_id FROM {t} ORDER BY 1"), [(1,), (3,)])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, order_line_id, product FROM "
                                   f"{t}_line_items ORDER BY 1, 2"),
                         [(1, 1, "a"), (1, 2, "b2"), (3, 1, "d")])
        self.assertEqual(self.query(conn, f"SELECT * FROM {t}_tags"), [])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, shipment_id FROM {t}_shipments "
                                   f"ORDER BY 1, 2"), [(1, 20), (3, 12)])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, package_id FROM {t}_shipments_packages "
                                   f"ORDER BY 1, 2"), [(1, 5)])
        self.assertEqual(self.rows(conn, f"SELECT {t}_order_id, sku, qty FROM "
                                   f"{t}_shipments_packages_items"), [(1, "s9", 9)])
        self.assert_no_orphans(conn, t)

    def test_key_errors_name_the_derived_table(self):
        conn = self.create_connection("nested-errors")
        self.add_nested(conn, "bad", EXAMPLE, "order_id", "--child-pk", "line_items=order_line_id",
                        "--on-error", "skip")
        # A null child key: PK_NULL naming the derived table and column.
        null_key = os.path.join(self.work, "null_key.parquet")
        duckdb(f"COPY (SELECT 1::BIGINT AS order_id, "
               f"[{{'order_line_id': NULL::INTEGER, 'product': 'a'}}] AS line_items) "
               f"TO '{null_key}' (FORMAT parquet)")
        # The child key missing from the file's elements: PK_NOT_FOUND naming it.
        no_key = os.path.join(self.work, "no_key.parquet")
        duckdb(f"COPY (SELECT 1::BIGINT AS order_id, [{{'product': 'a'}}] AS line_items) "
               f"TO '{no_key}' (FORMAT parquet)")
        self.push(conn, "bad", null_key, 1, statuses=("failed",))
        self.push(conn, "bad", no_key, 2, statuses=("failed",))
        files = self.files(conn, "bad")
        shown = [json.loads(self.sluice("files", "show", str(f["seq"]), "--json").stdout)
                 for f in files]
        self.assertEqual([r["error_code"] for r in shown], ["PK_NULL", "PK_NOT_FOUND"])
        self.assertIn("bad_line_items", shown[0]["error_message"])
        self.assertIn("order_line_id", shown[0]["error_message"])
        self.assertIn("order_line_id", shown[1]["error_message"])
        # Nothing of either file reached the pool.
        self.assertEqual({n for n in self.table_names(conn) if n.startswith("bad")}, set())


if __name__ == "__main__":
    unittest.main()
