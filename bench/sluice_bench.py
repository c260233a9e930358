"""Shared by the end-to-end benchmarks (bench/upsert, bench/freshness): a `sluice serve` on free
ports with a fresh data directory, a connection and its boto3 client, DuckDB through node."""

import json
import os
import signal
import subprocess
import time

import boto3
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tests", "tools")


def duckdb(*statements):
    """Runs SQL with DuckDB (@duckdb/node-api, as pinned in tests/tools), one node process."""
    if not os.path.isdir(os.path.join(TOOLS, "node_modules", "@duckdb", "node-api")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLS,
                       check=True)
    out = subprocess.run(["node", os.path.join(TOOLS, "duckdb_sql.mjs"), *statements],
                         check=True, capture_output=True, text=True, cwd=TOOLS)
    return json.loads(out.stdout) if out.stdout.strip() else None


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
    def __init__(self, binary, data_dir):
        self.binary = binary
        self.data = data_dir
        self.proc = None

    def cli(self, *args):
        return subprocess.run([self.binary, "--data-dir", self.data, *args], check=True,
                              capture_output=True, text=True).stdout

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        self.log = open(os.path.join(self.data, "serve.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "--data-dir", self.data, "serve", "--s3-port", "0",
                                      "--admin-port", "0"], stdout=self.log, stderr=subprocess.STDOUT)

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
        self.conn = json.loads(self.cli("connection", "create", "bench", "--json"))
        self.bucket = self.conn["bucket"]
        return self

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.conn["access_key_id"],
            aws_secret_access_key=self.conn["secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=600))

    def status(self, client, key):
        head = client.head_object(Bucket=self.bucket, Key=key)
        return head["Metadata"].get("sluice-status"), head["Metadata"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.log.close()
