"""The in-memory caches (sessions, page skeletons for signed-in readers,
article records) answer exactly what rendering every request would, never
one reader's page to another kind of reader, and forget what changed: at
once for this server's own writes, within --recheck-ms for another
process's."""
import re
import time

import pytest

from conftest import OTHER_PROCESS_DELAY, Server, eventually, run
from members import csrf_of, form_post, sign_in
from storefix import Store

PAID = "/articles/port-pier-9-overnight-cargo"


def full(text):
    return 'class="gated-body' in text


@pytest.fixture
def pair(tmp_path):
    """Two servers on one database: one with every cache, one without the
    page and skeleton caches (its pages are rendered for every request)."""
    # One name for both: demo would otherwise be the demo paper, serve a new site.
    env = {"MASTHEAD_RATE_LIMIT": "1000", "MASTHEAD_PUBLIC_URL": "http://news.example",
           "MASTHEAD_SITE_NAME": "The Harbor Vale Ledger",
           "MASTHEAD_SITE_TAGLINE": "Independent news for Harbor Vale and the coast",
           "MASTHEAD_SECTIONS": "City Hall, Port, Business, Schools, Environment, Culture"}
    cached = Server(["demo", "--port", "0"], tmp_path / "data", env=env)
    plain = Server(["serve", "--listen", "127.0.0.1:0", "--page-cache", "false"], tmp_path / "data", env=env,
                   log_name="plain.log")
    yield cached, plain
    plain.stop()
    cached.stop()
    cached.check_clean()
    plain.check_clean()


def get(srv, session, path):
    r = session.get(srv.url + path, allow_redirects=False, timeout=10)
    assert r.status_code == 200, (path, r.status_code)
    return r


@pytest.mark.parametrize("who", ["subscriber@demo.test", "reader@demo.test", "pastdue@demo.test",
                                 "lapsed@demo.test", "editor@demo.test"])
def test_skeleton_pages_are_the_rendered_pages(pair, who):
    cached, plain = pair
    s, r = sign_in(cached, who)
    assert r.status_code == 303
    paths = ["/", "/?page=2", "/?page=zero", PAID, "/articles/no-such-article", "/tags/no-such-tag"]
    front = get(cached, s, "/").text
    for kind, n in (("articles", 8), ("authors", 2), ("tags", 2)):
        paths += sorted(set(re.findall(r'href="(/' + kind + r'/[a-z0-9-]+)"', front)))[:n]
    for path in paths:
        first = s.get(cached.url + path, allow_redirects=False, timeout=10)
        again = s.get(cached.url + path, allow_redirects=False, timeout=10)
        other = s.get(plain.url + path, allow_redirects=False, timeout=10)
        assert first.status_code == again.status_code == other.status_code, path
        # Byte for byte what the server without caches renders for this reader.
        assert again.text == other.text, path
        assert first.text == other.text, path
        if again.status_code == 200:
            assert again.headers["Cache-Control"] == "private, no-store", path
            assert "mhslot" not in again.text, path
        assert "X-Cache" not in again.headers and "X-Cache" not in other.headers
    # The access log names the cache that answered.
    # Log lines are written once the answer is sent: wait for the last one.
    # (sign-in: two requests; the front page read for its links: one)
    log = eventually(cached.logs, lambda t: t.count('msg="request"') >= 3 + 2 * len(paths))
    hits = set(re.findall(r'path="([^"]+)" status=200 .* cache=skeleton', log))
    assert "cache=" not in plain.logs()
    # The second request came from a skeleton: listings always, an article
    # unless its paywall shows the reader's card (lapsed@ has a payment problem).
    assert "/" in hits and any(p.startswith("/tags/") for p in hits)
    assert (PAID in hits) == (who != "lapsed@demo.test")


def test_reader_values_are_escaped_in_skeletons(pair):
    cached, plain = pair
    s, _ = sign_in(cached, "subscriber@demo.test")
    name = 'Ann <b>"&\'</b> Lee'
    r = form_post(cached, s, "/account", "/account", {"name": name})
    assert r.status_code in (200, 303)
    for _ in range(2):
        page = get(cached, s, PAID).text
    assert "Ann &lt;b&gt;&quot;&amp;&#39;&lt;/b&gt; Lee" in page or "Ann &lt;b&gt;&quot;&amp;&#x27;" in page
    assert "<b>" not in page.split("<main")[0]
    assert page == get(plain, s, PAID).text
    # Each reader gets their own token in the sign-out and gift forms.
    t, _ = sign_in(cached, "editor@demo.test")
    mine, theirs = get(cached, s, PAID).text, get(cached, t, PAID).text
    assert csrf_of(mine) != csrf_of(theirs)
    assert csrf_of(mine) == csrf_of(get(plain, s, PAID).text)


def test_a_full_skeleton_never_reaches_a_reader_without_access(pair):
    cached, _ = pair
    sub, _ = sign_in(cached, "subscriber@demo.test")
    for _ in range(3):
        assert full(get(cached, sub, PAID).text)
    for who in ("reader@demo.test", "lapsed@demo.test"):
        s, _ = sign_in(cached, who)
        for _ in range(3):
            page = get(cached, s, PAID).text
            assert not full(page) and 'class="paywall"' in page, who
    assert not full(cached.get(PAID).text)


def test_sign_out_and_billing_changes_apply_at_once(pair):
    cached, _ = pair
    s, _ = sign_in(cached, "subscriber@demo.test")
    cookie = s.cookies.get("masthead_session")
    for _ in range(3):
        assert full(get(cached, s, PAID).text)
    # Cancel at the end of the period, then the period ends (this server's own write).
    page = get(cached, s, "/account/billing").text
    r = s.post(cached.url + "/account/billing", data={"csrf": csrf_of(page), "action": "cancel"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert full(get(cached, s, PAID).text)
    # Sign out: the old cookie is worthless on the next request.
    page = get(cached, s, "/account").text
    r = s.post(cached.url + "/signout", data={"csrf": csrf_of(page)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    stale = cached.get(PAID, cookies={"masthead_session": cookie})
    assert not full(stale.text) and "Sign out" not in stale.text


def test_another_process_changes_show_within_the_recheck(pair, tmp_path):
    cached, plain = pair
    s, _ = sign_in(cached, "subscriber@demo.test")
    for _ in range(3):
        assert full(get(cached, s, PAID).text)
    # Another process ends the subscription (as another node or a command would).
    db = Store.of_data(tmp_path / "data")
    db.execute("UPDATE subscriptions SET status = 'canceled', period_end = 1000 WHERE member_id = "
               "(SELECT id FROM members WHERE email = ?)", "subscriber@demo.test")
    db.commit()
    changed = time.monotonic()
    page = eventually(lambda: get(cached, s, PAID).text, lambda t: not full(t))
    assert not full(page) and "Resubscribe" in page
    assert time.monotonic() - changed < OTHER_PROCESS_DELAY + 2.0
    # And another process's sign-out everywhere.
    db.execute("DELETE FROM sessions")
    db.commit()
    db.close()
    page = eventually(lambda: s.get(cached.url + "/", timeout=10).text, lambda t: "Sign out" not in t)
    assert "Sign out" not in page and "Sign in" in page


def test_a_change_to_one_member_keeps_the_others_cached(pair, tmp_path):
    """Another process changes one member: that member's session is read
    again, every other member's stays in memory (per-member changes, not one
    counter that made every node forget every session)."""
    cached, _ = pair
    a, _ = sign_in(cached, "subscriber@demo.test")
    b, _ = sign_in(cached, "reader@demo.test")
    for _ in range(2):
        assert full(get(cached, a, PAID).text)
        get(cached, b, "/")
    # The access log line is written once the answer went out: wait for it.
    log = eventually(cached.logs, lambda t: re.search(r'path="/" status=200 .* session=cache', t))
    assert re.search(r'path="/" status=200 .* session=cache', log), log[-2000:]
    with Store.of_data(tmp_path / "data") as db:
        db.execute("UPDATE subscriptions SET status = 'canceled', period_end = 1000 WHERE member_id = "
                   "(SELECT id FROM members WHERE email = ?)", "subscriber@demo.test")
    page = eventually(lambda: get(cached, a, PAID).text, lambda t: not full(t))
    assert not full(page)
    get(cached, b, "/account")
    log = eventually(cached.logs, lambda t: re.search(r'path="/account" status=200 .* session=', t))
    assert re.search(r'path="/account" status=200 .* session=cache', log), log[-2000:]
    paid = re.findall(r'path="%s" status=200 .* session=(\w+)' % re.escape(PAID), log)
    assert paid.count("store") == 2, paid


def test_recheck_zero_sees_other_processes_at_once(tmp_path):
    srv = Server(["demo", "--port", "0", "--recheck-ms", "0"], tmp_path / "data")
    try:
        s, _ = sign_in(srv, "subscriber@demo.test")
        for _ in range(3):
            assert full(get(srv, s, PAID).text)
        with Store.of_data(tmp_path / "data") as db:
            db.execute("DELETE FROM sessions")
        assert "Sign out" not in get(srv, s, "/").text
        (tmp_path / "new.md").write_text("---\ntitle: Fresh off the press\naccess: public\n---\nBody.\n")
        assert srv.get("/").status_code == 200 and srv.get("/").headers.get("X-Cache") == "hit"
        assert run("import", str(tmp_path / "new.md"), data=tmp_path / "data").returncode == 0
        assert "Fresh off the press" in srv.get("/").text
    finally:
        srv.stop()
    srv.check_clean()


def test_recheck_setting_is_validated(tmp_path):
    r = run("serve", "--recheck-ms", "soon", data=tmp_path / "data")
    assert r.returncode == 2 and "recheck-ms" in r.stderr and len(r.stderr.strip().splitlines()) == 1
