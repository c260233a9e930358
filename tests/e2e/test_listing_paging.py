"""End to end: listings page with bounded work, and /metrics behind the admin token.

A real `sluice serve --metrics-token`: 2,500 stored keys under nested prefixes and 1,100 open
multipart uploads, listed through boto3 paginators and the aws CLI (ListObjectsV2 and v1, with
and without a delimiter, ListMultipartUploads with key and upload-id markers, ListParts); the
admin API's files listing followed through its Link headers; /metrics refused without the
token and labelled only with configured names. Sizes are bounded so that the suite runs in
well under a minute; the figures it prints are the slowest page of each listing as the client
sees it (boto3's XML parsing included)."""

import json
import os
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from harness import SluiceTestCase, parse_metrics

DAYS, HOURS, FILES = 25, 4, 25  # 2,500 keys: logs/DD/HH/fNN.bin
UPLOADS = 1100
THREADS = 16
SAME = "up/0500-same"  # three uploads of one key, between up/0500 and up/0501


def timed_pages(paginator_pages):
    """The pages of a paginator, and the slowest page in seconds (after the first, which also
    pays for the client's connection)."""
    pages, slowest = [], 0.0
    it = iter(paginator_pages)
    while True:
        start = time.monotonic()
        try:
            page = next(it)
        except StopIteration:
            return pages, slowest
        if pages:
            slowest = max(slowest, time.monotonic() - start)
        pages.append(page)


class ListingPagingTest(SluiceTestCase):
    server_args = ("--metrics-token",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.fill()
        except BaseException:  # tearDownClass does not run: stop the server here
            cls.tearDownClass()
            raise

    @classmethod
    def fill(cls):
        helper = cls("run")
        cls.conn = helper.create_connection("paging")
        cls.bucket = cls.conn["bucket"]
        # Plain objects: stored, not loaded, so that the test measures listings only.
        helper.sluice("connection", "set-unconfigured", cls.bucket, "store")
        s3 = helper.boto3(cls.conn, max_pool_connections=THREADS)
        cls.keys = sorted(f"logs/{d:02d}/{h:02d}/f{f:02d}.bin"
                          for d in range(DAYS) for h in range(HOURS) for f in range(FILES))
        start = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket=cls.bucket, Key=k, Body=b"x"), cls.keys))
        print(f"\n{len(cls.keys)} PUTs in {time.monotonic() - start:.1f} s")
        cls.upload_keys = [SAME] * 3 + [f"up/{i:04d}" for i in range(UPLOADS - 3)]
        start = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            cls.upload_ids = list(pool.map(
                lambda k: s3.create_multipart_upload(Bucket=cls.bucket, Key=k)["UploadId"],
                cls.upload_keys))
        print(f"{UPLOADS} CreateMultipartUploads in {time.monotonic() - start:.1f} s")

    def setUp(self):
        self.s3 = self.boto3(self.conn)

    def test_list_objects_v2_pages_with_and_without_a_delimiter(self):
        paginator = self.s3.get_paginator("list_objects_v2")
        pages, slowest = timed_pages(paginator.paginate(Bucket=self.bucket, Prefix="logs/"))
        self.assertEqual([k["Key"] for p in pages for k in p["Contents"]], self.keys)
        self.assertEqual([p["KeyCount"] for p in pages], [1000, 1000, 500])
        print(f"ListObjectsV2, 1,000 keys a page: slowest page {slowest * 1000:.0f} ms")

        # Rolled up by day, seven entries a page: every day once, in order.
        pages, slowest = timed_pages(paginator.paginate(
            Bucket=self.bucket, Prefix="logs/", Delimiter="/", PaginationConfig={"PageSize": 7}))
        days = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        self.assertEqual(days, [f"logs/{d:02d}/" for d in range(DAYS)])
        self.assertEqual(len(pages), 4)
        self.assertFalse(any("Contents" in p for p in pages))
        # One page of 25 roll-ups over 2,500 keys: it seeks past each day's 100 keys.
        start = time.monotonic()
        page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="logs/", Delimiter="/")
        elapsed = time.monotonic() - start
        self.assertEqual(len(page["CommonPrefixes"]), DAYS)
        self.assertFalse(page["IsTruncated"])
        print(f"ListObjectsV2 with a delimiter, 25 prefixes over 2,500 keys: {elapsed * 1000:.0f} ms")

        # Keys and prefixes mixed under one day, with start-after.
        page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="logs/03/", Delimiter="/",
                                       StartAfter="logs/03/01/")
        self.assertEqual([p["Prefix"] for p in page["CommonPrefixes"]],
                         ["logs/03/02/", "logs/03/03/"])

    def test_list_objects_v1_pages_by_marker(self):
        paginator = self.s3.get_paginator("list_objects")
        pages, _ = timed_pages(paginator.paginate(Bucket=self.bucket, Prefix="logs/1",
                                                  PaginationConfig={"PageSize": 300}))
        want = [k for k in self.keys if k.startswith("logs/1")]
        self.assertEqual([k["Key"] for p in pages for k in p["Contents"]], want)
        self.assertEqual(len(pages), -(-len(want) // 300))
        pages, _ = timed_pages(paginator.paginate(Bucket=self.bucket, Prefix="logs/",
                                                  Delimiter="/", PaginationConfig={"PageSize": 10}))
        self.assertEqual(len([p for page in pages for p in page["CommonPrefixes"]]), DAYS)
        self.assertTrue(all(page.get("NextMarker") for page in pages[:-1]))

    def test_the_aws_cli_lists_prefixes_and_every_key(self):
        ls = self.aws(self.conn, "s3", "ls", f"s3://{self.bucket}/logs/").stdout.splitlines()
        self.assertEqual(len([line for line in ls if line.strip().startswith("PRE ")]), DAYS)
        ls = self.aws(self.conn, "s3", "ls", "--recursive", f"s3://{self.bucket}/logs/")
        self.assertEqual(len(ls.stdout.splitlines()), len(self.keys))
        out = json.loads(self.aws(self.conn, "s3api", "list-objects-v2", "--bucket", self.bucket,
                                  "--prefix", "logs/07/", "--delimiter", "/").stdout)
        self.assertEqual([p["Prefix"] for p in out["CommonPrefixes"]],
                         [f"logs/07/{h:02d}/" for h in range(HOURS)])
        out = json.loads(self.aws(self.conn, "s3api", "list-multipart-uploads",
                                  "--bucket", self.bucket, "--page-size", "300").stdout)
        self.assertEqual(len(out["Uploads"]), UPLOADS)

    def test_list_multipart_uploads_pages_through_markers(self):
        paginator = self.s3.get_paginator("list_multipart_uploads")
        for size, count in ((1000, 2), (100, 11), (7, -(-UPLOADS // 7))):
            pages, slowest = timed_pages(paginator.paginate(
                Bucket=self.bucket, PaginationConfig={"PageSize": size}))
            uploads = [u for p in pages for u in p.get("Uploads", [])]
            self.assertEqual(len(pages), count, size)
            self.assertEqual(sorted(u["UploadId"] for u in uploads), sorted(self.upload_ids))
            keys = [u["Key"] for u in uploads]
            self.assertEqual(keys, sorted(keys))
            self.assertEqual(keys.count(SAME), 3)
            self.assertTrue(all(p["IsTruncated"] for p in pages[:-1]))
            print(f"ListMultipartUploads, {size} a page: {len(pages)} pages, "
                  f"slowest {slowest * 1000:.0f} ms")
        # Rolled up by a delimiter: 1,100 uploads under one common prefix, in one short page.
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, Delimiter="/")
        self.assertEqual(page.get("CommonPrefixes"), [{"Prefix": "up/"}])
        self.assertNotIn("Uploads", page)
        self.assertFalse(page["IsTruncated"])
        # The uploads of one key resume after the upload-id marker.
        same = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=SAME)["Uploads"]
        rest = self.s3.list_multipart_uploads(Bucket=self.bucket, KeyMarker=SAME,
                                              UploadIdMarker=same[0]["UploadId"],
                                              MaxUploads=3)["Uploads"]
        self.assertEqual([u["UploadId"] for u in rest[:2]], [u["UploadId"] for u in same[1:]])
        self.assertEqual(rest[2]["Key"], "up/0501")

    def test_list_parts_pages_by_part_number(self):
        key = "up/0007"
        upload = self.upload_ids[self.upload_keys.index(key)]
        for n in (3, 1, 2):
            self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=n,
                                Body=b"part %d" % n)
        pages = list(self.s3.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=key, UploadId=upload, PaginationConfig={"PageSize": 1}))
        self.assertEqual([p["PartNumber"] for page in pages for p in page["Parts"]], [1, 2, 3])

    def admin_get(self, path, token=True):
        headers = {}
        if token:
            with open(os.path.join(self.data_dir, "admin.token")) as f:
                headers["Authorization"] = f"Bearer {f.read().strip()}"
        req = urllib.request.Request(self.server.admin_url + path, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode(), r.headers

    def test_admin_files_listing_follows_link_headers(self):
        path = f"/api/v1/connections/{self.bucket}/files?limit=1000"
        seqs, pages, slowest = [], 0, 0.0
        while path:
            start = time.monotonic()
            body, headers = self.admin_get(path)
            slowest = max(slowest, time.monotonic() - start)
            files = json.loads(body)
            self.assertLessEqual(len(files), 1000)
            seqs += [f["seq"] for f in files]
            link = headers.get("Link")
            path = link[1:link.index(">")] if link else None
            pages += 1
        self.assertEqual(len(seqs), len(self.keys))
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(pages, 3)
        print(f"admin files, 1,000 a page: slowest page {slowest * 1000:.0f} ms")
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.admin_get(f"/api/v1/connections/{self.bucket}/files?limit=lots")
        self.assertEqual(e.exception.code, 400)
        # The CLI pages the same ledger.
        listed = json.loads(self.sluice("files", self.bucket, "--after", str(seqs[99]),
                                        "--limit", "5", "--json").stdout)
        self.assertEqual([f["seq"] for f in listed], seqs[100:105])

    def test_metrics_need_the_token_and_name_only_configured_tables(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.admin_get("/metrics", token=False)
        self.assertEqual(e.exception.code, 401)
        self.assertEqual(e.exception.headers.get("WWW-Authenticate"), 'Bearer realm="sluice"')
        self.assertEqual(self.server.http_get("/healthz"), "ok\n")

        conn = self.create_connection("labels")
        self.add_table(conn, "orders", "id")
        s3 = self.boto3(conn)
        for i in range(20):  # held: the prefix names no configured table
            s3.put_object(Bucket=conn["bucket"], Key=f"chosen_by_client_{i}/x.json", Body=b"{}")
        start = time.monotonic()
        text, _ = self.admin_get("/metrics")
        print(f"/metrics over {len(self.keys) + 20} ledger entries: "
              f"{(time.monotonic() - start) * 1000:.0f} ms")
        self.assertNotIn("chosen_by_client", text)
        page = parse_metrics(text)
        self.assertEqual(page[("sluice_unconfigured_files",
                               frozenset({("connection", conn["bucket"]), ("status", "failed"),
                                          ("error_code", "TABLE_NOT_CONFIGURED")}))], 20)


if __name__ == "__main__":
    unittest.main()
