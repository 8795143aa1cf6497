"""A small fixture that speaks to the store a test's site uses, for what no
command or page shows (counting rows, seeding a few hundred subscriptions).
It takes the same URL the binary does: sqlite:PATH or postgres://...; the
SQL it sends is the portable subset (? placeholders, no engine-only
functions), turned into psycopg2's %s form for PostgreSQL.

Which engine the suite runs on: MASTHEAD_TEST_DB=postgres://.../postgres
(a cluster the tests may create databases on; scripts/pg-cluster makes one)
gives every data dir a fresh database of its own on that cluster, and every
command and server a test starts on that data dir uses it (MASTHEAD_DB).
Unset, each data dir keeps its SQLite file, as in production."""
import hashlib
import os
import re
import sqlite3

TEST_DB = os.environ.get("MASTHEAD_TEST_DB", "")
ENGINE = "postgres" if TEST_DB.startswith(("postgres://", "postgresql://")) else "sqlite"
_created = set()


def _pg_connect(url):
    import psycopg2
    return psycopg2.connect(url)


def db_url(data):
    """The database URL of a data dir's site on the engine under test."""
    if ENGINE == "sqlite":
        return "sqlite:" + os.path.join(str(data), "masthead.db")
    name = "mh_" + hashlib.sha1(os.path.abspath(str(data)).encode()).hexdigest()[:24]
    base = TEST_DB.rsplit("/", 1)[0]
    if name not in _created:
        conn = _pg_connect(TEST_DB)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if not cur.fetchone():
                cur.execute(f"CREATE DATABASE {name}")
        conn.close()
        _created.add(name)
    return f"{base}/{name}"


def drop_databases(keep):
    """Drops the databases this process created, but those in keep (a
    test's own, once its servers have stopped), so a run does not pile up
    a database per test on the cluster."""
    gone = _created - set(keep)
    if ENGINE != "postgres" or not gone:
        return
    conn = _pg_connect(TEST_DB)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in sorted(gone):
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            _created.discard(name)
    conn.close()


def created():
    return set(_created)


def db_env(data):
    """What a process started on data needs in its environment to use the
    engine under test (nothing for SQLite: --data names the file)."""
    return {"MASTHEAD_DB": db_url(data)} if ENGINE == "postgres" else {}


def _pg_sql(sql):
    """? placeholders outside quotes become %s; a literal % doubles."""
    out, quote = [], None
    for c in sql:
        if quote:
            if c == quote:
                quote = None
            out.append("%%" if c == "%" else c)
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c == "?":
            out.append("%s")
        elif c == "%":
            out.append("%%")
        else:
            out.append(c)
    return "".join(out)


class Store:
    def __init__(self, url):
        if url.startswith("sqlite:"):
            self.conn = sqlite3.connect(url[len("sqlite:"):], timeout=30)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            self.pg = False
        elif url.startswith(("postgres://", "postgresql://")):
            self.conn = _pg_connect(url)
            self.pg = True
        else:
            raise ValueError(f"storefix: no driver for {url}")

    @classmethod
    def of_data(cls, data):
        return cls(db_url(data))

    def _run(self, sql, args):
        if not self.pg:
            return self.conn.execute(sql, args)
        cur = self.conn.cursor()
        cur.execute(_pg_sql(sql), args)
        return cur

    def all(self, sql, *args):
        return self._run(sql, args).fetchall()

    def one(self, sql, *args):
        return self._run(sql, args).fetchone()

    def value(self, sql, *args):
        row = self.one(sql, *args)
        return row[0] if row else None

    def execute(self, sql, *args):
        """Runs one statement that returns no rows (UPDATE, DELETE); returns
        how many rows it changed. Nothing is kept until commit()."""
        return self._run(sql, args).rowcount

    def insert(self, sql, *args):
        cur = self._run(sql + " RETURNING id", args)
        return cur.fetchone()[0]

    def commit(self):
        self.conn.commit()

    def close(self):
        self.conn.close()

    # `with Store.of_data(data) as st:` commits what the block wrote when it
    # ends normally, rolls it back when it raises, and closes either way.
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        try:
            if kind is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self.conn.close()
        return False
