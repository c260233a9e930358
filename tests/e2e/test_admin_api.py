"""End to end: setting up, watching and repairing ingestion through the admin API alone, on a
real `sluice serve`, with boto3 pushing the files: a connection and its key, a nested table
from one example record (previewed first), files watched until loaded, a failed file found
under its error type, downloaded, its table fixed and the file replayed, SQL on the pool,
schema history, live status, a key rotated and the old one revoked, a table removed and an
empty connection deleted; and the admin side over https (`--admin-tls`) with a Secure cookie."""

import json
import unittest
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

from harness import AdminRequests, SluiceTestCase, wait_for

ORDER = {"order_id": 1, "customer": {"name": "Ada", "city": "Paris"},
         "line_items": [{"sku": "A-1", "qty": 2, "price": 9.5}]}


class AdminApiTest(AdminRequests, SluiceTestCase):

    def push(self, s3, bucket, key, records):
        body = "".join(json.dumps(r) + "\n" for r in records).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        return body

    def wait_loaded(self, bucket, key):
        def done():
            for f in self.api("GET", f"/api/v1/connections/{bucket}/files"):
                if f["key"] == key and f["status"] in ("loaded", "failed"):
                    return f
            return None
        return wait_for(done, timeout=60, what=f"{key} to finish")

    def rows(self, sql, connection):
        result = self.api("POST", "/api/v1/query", {"sql": sql, "connection": connection})
        return [dict(zip(result["columns"], r)) for r in result["rows"]]

    def test_set_up_watch_and_repair_over_the_api(self):
#Nothing without the token.
        self.api("GET", "/api/v1/connections", expect=401, token=False)
        self.api("POST", "/api/v1/connections", {"name": "x"}, expect=401, token=False)

        created = self.api("POST", "/api/v1/connections", {"name": "Web Shop"}, expect=201)
        bucket = created["bucket"]
        self.assertEqual(bucket, "web-shop")
        self.assertEqual(created["endpoint"], self.server.endpoint)
        self.assertEqual(self.last_headers["Cache-Control"], "no-store")
        shown = self.api("GET", f"/api/v1/connections/{bucket}")
        self.assertEqual((shown["endpoint"], shown["region"]), (self.server.endpoint, "us-east-1"))
        conn = {"bucket": bucket, "access_key_id": created["access_key_id"],
                "secret_access_key": created["secret_access_key"]}
        s3 = self.boto3(conn)

#A nested table from one example record : previewed, then saved.
        config = {"table": "orders", "primary_key": "order_id", "example": ORDER,
                  "children": {"line_items": {"primary_key": ["sku"]}}}
        preview = self.api("POST", f"/api/v1/connections/{bucket}/tables/preview", config)
        self.assertEqual([t["name"] for t in preview["tables"]], ["orders", "orders_line_items"])
        self.assertEqual(preview["conflict"], "")
        self.api("GET", f"/api/v1/connections/{bucket}/tables/orders", expect=404)
        self.api("POST", f"/api/v1/connections/{bucket}/tables", config, expect=201)
        self.api("POST", f"/api/v1/connections/{bucket}/tables",
                 {"table": "events", "primary_key": "event_id"}, expect=201)

#Files pushed with a real client, watched until loaded.
        second = dict(ORDER, order_id=2, line_items=[{"sku": "B-1", "qty": 1, "price": 3.0},
                                                      {"sku": "B-2", "qty": 4, "price": 1.25}])
        self.push(s3, bucket, "orders/1.json", [ORDER, second])
        f = self.wait_loaded(bucket, "orders/1.json")
        self.assertEqual((f["status"], f["inserted"]), ("loaded", 2), f)
        items = self.rows("SELECT orders_order_id, sku, qty FROM orders_line_items "
                          "ORDER BY sku", bucket)
        self.assertEqual([(r["orders_order_id"], r["sku"], r["qty"]) for r in items],
                         [("1", "A-1", "2"), ("2", "B-1", "1"), ("2", "B-2", "4")])
        history = self.api("GET", f"/api/v1/connections/{bucket}/tables/orders/history")
        self.assertIn("customer_city", [c["column"] for c in history])

#A file that fails(its key column is not there) is found under its error type, and
#its bytes are downloadable as they were pushed.
        pushed = self.push(s3, bucket, "events/e1.json", [{"id": 7, "kind": "click"}])
        failed = self.wait_loaded(bucket, "events/e1.json")
        self.assertEqual((failed["status"], failed["error_code"]), ("failed", "PK_NOT_FOUND"))
        groups = self.api("GET", f"/api/v1/connections/{bucket}/errors")
        self.assertEqual([(g["table"], g["error_code"], g["files"]) for g in groups],
                         [("events", "PK_NOT_FOUND", 1)])
        seq = groups[0]["newest"]["seq"]
        status = self.api("GET", "/api/v1/status")
        state = {t["table"]: t["state"] for t in status["tables"]}
        self.assertEqual(state, {"orders": "idle", "events": "blocked"})
        self.assertEqual(status["open_errors"], 1)
        body = self.api("GET", f"/api/v1/connections/{bucket}/files/{seq}/content", raw=True)
        self.assertEqual(body, pushed)
        self.assertIn('filename="e1.json"', self.last_headers["Content-Disposition"])

#Fix the table, replay the file.
        self.api("PUT", f"/api/v1/connections/{bucket}/tables/events", {"primary_key": "id"})
        self.api("POST", f"/api/v1/connections/{bucket}/files/{seq}/retry")
        self.assertEqual(self.wait_loaded(bucket, "events/e1.json")["status"], "loaded")
        self.assertEqual(self.rows("SELECT id, kind FROM events", bucket),
                         [{"id": "7", "kind": "click"}])
        self.assertEqual(self.api("GET", f"/api/v1/connections/{bucket}/errors"), [])

#The console only reads.
        refused = self.api("POST", "/api/v1/query",
                           {"sql": "DELETE FROM events", "connection": bucket}, expect=400)
        self.assertIn("read-only", refused["error"])
        self.assertEqual(len(self.rows("SELECT * FROM events", bucket)), 1)

#Rotate the key : the new one works, the old one is refused once revoked.
        new = self.api("POST", "/api/v1/credentials", {"connection": bucket}, expect=201)
        s3_new = self.boto3(conn, access_key=new["access_key_id"],
                            secret=new["secret_access_key"])
        s3_new.head_bucket(Bucket=bucket)
        self.api("POST", f"/api/v1/credentials/{conn['access_key_id']}/revoke")
        with self.assertRaises(ClientError) as refused_key:
            s3.head_bucket(Bucket=bucket)
        self.assertEqual(refused_key.exception.response["Error"]["Code"], "403")
        keys = {k["access_key_id"]: k["state"]
                for k in self.api("GET", f"/api/v1/credentials?connection={bucket}")}
        self.assertEqual(keys, {conn["access_key_id"]: "revoked", new["access_key_id"]: "active"})

#A connection with tables is not deleted; an empty one is.
        self.api("DELETE", f"/api/v1/connections/{bucket}", expect=409)
        self.api("DELETE", f"/api/v1/connections/{bucket}/tables/events")
        self.assertEqual([t["table"] for t in
                          self.api("GET", f"/api/v1/connections/{bucket}/tables")], ["orders"])
        scratch = self.api("POST", "/api/v1/connections", {"name": "scratch"}, expect=201)
        self.api("DELETE", f"/api/v1/connections/{scratch['bucket']}")
        self.api("GET", f"/api/v1/connections/{scratch['bucket']}", expect=404)
        self.assertEqual([c["id"] for c in self.api("GET", "/api/v1/connections")], [bucket])

    def test_upload_url_pushes_a_file_as_any_s3_client_would(self):
        """The console's upload: a presigned PUT on the S3 endpoint, which answers the console's
        CORS preflight (and no other origin's)."""
        conn = self.api("POST", "/api/v1/connections", {"name": "uploads"}, expect=201)
        bucket = conn["bucket"]
        self.api("POST", f"/api/v1/connections/{bucket}/tables",
                 {"table": "items", "primary_key": "id"}, expect=201)
        self.api("POST", f"/api/v1/connections/{bucket}/upload-url", {"key": "nope/a.json"},
                 expect=400)
        up = self.api("POST", f"/api/v1/connections/{bucket}/upload-url",
                      {"key": "items/a b.json", "content_type": "application/x-ndjson"})
        self.assertTrue(up["url"].startswith(f"{self.server.endpoint}/{bucket}/items/a%20b.json?"),
                        up["url"])
        self.assertEqual(up["method"], "PUT")
        origin = self.server.admin_url
        preflight = urllib.request.Request(up["url"], method="OPTIONS", headers={
            "Origin": origin, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"})
        with urllib.request.urlopen(preflight, timeout=10) as r:
            self.assertEqual(r.headers["Access-Control-Allow-Origin"], origin)
        preflight.headers["Origin"] = "http://evil.example"
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(preflight, timeout=10)
        self.assertEqual(refused.exception.code, 403)

        put = urllib.request.Request(up["url"], data=b'{"id": 1}\n{"id": 2}\n', method="PUT",
                                     headers={**up["headers"], "Origin": origin})
        with urllib.request.urlopen(put, timeout=30) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["ETag"])
            self.assertEqual(r.headers["Access-Control-Allow-Origin"], origin)
        loaded = self.wait_loaded(bucket, "items/a b.json")
        self.assertEqual((loaded["status"], loaded["inserted"]), ("loaded", 2))
        # The URL is for that key and that method only.
        get = urllib.request.Request(up["url"], method="GET")
        with self.assertRaises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(get, timeout=10)
        self.assertEqual(denied.exception.code, 403)
        self.api("DELETE", f"/api/v1/connections/{bucket}/tables/items")


class AdminOverTlsTest(AdminRequests, SluiceTestCase):
    """`serve --admin-tls`: the admin side over https only, and the session cookie Secure."""

    scheme = "https"
    server_args = ("--admin-tls",)

    def test_the_session_cookie_is_secure(self):
        self.assertTrue(self.server.admin_url.startswith("https://"), self.server.admin_url)
        self.sluice("admin", "user", "add", "ada", "--password-stdin", input="correct horse\n")
        session = self.api("POST", "/api/v1/session",
                           {"user": "ada", "password": "correct horse"}, token=False)
        self.assertEqual(session["role"], "admin")
        cookie = self.last_headers["Set-Cookie"]
        for attribute in ("HttpOnly", "SameSite=Strict", "Secure"):
            self.assertIn("; " + attribute, cookie)


if __name__ == "__main__":
    unittest.main()
