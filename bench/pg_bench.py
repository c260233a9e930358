"""Shared by the benchmarks that run on PostgreSQL (bench/pg_upsert, bench/freshness --pool
postgresql): a throwaway server from scripts/pg_server.sh (a fresh cluster on a Unix socket,
stopped and removed after, also on failure), its databases, and SQL through psql (no Python
driver to install)."""

import os
import signal
import subprocess
import sys

from sluice_bench import ROOT

PG_SERVER = os.path.join(ROOT, "scripts", "pg_server.sh")


def _raise_on_sigterm():
    # A benchmark killed with SIGTERM (a CI timeout, kill PID) still runs its `finally` blocks,
    # which stop the servers it started.
    def handler(signum, frame):
        raise SystemExit(f"bench: signal {signum}")
    signal.signal(signal.SIGTERM, handler)


class PgServer:
    """A throwaway PostgreSQL 15 server in `directory` (under /tmp: the `postgres` user that runs
    it as root must reach it). Use as a context manager: the server is stopped and its directory
    removed on exit, whatever happened."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)

    def __enter__(self):
        _raise_on_sigterm()
        subprocess.run(["bash", PG_SERVER, "start", self.dir], check=True, capture_output=True,
                       text=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(["bash", PG_SERVER, "stop", self.dir], capture_output=True)
        return False

    def uri(self, database="postgres"):
        """The libpq URI of `database` on this server's Unix socket (the form `sluice serve
        --pool` takes)."""
        return f"postgresql:///{database}?host={self.dir}/sock&user=postgres"

    def sql(self, statement, database="postgres"):
        """Runs one statement with psql; its rows, each a list of the columns' text."""
        out = subprocess.run(["psql", self.uri(database), "-X", "-q", "-A", "-t", "-F", "\t",
                              "-v", "ON_ERROR_STOP=1", "-c", statement],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"bench: psql: {statement}: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def create_database(self, name):
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}"')

    def drop_database(self, name):
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def checkpoint(self):
        self.sql("CHECKPOINT")

    def find_table(self, database, table, prefer_schema=None):
        """The schema-qualified, quoted name of user table `table` in `database` (sluice's pool
        puts a connection's tables in a schema of its own): the one in `prefer_schema` when it
        exists, else the only one."""
        rows = self.sql(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relname = '{table}' AND c.relkind IN ('r', 'p') AND n.nspname NOT IN "
            "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_temp%'", database)
        schemas = [r[0] for r in rows]
        if prefer_schema in schemas:
            schemas = [prefer_schema]
        if len(schemas) != 1:
            raise SystemExit(f"bench: expected one table {table} in {database}, found it in "
                             f"{schemas or 'no schema'}")
        return f'"{schemas[0]}"."{table}"'

    def table_ddl(self, database, qualified, name):
        """A CREATE TABLE `name` with the columns (types, NOT NULL) and primary key of
        `qualified`, in the order PostgreSQL holds them."""
        cols = self.sql(
            "SELECT quote_ident(attname), format_type(atttypid, atttypmod), attnotnull "
            f"FROM pg_attribute WHERE attrelid = '{qualified}'::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum", database)
        pk = self.sql(
            "SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord) FROM pg_index i "
            "CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            f"WHERE i.indrelid = '{qualified}'::regclass AND i.indisprimary", database)
        parts = [f"{c} {t}{' NOT NULL' if nn == 't' else ''}" for c, t, nn in cols]
        if pk and pk[0][0]:
            parts.append(f"PRIMARY KEY ({pk[0][0]})")
        return f'CREATE TABLE "{name}" ({", ".join(parts)})'

    def fingerprint(self, database, qualified, columns):
        """Row count and an order-independent hash of `columns` of every row: two tables with the
        same fingerprint hold the same rows (up to a 64-bit collision)."""
        cols = ", ".join(f"{c}" for c in columns)
        row = self.sql(f"SELECT count(*), coalesce(sum(hashtext(row({cols})::text)::bigint), 0) "
                       f"FROM {qualified}", database)[0]
        return int(row[0]), int(row[1])


def peak_rss_mib(pid):
    """The peak resident set of a running process (VmHWM), in MiB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def sluice_has_flag(binary, command, flag):
    """Whether `sluice COMMAND --help` lists `flag` (the PostgreSQL pool lands in stages)."""
    out = subprocess.run([binary, command, "--help"], capture_output=True, text=True)
    return flag in out.stdout


if __name__ == "__main__":
    sys.exit("pg_bench.py is a library of bench/pg_upsert/bench.py and bench/freshness/bench.py")
