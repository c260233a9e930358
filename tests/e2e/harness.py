"""Test harness: starts a real `sluice serve` on free ports with a temporary data directory and
drives it with the real aws CLI and boto3, the way users do."""

import decimal
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLUICE = os.environ.get("SLUICE_BIN", os.path.join(SOURCE_DIR, "build", "sluice"))
SHARED = os.environ.get("SLUICE_SHARED_DIR", os.path.join(os.path.dirname(SOURCE_DIR), "shared"))
GENERATED = os.path.join(SHARED, "parquet", "generated")
TOOLS = os.path.join(SOURCE_DIR, "tests", "tools")


# The pool the servers load into. Unset: the embedded SQLite pool. Set (by CTest's e2e_pg_*
# tests, from the pg_server fixture) to a PostgreSQL server's libpq connection string: every
# data directory gets a database of its own there, named after it, and `sluice serve --pool`.
TEST_PG = os.environ.get("SLUICE_TEST_PG", "")


def pg_database(data_dir):
    return "sluice_e2e_" + hashlib.sha256(os.path.abspath(data_dir).encode()).hexdigest()[:16]


def pg_conninfo(data_dir):
    """The connection string of the data directory's PostgreSQL database, created on first use."""
    import re as _re
    name = pg_database(data_dir)
    exists = subprocess.run(["psql", TEST_PG, "-Atc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            check=True, capture_output=True, text=True).stdout.strip()
    if not exists:
        subprocess.run(["psql", TEST_PG, "-qc", f'CREATE DATABASE "{name}"'], check=True,
                       capture_output=True, text=True)
    return _re.sub(r"dbname=\S+", f"dbname={name}", TEST_PG)


class _PgRows(list):
    """Rows as sqlite3's cursor gives them."""

    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0] if self else None


class _PgPool:
    """What the tests read from a SQLite pool database, from PostgreSQL: `execute(sql)` with the
    connection's schema first on the search path and `_sluice_applied` standing for that
    schema's rows of _sluice.applied. Values arrive as text; integers are converted."""

    def __init__(self, data_dir, connection):
        self.conninfo = pg_conninfo(data_dir)
        self.connection = connection

    def execute(self, sql, params=()):
        assert not params, "the PostgreSQL reader takes no parameters"
        applied = (f"(SELECT seq, table_name, inserted, updated, refused, deleted, applied_at "
                   f"FROM _sluice.applied WHERE schema_name = '{self.connection}') AS _sluice_applied")
        sql = sql.replace("_sluice_applied", applied)
        env = dict(os.environ, PGOPTIONS=f"-c search_path=\"{self.connection}\"")
        out = subprocess.run(["psql", self.conninfo, "-X", "-A", "-t", "-F", "\x1f", "-v",
                              "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True,
                             text=True, env=env).stdout
        rows = _PgRows()
        for line in out.splitlines():
            rows.append(tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split("\x1f")))
        return rows

    def close(self):
        pass


def pool_db(data_dir, connection):
    """A reader of `connection`'s tables in the pool: a read-only sqlite3 connection to its
    database of the SQLite pool, or the same queries against PostgreSQL (TEST_PG)."""
    if TEST_PG:
        return _PgPool(data_dir, connection)
    import sqlite3
    path = os.path.join(data_dir, "pool", connection + ".db")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def landing_tmp(data_dir):
    """The directory of a server's incoming files: landing/tmp, or landing/tmp/<node> when its
    ledger is shared with other nodes (PostgreSQL: docs/design/nodes.md)."""
    tmp = os.path.join(data_dir, "landing", "tmp")
    node = os.path.join(data_dir, "node.id")
    if os.path.exists(node):
        with open(node) as f:
            return os.path.join(tmp, f.read().strip())
    return tmp


def wait_for(predicate, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


TS = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?Z?$")


def comparable(v):
    """A value as the pool, DuckDB or the canonical JSONL gives it, in a form that compares across
    them: numbers as Decimal, timestamps as `YYYY-MM-DDTHH:MM:SS.ffffff`."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return decimal.Decimal(str(v))
    m = TS.match(v)
    if m:
        return f"{m.group(1)}T{m.group(2)}{(m.group(3) or '.').ljust(7, '0')}"
    try:
        return decimal.Decimal(v)
    except decimal.InvalidOperation:
        return v


def duckdb(*statements):
    """Runs SQL with DuckDB (npm @duckdb/node-api): the independent writer of test files."""
    out = subprocess.run(["node", os.path.join(TOOLS, "duckdb_sql.mjs"), *statements],
                         check=True, capture_output=True, text=True, cwd=TOOLS)
    return json.loads(out.stdout) if out.stdout.strip() else None


def make_tls_cert(directory):
    """A self-signed certificate for 127.0.0.1, localhost and *.s3.test (virtual-hosted
    buckets under the test base domain) by openssl; returns (cert, key)."""
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.s3.test",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now: for a server that must come back on
    the same port after a restart, as a real client's fixed endpoint expects."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir, extra_args=(), tls=None, address_space=None, s3_port=0,
                 admin_port=0, env=None, pool=None):
        self.data_dir = data_dir
        # `--pool` of every start; None: the test pool (TEST_PG's database of this data
        # directory, or the embedded default). Several nodes of one cluster name one database.
        self.pool = pool
        self.env = env  # extra environment of the server process (SLUICE_CRASH_AT)
        self.s3_port = s3_port  # 0: any free port, another one at every start
        self.admin_port = admin_port
        # bytes: the server runs under this RLIMIT_AS (`ulimit -v`), to prove memory bounds.
        self.address_space = address_space
        self.extra_args = list(extra_args)
        self.tls = tls  # (cert, key): also serve https on a free port
        self.proc = None
        self.endpoint = None
        self.https_endpoint = None
        self.admin_url = None
        self.log_path = os.path.join(data_dir, "serve.log")

    def start(self, extra_args=None):
        os.makedirs(self.data_dir, exist_ok=True)
        serve_json = os.path.join(self.data_dir, "serve.json")
        if os.path.exists(serve_json):
            os.remove(serve_json)
        args = [SLUICE, "--data-dir", self.data_dir, "serve", "--s3-port", str(self.s3_port),
                "--admin-port", str(self.admin_port)]
        if self.pool:
            args += ["--pool", self.pool]
        elif TEST_PG:
            args += ["--pool", pg_conninfo(self.data_dir)]
        args += self.extra_args if extra_args is None else list(extra_args)
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1], "--https-port", "0"]
        log = open(self.log_path, "ab")
        limit = None
        if self.address_space:
            def limit():
                resource.setrlimit(resource.RLIMIT_AS, (self.address_space, self.address_space))
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit,
                                     env=env)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"sluice serve exited with {self.proc.returncode}:\n" + self.log())
            try:
                with open(serve_json) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                return None
            return info if info.get("pid") == self.proc.pid else None

        info = wait_for(ready, timeout=20, what="sluice serve to start")
        self.endpoint = info["s3_endpoint"]
        self.https_endpoint = info.get("s3_https_endpoint")
        if self.tls and not self.https_endpoint:
            raise AssertionError("serve.json has no s3_https_endpoint:\n" + json.dumps(info))
        self.admin_url = info["admin_url"]
        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError(f"sluice serve exited with {self.proc.returncode}:\n" +
                                     self.log())
            return self.http_get("/healthz") == "ok\n"

        wait_for(healthy, what="/healthz")
        return self

    def admin_context(self):
        """The TLS context that trusts this server's certificate, for an https admin URL."""
        if not self.admin_url.startswith("https:"):
            return None
        return ssl.create_default_context(cafile=self.tls[0])

    def http_get(self, path, headers=None):
        req = urllib.request.Request(self.admin_url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5, context=self.admin_context()) as r:
                return r.read().decode()
        except OSError:
            return None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("sluice serve did not stop on SIGTERM")
        return self.proc.returncode if self.proc else None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class SluiceTestCase(unittest.TestCase):
    """One server per test class, one temporary data directory."""

    server_args = ()
    address_space = None  # bytes: run the server under this `ulimit -v`
    # "https": also serve TLS with a fresh self-signed certificate, and point every client at
    # the https endpoint, trusting that certificate (self.ca_bundle).
    scheme = "http"
    ca_bundle = None  # set by setUpClass when the suite runs over https

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sluice-e2e-")
        cls.data_dir = os.path.join(cls.tmp, "data")
        tls = make_tls_cert(cls.tmp) if cls.scheme == "https" else None
        cls.ca_bundle = tls[0] if tls else None
        try:
            cls.server = Server(cls.data_dir, cls.server_args, tls=tls,
                                address_space=cls.address_space).start()
        except BaseException:  # tearDownClass does not run: do not leave the directory behind
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    def s3_endpoint(self):
        # An instance method: the crash test drives servers it starts itself through a helper
        # instance whose `server` is an instance attribute.
        return self.server.https_endpoint if self.scheme == "https" else self.server.endpoint

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.server.stop()
        finally:
            if os.environ.get("SLUICE_KEEP_TMP") is None:
                shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"sluice serve exited with {rc}"

    # --- the CLI ---------------------------------------------------------------------------

    def sluice(self, *args, check=True, input=None):
        p = subprocess.run([SLUICE, "--data-dir", self.data_dir, *args], capture_output=True,
                           text=True, input=input)
        if check and p.returncode != 0:
            self.fail(f"sluice {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n"
                      f"server log:\n{self.server.log()}")
        return p

    def create_connection(self, name):
        return json.loads(self.sluice("connection", "create", name, "--json").stdout)

    def add_table(self, conn, table, pk, age=None):
        args = ["table", "add", conn["bucket"], table, "--pk", pk]
        if age:
            args += ["--age-column", age]
        self.sluice(*args)

    def files(self, conn, table=None):
        args = ["files", conn["bucket"]] + ([table] if table else []) + ["--json"]
        return json.loads(self.sluice(*args).stdout)

    def query(self, conn, sql):
        """Rows of `sql` as dicts; unqualified table names are `conn`'s (a connection dict or
        id; None: the only connection's)."""
        args = []
        if conn is not None:
            args = ["--connection", conn["bucket"] if isinstance(conn, dict) else conn]
        return json.loads(self.sluice("query", sql, "--json", *args).stdout)

    def table_names(self, conn):
        """The tables of `conn`'s namespace in the pool, in either pool."""
        if TEST_PG:
            sql = ("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
                   f"'{conn['bucket']}'")
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {r["name"] for r in self.query(conn, sql)}

    def psql(self, sql):
        """`psql`'s aligned output of `sql` on the PostgreSQL pool of this data directory (as a
        user's BI tool or psql sees the tables)."""
        return subprocess.run(["psql", pg_conninfo(self.data_dir), "-X", "-v", "ON_ERROR_STOP=1",
                               "-c", sql], check=True, capture_output=True, text=True).stdout

    def column_names(self, conn, table):
        """The columns of `table` in `conn`'s namespace, in order, in either pool."""
        if TEST_PG:
            sql = ("SELECT column_name AS name FROM information_schema.columns WHERE table_schema = "
                   f"'{conn['bucket']}' AND table_name = '{table}' ORDER BY ordinal_position")
        else:
            sql = f"SELECT name FROM pragma_table_info('{table}')"
        return [r["name"] for r in self.query(conn, sql)]

    def wait_files(self, conn, table, count, statuses=("loaded",), timeout=60):
        def done():
            files = self.files(conn, table)
            finished = [f for f in files if f["status"] in statuses]
            return files if len(finished) >= count else None
        try:
            return wait_for(done, timeout=timeout, what=f"{count} files of {table} in {statuses}")
        except AssertionError:
            print(json.dumps(self.files(conn, table), indent=1))
            print(self.server.log())
            raise

    # --- the clients -----------------------------------------------------------------------

    def aws(self, conn, *args, check=True, stdin=None):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=conn["access_key_id"],
                   AWS_SECRET_ACCESS_KEY=conn["secret_access_key"], AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        env.pop("AWS_PROFILE", None)
        tls = ["--ca-bundle", self.ca_bundle] if self.ca_bundle else []
        p = subprocess.run(["aws", "--endpoint-url", self.s3_endpoint(), *tls, *args], env=env,
                           capture_output=True, text=True, stdin=stdin)
        if check and p.returncode != 0:
            self.fail(f"aws {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def boto3(self, conn, secret=None, access_key=None, **config):
        return boto3.client(
            "s3", endpoint_url=self.s3_endpoint(), region_name="us-east-1",
            verify=self.ca_bundle if self.ca_bundle else None,
            aws_access_key_id=access_key or conn["access_key_id"],
            aws_secret_access_key=secret or conn["secret_access_key"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config))


def parse_metrics(text):
    """The samples of a Prometheus text page as {(name, frozenset(labels)): value}, checking
    that every sample's family was announced by HELP and TYPE first."""
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')
    helped, typed, samples = set(), {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name in helped, f"TYPE before HELP for {name}"
            assert kind in ("gauge", "counter", "histogram"), line
            typed[name] = kind
        elif line:
            m = sample.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.groups()
            family = name
            for suffix in ("_bucket", "_sum", "_count"):
                if family not in typed and family.endswith(suffix):
                    family = family[: -len(suffix)]
            assert family in typed, f"sample of an undeclared family: {line!r}"
            pairs = frozenset(label.findall(labels or ""))
            samples[(name, pairs)] = float(value)
    return samples


CRASH_EXIT_CODE = 86  # kCrashExitCode, core/crash_point.h


class AdminRequests:
    """Requests to the admin side of the test's server (self.server, self.data_dir), with the
    admin token: a mixin of the test classes that drive the admin API."""

    def api(self, method, path, body=None, expect=200, token=True, raw=False):
        """The answer to one admin request, which must have status `expect`: its JSON body (or
        its bytes when `raw`)."""
        headers = {}
        if token:
            with open(os.path.join(self.data_dir, "admin.token")) as f:
                headers["Authorization"] = "Bearer " + f.read().strip()
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.server.admin_url + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30,
                                        context=self.server.admin_context()) as r:
                status, payload, self.last_headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, payload, self.last_headers = e.code, e.read(), e.headers
        self.assertEqual(status, expect, f"{method} {path}: {payload[:2000]!r}")
        return payload if raw else json.loads(payload)


class RestartedServerTestCase(unittest.TestCase):
    """A test that starts, kills and restarts servers on its own data directory: self.start()
    runs one; self.helper is a SluiceTestCase for the CLI and clients against it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sluice-restarted-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.helper = SluiceTestCase("run")
        self.helper.data_dir = self.data_dir
        self.server = None

    def tearDown(self):
        if self.server and self.server.proc and self.server.proc.poll() is None:
            self.server.kill()
        if os.environ.get("SLUICE_KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *args, **server_options):
        """Starts a server on the data directory; server_options go to Server (ports)."""
        self.server = Server(self.data_dir, list(args), **server_options).start()
        self.helper.server = self.server
        return self.server

    def start_crashing(self, crash_at, *args, **server_options):
        """Starts a server with SLUICE_CRASH_AT=crash_at (core/crash_point.h) in its
        environment alone. It may die at the point before it is ready (its proc has then
        exited with CRASH_EXIT_CODE); any other failure to start raises."""
        server = Server(self.data_dir, list(args), env={"SLUICE_CRASH_AT": crash_at},
                        **server_options)
        self.server = self.helper.server = server
        try:
            server.start()
        except AssertionError:
            if server.proc is None or server.proc.poll() != CRASH_EXIT_CODE:
                raise
        return server
