"""Shared by the end-to-end benchmarks (bench/upsert, bench/nested, bench/freshness,
bench/s3_upload): a `sluice serve` on free ports with a fresh data directory, a connection and its
boto3 client, timed loads, DuckDB through node, generated files and the ceilings' databases."""

import json
import os
import signal
import sqlite3
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tests", "tools")
GEN_ORDERS = os.path.join(ROOT, "bench", "parquet_scan", "gen_orders.mjs")


def duckdb(*statements):
    """Runs SQL with DuckDB (@duckdb/node-api, as pinned in tests/tools), one node process."""
    if not os.path.isdir(os.path.join(TOOLS, "node_modules", "@duckdb", "node-api")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLS,
                       check=True)
    out = subprocess.run(["node", os.path.join(TOOLS, "duckdb_sql.mjs"), *statements],
                         check=True, capture_output=True, text=True, cwd=TOOLS)
    return json.loads(out.stdout) if out.stdout.strip() else None


def generated(path, source, make):
    """`path`, first made with make(temporary path) when it is missing or older than `source`."""
    if not os.path.exists(path) or os.path.getmtime(source) > os.path.getmtime(path):
        print(f"generating {path}", flush=True)
        make(path + ".tmp")
        os.replace(path + ".tmp", path)
    return path


def gen_orders(kind, n, path):
    """The `orders` reference file of gen_orders.mjs (`flat` or `nested`), n orders."""
    return generated(path, GEN_ORDERS,
                     lambda tmp: subprocess.run(["node", GEN_ORDERS, kind, str(n), tmp], check=True))


def parquet_files(directory, name, n, select):
    """The bodies of n parquet files, file i holding the rows of the DuckDB query select(i),
    written once into `directory`/`name` and read from there afterwards."""
    files_dir = os.path.join(directory, name)
    if not os.path.isdir(files_dir):
        os.makedirs(files_dir + ".tmp", exist_ok=True)
        statements = [f"COPY ({select(i)}) TO '{files_dir}.tmp/{i}.parquet' (FORMAT parquet)"
                      for i in range(n)]
        for start in range(0, len(statements), 500):
            duckdb(*statements[start:start + 500])
        os.replace(files_dir + ".tmp", files_dir)
    bodies = []
    for i in range(n):
        with open(os.path.join(files_dir, f"{i}.parquet"), "rb") as f:
            bodies.append(f.read())
    return bodies


def remove_db(path, suffixes=("", "-wal", "-shm")):
    """Removes a database file and its companions (SQLite's by default)."""
    for suffix in suffixes:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def count_rows(db_path, *tables):
    """Row counts of `tables` in a SQLite database, opened read-only."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return tuple(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
    finally:
        db.close()


def table_ddl(db_path, *tables):
    """The CREATE TABLE of each of `tables` in a SQLite database, by name."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {t: db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (t,)).fetchone()[0] for t in tables}
    finally:
        db.close()


def json_lines(args, what):
    """Runs a program that prints one JSON object a line; its objects."""
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench: {what} failed ({p.returncode}): {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Sluice:
    def __init__(self, binary, data_dir, log=None, serve_args=()):
        self.binary = binary
        self.serve_args = list(serve_args)  # e.g. ["--pool", "postgresql://..."]
        self.data = data_dir
        self.log_path = log or os.path.join(data_dir, "serve.log")
        self.log = None
        self.proc = None

    def cli(self, *args):
        return subprocess.run([self.binary, "--data-dir", self.data, *args], check=True,
                              capture_output=True, text=True).stdout

    def start(self, connection="bench"):
        """Starts `sluice serve` and creates `connection` (None: none, for a node joining a
        catalog that has it already)."""
        os.makedirs(self.data, exist_ok=True)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--data-dir", self.data, "serve", "--s3-port", "0",
                                      "--admin-port", "0", *self.serve_args], stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: sluice serve exited with {self.proc.returncode}")
            try:
                with open(os.path.join(self.data, "serve.json")) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                return None
            return info if info.get("pid") == self.proc.pid else None

        self.endpoint = wait_for(ready, 20, "sluice serve")["s3_endpoint"]
        if connection:
            self.conn = json.loads(self.cli("connection", "create", connection, "--json"))
            self.bucket = self.conn["bucket"]
        return self

    def pool_path(self):
        """The SQLite pool's database of the benchmark's connection."""
        return os.path.join(self.data, "pool", self.bucket + ".db")

    def client(self, conn=None):
        """A boto3 client of the connection made at start, or of `conn` (the JSON of
        `connection create --json`)."""
        import boto3  # only the benchmarks that use it need it installed
        from botocore.config import Config

        conn = conn or self.conn
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=conn["access_key_id"],
            aws_secret_access_key=conn["secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=600))

    def status(self, client, key):
        head = client.head_object(Bucket=self.bucket, Key=key)
        return head["Metadata"].get("sluice-status"), head["Metadata"]

    def timed_loads(self, s3, uploads):
        """Uploads each (key, path) in turn (upload_file: multipart above 8 MiB) and waits until
        HeadObject reports it `loaded` (polled every 20 ms); per file the seconds from the start
        of the upload to its end ("upload") and to `loaded` ("total")."""
        out = []
        for key, path in uploads:
            start = time.monotonic()
            s3.upload_file(path, self.bucket, key)
            uploaded = time.monotonic()

            def loaded():
                status, meta = self.status(s3, key)
                if status == "failed":
                    raise SystemExit(f"bench: {key} failed to load: {meta}")
                return status == "loaded"

            wait_for(loaded, 3600, f"{key} to load", interval=0.02)
            done = time.monotonic()
            out.append({"upload": uploaded - start, "total": done - start})
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        if self.log:
            self.log.close()
