"""End to end: configuring a nested table with `sluice table add` (flags, a JSON file, a YAML
file) and previewing its derived tables with `sluice table show`; what cannot work (a name
collision, a path not in the example, a key that is not a scalar) is refused at `table add`."""

import json
import os
import re
import tempfile
import unittest

from harness import SHARED, SluiceTestCase

SEED = os.path.join(SHARED, "parquet", "generated", "seed_order_nested.jsonl")


class NestedConfigTest(SluiceTestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def show(self, conn, table):
        return json.loads(self.sluice("table", "show", conn["bucket"], table, "--json").stdout)

    def refused(self, *args):
        p = self.sluice(*args, check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        return p.stderr

    def test_the_seed_order_from_flags(self):
        conn = self.create_connection("nested-flags")
        with open(SEED, encoding="utf-8") as f:
            order = self.write("order.json", f.readline())
        self.sluice("table", "add", conn["bucket"], "nested", "--nested", "--example", order,
                    "--pk", "order_id", "--child-pk", "line_items=order_line_id")
        shown = self.show(conn, "nested")
        self.assertTrue(shown["nested"])
        tables = shown["tables"]
        self.assertEqual([t["name"] for t in tables], ["nested", "nested_tags", "nested_line_items"])
        root, tags, items = tables
        self.assertEqual([(c["name"], c["type"]) for c in root["columns"]], [
            ("order_id", "VARCHAR"), ("customer_name", "VARCHAR"),
            ("customer_address_city", "VARCHAR"), ("created_at", "TIMESTAMP")])
        self.assertEqual(root["primary_key"], ["order_id"])
        self.assertEqual([c["name"] for c in items["columns"]],
                         ["nested_order_id", "order_line_id", "product", "quantity", "price"])
        self.assertEqual(items["primary_key"], ["nested_order_id", "order_line_id"])
        self.assertEqual((items["foreign_key"], items["parent"], items["parent_key"]),
                         (["nested_order_id"], "nested", ["order_id"]))
        self.assertEqual(items["mode"], "upsert")
        self.assertEqual([c["name"] for c in tags["columns"]], ["nested_order_id", "_index", "value"])
        self.assertEqual(tags["mode"], "replace")

        text = self.sluice("table", "show", conn["bucket"], "nested").stdout
        self.assertLess(text.index("\nnested\n"), text.index("\nnested_line_items"))
        self.assertIn("foreign key   (nested_order_id) -> nested(order_id)", text)
        listed = json.loads(self.sluice("table", "list", conn["bucket"], "--json").stdout)
        self.assertEqual([t["table"] for t in listed], ["nested"])

        # update: switch the line items to replace; the rest stays.
        self.sluice("table", "update", conn["bucket"], "nested", "--child-mode", "line_items=replace")
        items = self.show(conn, "nested")["tables"][2]
        self.assertEqual((items["mode"], items["primary_key"]),
                         ("replace", ["nested_order_id", "order_line_id"]))

    def test_any_depth_and_composite_keys(self):
        conn = self.create_connection("nested-depth")
        order = self.write("order.json", json.dumps({
            "order_id": 1, "region": "eu",
            "line_items": [{"line": 1, "sub": 2, "serials": [{"serial_no": "A", "checks": [True]}],
                            "attrs": {"color": "red"}}]}))
        self.sluice("table", "add", conn["bucket"], "deep", "--nested", "--example", order,
                    "--pk", "order_id,region", "--child-pk", "line_items=line,sub",
                    "--child-pk", "line_items.serials=serial_no", "--keep-json", "line_items.attrs")
        tables = {t["name"]: t for t in self.show(conn, "deep")["tables"]}
        self.assertEqual(list(tables), ["deep", "deep_line_items", "deep_line_items_serials",
                                        "deep_line_items_serials_checks"])
        serials = tables["deep_line_items_serials"]
        self.assertEqual(serials["foreign_key"], ["deep_order_id", "deep_region",
                                                  "deep_line_items_line", "deep_line_items_sub"])
        self.assertEqual(serials["parent_key"], ["deep_order_id", "deep_region", "line", "sub"])
        checks = tables["deep_line_items_serials_checks"]
        self.assertEqual([c["name"] for c in checks["columns"]], [
            "deep_order_id", "deep_region", "deep_line_items_line", "deep_line_items_sub",
            "deep_line_items_serials_serial_no", "_index", "value"])
        self.assertIn({"name": "attrs", "type": "JSON"}, tables["deep_line_items"]["columns"])

    def test_the_same_configuration_from_json_and_yaml_files(self):
        conn = self.create_connection("nested-files")
        with open(SEED, encoding="utf-8") as f:
            record = json.loads(f.readline())
        self.write("order.json", json.dumps(record))
        as_json = self.write("t1.json", json.dumps({
            "table": "orders_j", "primary_key": ["order_id"], "example_file": "order.json",
            "children": {"line_items": {"primary_key": ["order_line_id"], "mode": "replace"}},
            "keep_as_json": ["customer"], "on_error": "skip"}))
        as_yaml = self.write("t2.yaml", "\n".join([
            "table: orders_y",
            "primary_key: order_id",
            "on_error: skip",
            "children:",
            "  line_items:",
            "    primary_key: [order_line_id]",
            "    mode: replace",
            "keep_as_json:",
            "  - customer",
            "example:",
            "  order_id: ORD-1",
            "  customer: {name: Ana, address: {city: Porto}}",
            "  tags: [priority]",
            "  line_items:",
            "    - {order_line_id: 1, product: x, quantity: 1, price: '249.90'}",
            "  created_at: 2024-05-03T14:30:00.000000",
            ""]))
        self.sluice("table", "add", conn["bucket"], "--config", as_json)
        self.sluice("table", "add", conn["bucket"], "--config", as_yaml)
        j, y = self.show(conn, "orders_j"), self.show(conn, "orders_y")
        self.assertEqual(j["on_error"], "skip")
        strip = lambda tables: json.loads(json.dumps(tables).replace("orders_j", "T")
                                          .replace("orders_y", "T"))
        self.assertEqual(strip(j["tables"]), strip(y["tables"]))
        self.assertEqual([t["name"] for t in j["tables"]],
                         ["orders_j", "orders_j_tags", "orders_j_line_items"])
        self.assertIn({"name": "customer", "type": "JSON"}, j["tables"][0]["columns"])
        self.assertEqual(j["tables"][2]["mode"], "replace")
        # A flat table from a file.
        flat = self.write("flat.yml", "table: flat_t\nprimary_key: [id]\nage_column: v\n")
        self.sluice("table", "add", conn["bucket"], "--config", flat)
        shown = self.show(conn, "flat_t")
        self.assertFalse(shown["nested"])
        self.assertEqual(shown["tables"][0]["primary_key"], ["id"])
        self.assertIn("unknown key 'primry_key'",
                      self.refused("table", "add", conn["bucket"], "--config",
                                   self.write("typo.json", '{"table":"x","primry_key":["id"]}')))

    def test_an_over_long_name_is_shortened_with_a_hash(self):
        conn = self.create_connection("nested-long")
        field = "f" * 80
        order = self.write("order.json", json.dumps({"id": 1, field: [{"a": 1}]}))
        self.sluice("table", "add", conn["bucket"], "longs", "--nested", "--example", order,
                    "--pk", "id")
        child = self.show(conn, "longs")["tables"][1]
        self.assertEqual(len(child["name"]), 63)
        self.assertRegex(child["name"], r"^longs_f{48}_[0-9a-f]{8}$")
        self.assertEqual(child["path"], field)
        # Deterministic: the same configuration gives the same name.
        self.sluice("table", "add", conn["bucket"], "longs2", "--nested", "--example", order,
                    "--pk", "id")
        again = self.show(conn, "longs2")["tables"][1]["name"]
        self.assertEqual(again[len("longs2_"):54], child["name"][len("longs_"):54 - 1])
        self.assertTrue(re.fullmatch(r"longs2_f+_[0-9a-f]{8}", again))

    def test_what_cannot_work_is_refused_at_add(self):
        conn = self.create_connection("nested-refused")
        b = conn["bucket"]
        collide = self.write("c.json", '{"id":1,"a":{"b":1},"a_b":2}')
        err = self.refused("table", "add", b, "c", "--nested", "--example", collide, "--pk", "id")
        self.assertIn("'a.b' and 'a_b' both map to column 'a_b' of table c", err)
        tables_collide = self.write("t.json", '{"id":1,"x":{"y":[1]},"x_y":[2]}')
        err = self.refused("table", "add", b, "t", "--nested", "--example", tables_collide,
                           "--pk", "id")
        self.assertIn("'x.y' and 'x_y' both map to table 't_x_y'", err)
        with open(SEED, encoding="utf-8") as f:
            order = self.write("order.json", f.readline())
        err = self.refused("table", "add", b, "n", "--nested", "--example", order, "--pk",
                           "order_id", "--child-pk", "line_item=order_line_id")
        self.assertIn("'line_item' is not a field of the example record", err)
        err = self.refused("table", "add", b, "n", "--nested", "--example", order, "--pk", "customer")
        self.assertIn("primary-key column 'customer' is not a column of table n", err)
        err = self.refused("table", "add", b, "n", "--nested", "--example", order, "--pk",
                           "order_id", "--child-pk", "customer=name")
        self.assertIn("'customer', which is not an array", err)
        err = self.refused("table", "add", b, "n", "--nested", "--example", order, "--pk",
                           "customer", "--keep-json", "customer")
        self.assertIn("kept as JSON; a key must be a scalar", err)
        err = self.refused("table", "add", b, "n", "--nested", "--pk", "order_id")
        self.assertIn("--nested needs --example", err)
        err = self.refused("table", "add", b, "n", "--example", order, "--pk", "order_id")
        self.assertIn("add --nested", err)
        empty = self.write("e.json", '{"id":1,"xs":[]}')
        err = self.refused("table", "add", b, "n", "--nested", "--example", empty, "--pk", "id")
        self.assertIn("xs: the array is empty", err)
        self.assertEqual(json.loads(self.sluice("table", "list", b, "--json").stdout), [])


if __name__ == "__main__":
    unittest.main()
