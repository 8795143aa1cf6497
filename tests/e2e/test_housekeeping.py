"""Housekeeping: a billing run also removes what nobody can use any more
(expired sessions, mailed links and checkouts, old meter reads), never what
is still live, and never by a time later than the clock's."""
import datetime
import re

from conftest import Server, now, run
from members import form_post, sign_in
from storefix import Store

DAY = 86400


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def removed(out):
    m = re.search(r"(\d+) expired rows removed", out)
    assert m, out
    return int(m.group(1))


def test_expired_rows_go_live_ones_stay(tmp_path):
    data = tmp_path / "data"
    # Forty days ago: a session (30 days without use) and a sign-in link (15 minutes).
    old = Server(["demo", "--port", "0"], data, env={"MASTHEAD_CLOCK": iso(now() - 40 * DAY)})
    sign_in(old, "reader@demo.test")
    import requests
    form_post(old, requests.Session(), "/signin", "/signin/link", {"email": "editor@demo.test"})
    old.stop()
    db = Store.of_data(data)
    assert db.value("SELECT count(*) FROM sessions") == 1
    assert db.value("SELECT count(*) FROM auth_tokens") >= 1
    r = run("billing", "run", "--at", iso(now()), data=data)
    assert r.returncode == 0, r.stderr
    assert removed(r.stdout) >= 2
    assert db.value("SELECT count(*) FROM sessions") == 0
    assert db.value("SELECT count(*) FROM auth_tokens") == 0

    # A live session survives a run far in the future: housekeeping goes by the clock.
    srv = Server(["demo", "--port", "0"], data)
    live, _ = sign_in(srv, "subscriber@demo.test")
    r = run("billing", "run", "--at", iso(now() + 400 * DAY), data=data)
    assert r.returncode == 0, r.stderr
    assert removed(r.stdout) == 0
    assert db.value("SELECT count(*) FROM sessions") == 1
    assert "Sign out" in live.get(srv.url + "/account", timeout=10).text
    srv.stop()
    db.close()
