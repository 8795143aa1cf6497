"""A small fixture that speaks to the store a test's site uses, for what no
command or page shows (counting rows, seeding a few hundred subscriptions).
It takes the same URL the binary does: sqlite:PATH today; the SQL it sends
is the portable subset (numbered rows via ?, no engine-only functions), so a
PostgreSQL URL needs only a connect() branch."""
import os
import sqlite3


class Store:
    def __init__(self, url):
        if url.startswith("sqlite:"):
            self.conn = sqlite3.connect(url[len("sqlite:"):], timeout=30)
            self.conn.execute("PRAGMA busy_timeout = 30000")
        else:
            raise ValueError(f"storefix: no driver for {url}")

    @classmethod
    def of_data(cls, data):
        return cls("sqlite:" + os.path.join(str(data), "masthead.db"))

    def all(self, sql, *args):
        return self.conn.execute(sql, args).fetchall()

    def one(self, sql, *args):
        return self.conn.execute(sql, args).fetchone()

    def value(self, sql, *args):
        row = self.one(sql, *args)
        return row[0] if row else None

    def execute(self, sql, *args):
        """Runs one statement that returns no rows (UPDATE, DELETE); returns
        how many rows it changed. Nothing is kept until commit()."""
        return self.conn.execute(sql, args).rowcount

    def insert(self, sql, *args):
        cur = self.conn.execute(sql + " RETURNING id", args)
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
