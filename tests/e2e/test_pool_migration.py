"""A data directory written by the release before pool namespaces (one pool.db for every
connection) is moved to one database per connection when the new server starts, with nothing
lost: the fixtures in testdata/ were written by that release (make_pre_namespace_data_dirs.py
says how)."""

import os
import shutil
import subprocess
import unittest

from harness import RestartedServerTestCase, comparable, duckdb, pool_db

HERE = os.path.dirname(os.path.abspath(__file__))
MOVED = "pool migrated to one database per connection"


class PoolMigrationTest(RestartedServerTestCase):

    def unpack(self, kind):
        fixture = os.path.join(HERE, "testdata", f"pre-namespaces-{kind}.tar.gz")
        subprocess.run(["tar", "-xzf", fixture, "-C", self.tmp], check=True)
        shutil.move(os.path.join(self.tmp, kind), self.data_dir)
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, "pool.db")))

    def rows(self, sql, *args):
        out = self.helper.sluice("query", sql, "--json", *args).stdout
        import json
        return [tuple(comparable(v) for v in r.values()) for r in json.loads(out)]

    def push(self, bucket, key, select):
        path = os.path.join(self.tmp, key.replace("/", "_"))
        duckdb(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
        conn = {"bucket": bucket}
        conn.update(self.keys[bucket])
        with open(path, "rb") as f:
            self.helper.boto3(conn).put_object(Bucket=bucket, Key=key, Body=f.read())
        return conn

    def new_key(self, bucket):
        import json
        out = self.helper.sluice("credentials", "rotate", bucket, "--json").stdout
        key = json.loads(out)
        self.keys[bucket] = {"access_key_id": key["access_key_id"],
                             "secret_access_key": key["secret_access_key"]}

    def setUp(self):
        super().setUp()
        self.keys = {}

    def check_shop(self, schema_args=()):
        import decimal
        self.assertEqual(self.rows("SELECT order_id, version, status, amount FROM shop.orders "
                                   "WHERE order_id < 3 ORDER BY 1", *schema_args),
                         [(1, 2, "shipped", decimal.Decimal("10.50")),
                          (2, 1, "new", decimal.Decimal("20.00"))])
        self.assertEqual(self.rows("SELECT customer_address_city FROM shop.nested"), [("Porto",)])
        self.assertEqual(self.rows("SELECT order_line_id, product FROM shop.nested_line_items "
                                   "ORDER BY 1"),
                         [(1, "espresso machine"), (2, "coffee beans 1kg")])
        files = self.helper.files({"bucket": "shop"})
        self.assertEqual([f["status"] for f in files], ["loaded"] * 3)

    def test_one_connection_keeps_its_file(self):
        self.unpack("single")
        self.start()
        self.assertIn(MOVED, self.server.log())
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "pool.db")))
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "pool.db.pre-namespaces")))
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, "pool", "shop.db")))
        self.check_shop()
        # One connection: unqualified names are its tables.
        self.assertEqual(self.rows("SELECT count(*) FROM orders"), [(2,)])
        # The pool records every loaded file as applied, in the connection's database.
        db = pool_db(self.data_dir, "shop")
        applied = sorted(s for (s,) in db.execute("SELECT seq FROM _sluice_applied"))
        db.close()
        self.assertEqual(applied, sorted(f["seq"] for f in self.helper.files({"bucket": "shop"})))

        # Loading goes on into the moved database; a restart moves nothing again.
        self.new_key("shop")
        conn = self.push("shop", "orders/3.parquet",
                         "SELECT 4 AS order_id, 1 AS version, 'new' AS status, "
                         "4.00::DECIMAL(10,2) AS amount")
        self.helper.wait_files(conn, "orders", 3)
        self.assertEqual(self.rows("SELECT count(*) FROM shop.orders"), [(3,)])
        self.assertEqual(self.server.stop(), 0)
        self.start()
        self.assertEqual(self.server.log().count(MOVED), 1)
        self.assertEqual(self.rows("SELECT count(*) FROM shop.orders"), [(3,)])

    def test_several_connections_each_get_their_tables(self):
        self.unpack("multi")
        self.start()
        log = self.server.log()
        self.assertIn(MOVED, log)
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, "pool.db.pre-namespaces")))
        self.check_shop()
        self.assertEqual(self.rows("SELECT id, name FROM crm.contacts ORDER BY id"),
                         [(7, "ada"), (8, "bob")])
        self.assertEqual(self.rows("SELECT order_id, status FROM crm.leads"), [(3, "crm")])
        # Each database holds only its connection's tables and applied files.
        self.assertEqual(self.rows("SELECT count(*) FROM sqlite_master WHERE name = 'contacts'",
                                   "--connection", "shop"), [(0,)])
        self.assertEqual(self.rows("SELECT count(*) FROM sqlite_master WHERE name = 'nested'",
                                   "--connection", "crm"), [(0,)])
        for bucket in ("shop", "crm"):
            db = pool_db(self.data_dir, bucket)
            applied = sorted(s for (s,) in db.execute("SELECT seq FROM _sluice_applied"))
            db.close()
            self.assertEqual(applied,
                             sorted(f["seq"] for f in self.helper.files({"bucket": bucket})))
        # Two connections: unqualified names need --connection.
        p = self.helper.sluice("query", "SELECT count(*) FROM contacts", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--connection", p.stderr)
        self.assertEqual(self.rows("SELECT count(*) FROM contacts", "--connection", "crm"), [(2,)])

        # Now crm may have an `orders` table of its own, beside shop's.
        self.helper.add_table({"bucket": "crm"}, "orders", "order_id", age="version")
        self.new_key("crm")
        conn = self.push("crm", "orders/1.parquet",
                         "SELECT 9 AS order_id, 1 AS version, 'crm' AS status, "
                         "9.00::DECIMAL(10,2) AS amount")
        self.helper.wait_files(conn, "orders", 1)
        self.assertEqual(self.rows("SELECT order_id FROM crm.orders"), [(9,)])
        self.assertEqual(self.rows("SELECT count(*) FROM shop.orders"), [(2,)])


if __name__ == "__main__":
    unittest.main()
