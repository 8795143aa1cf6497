"""Changes pushed between nodes (PostgreSQL's LISTEN/NOTIFY): two `masthead
serve` nodes on one database, node B polling the store only once a minute
(--recheck-ms 60000), so what it learns within a second it learned by push.
A sign-out, a billing change and a publish made through node A (or a
command beside it) show on node B; the measured latency is printed, not
capped. And when the listener's connection is killed, the node forgets
everything cached, listens again, and keeps working."""
import re
import time

import pytest
import requests

from conftest import ENGINE, Server, eventually, run
from members import csrf_of, sign_in
from storefix import Store, db_url
from test_billing import checkout

pytestmark = pytest.mark.skipif(
    ENGINE != "postgres",
    reason="push is PostgreSQL's LISTEN/NOTIFY between nodes; a SQLite site is one node "
           "(runs under make test-pg, MASTHEAD_TEST_DB)")

PAID = "/articles/port-pier-9-overnight-cargo"
# Generous: the machine may be busy. The latency is printed, not asserted tightly.
WITHIN = 10.0
SLOW_POLL = "60000"


def full(text):
    return 'class="gated-body' in text


@pytest.fixture
def nodes(tmp_path):
    env = {"MASTHEAD_RATE_LIMIT": "1000", "MASTHEAD_BILLING_INTERVAL": "0"}
    a = Server(["demo", "--port", "0"], tmp_path / "a", env=env)
    b = Server(["serve", "--listen", "127.0.0.1:0", "--recheck-ms", SLOW_POLL], tmp_path / "b",
               env=dict(env, MASTHEAD_DB=db_url(tmp_path / "a")), log_name="b.log")
    a.data = tmp_path / "a"
    # B listens before the test changes anything (its first flush is logged).
    eventually(b.logs, lambda t: "caches flushed" in t, within=WITHIN)
    assert "caches flushed" in b.logs(), b.logs()[-2000:]
    yield a, b
    b.stop()
    a.stop()
    a.check_clean()
    b.check_clean()


def seen_within(fetch, ok):
    """Polls fetch until ok; returns (result, seconds it took)."""
    start = time.monotonic()
    got = eventually(fetch, ok, within=WITHIN)
    return got, time.monotonic() - start


def report(what, seconds):
    print(f"\npush latency, {what}: {seconds * 1000:.0f} ms")


def test_sign_out_on_a_rejects_the_cookie_on_b(nodes):
    a, b = nodes
    s, r = sign_in(a, "subscriber@demo.test")
    assert r.status_code == 303
    cookie = {"masthead_session": s.cookies.get("masthead_session")}
    # B reads the session once, then keeps it in memory.
    for _ in range(3):
        assert full(b.get(PAID, cookies=cookie).text)
    page = s.get(a.url + "/account", timeout=10).text
    assert s.post(a.url + "/signout", data={"csrf": csrf_of(page)}, allow_redirects=False,
                  timeout=10).status_code == 303
    got, took = seen_within(lambda: b.get("/account", cookies=cookie), lambda r: r.status_code != 200)
    report("sign-out on A, cookie refused on B", took)
    assert got.status_code in (302, 303) and "/signin" in got.headers["Location"]
    assert not full(b.get(PAID, cookies=cookie).text)


def test_billing_change_on_a_shows_on_b(nodes):
    a, b = nodes
    s, _ = sign_in(a, "lapsed@demo.test")
    for _ in range(3):
        page = s.get(b.url + PAID, timeout=10).text
        assert not full(page) and "make sure the card on file is up to date" in page
    r = checkout(a, s, "/account/billing?next=" + PAID, {"action": "card", "next": PAID}, "4242 4242 4242 4242")
    assert r.status_code == 303 and r.headers["Location"] == PAID
    got, took = seen_within(lambda: s.get(b.url + PAID, timeout=10).text, full)
    report("new card on A (invoice paid), article opens on B", took)
    assert full(got)


def test_publish_shows_on_b(nodes, tmp_path):
    a, b = nodes
    # Both nodes have the front page cached for anonymous readers.
    for _ in range(2):
        assert "Pushed off the press" not in b.get("/").text
    assert b.get("/").headers.get("X-Cache") == "hit"
    (tmp_path / "new.md").write_text("---\ntitle: Pushed off the press\nslug: pushed-off-the-press\n"
                                     "access: public\n---\nBody.\n")
    r = run("import", str(tmp_path / "new.md"), data=a.data)
    assert r.returncode == 0, r.stderr
    got, took = seen_within(lambda: b.get("/").text, lambda t: "Pushed off the press" in t)
    report("import beside A, front page on B", took)
    assert "Pushed off the press" in got
    assert b.get("/articles/pushed-off-the-press").status_code == 200


def listener_pids(data, node_pid):
    with Store(db_url(data)) as db:
        return [row[0] for row in db.all(
            "SELECT pid FROM pg_stat_activity WHERE application_name = ?",
            f"masthead listener {node_pid}")]


def test_a_killed_listener_flushes_and_listens_again(nodes):
    a, b = nodes
    s, _ = sign_in(a, "subscriber@demo.test")
    cookie = {"masthead_session": s.cookies.get("masthead_session")}
    for _ in range(2):
        assert full(b.get(PAID, cookies=cookie).text)
    b.get("/")
    assert b.get("/").headers.get("X-Cache") == "hit"
    pids = listener_pids(a.data, b.proc.pid)
    assert len(pids) == 1, pids
    flushes = b.logs().count("caches flushed")
    with Store(db_url(a.data)) as db:
        assert db.value("SELECT pg_terminate_backend(?)", pids[0]) is True
    # The node notices, connects again and forgets everything it kept.
    log, took = seen_within(b.logs, lambda t: t.count("caches flushed") > flushes)
    report("listener killed, node flushed and listening again", took)
    assert log.count("caches flushed") == flushes + 1, log[-3000:]
    assert "listener connection lost" in log
    new = listener_pids(a.data, b.proc.pid)
    assert len(new) == 1 and new != pids
    # The caches really went: the next anonymous page is rendered afresh.
    assert b.get("/").headers.get("X-Cache") != "hit"
    assert full(b.get(PAID, cookies=cookie).text)
    # And push works on the new connection: a sign-out on A reaches B.
    page = s.get(a.url + "/account", timeout=10).text
    assert s.post(a.url + "/signout", data={"csrf": csrf_of(page)}, allow_redirects=False,
                  timeout=10).status_code == 303
    got, took = seen_within(lambda: b.get("/account", cookies=cookie), lambda r: r.status_code != 200)
    report("sign-out on A after the reconnect, refused on B", took)
    assert got.status_code in (302, 303)
    assert re.search(r"listening for pushed changes", log)


def test_a_small_pool_serves_many_requests(tmp_path):
    """--db-pool 2: sixteen signed-in readers at once on uncached pages all
    get their page, and the node never holds more than two connections
    (and its listener's)."""
    import concurrent.futures
    env = {"MASTHEAD_RATE_LIMIT": "1000"}
    srv = Server(["demo", "--port", "0", "--db-pool", "2", "--page-cache", "false", "--threads", "4"],
                 tmp_path / "data", env=env)
    try:
        s, _ = sign_in(srv, "subscriber@demo.test")
        cookie = {"masthead_session": s.cookies.get("masthead_session")}
        seen = []

        def read(i):
            r = srv.get(PAID if i % 2 else "/account", cookies=cookie)
            with Store(db_url(tmp_path / "data")) as db:
                seen.append(db.value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND application_name = ?", f"masthead {srv.proc.pid}"))
            return r.status_code, full(r.text) if i % 2 else True

        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            got = list(ex.map(read, range(64)))
        assert got == [(200, True)] * 64
        assert 1 <= max(seen) <= 2, seen
    finally:
        srv.stop()
    srv.check_clean()
