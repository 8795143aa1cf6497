"""What running on either engine adds: nodes that must not migrate
(--no-migrate), the migrations that every node may start at once, and
masthead copy between the engines. Runs on the engine under test (storefix:
MASTHEAD_TEST_DB)."""
import re
import subprocess

import pytest

from conftest import BIN, ENGINE, Server, clock_env, db_env, run
from storefix import Store


def test_no_migrate_refuses_an_unmigrated_database_then_serves(tmp_path):
    data = tmp_path / "data"
    r = run("serve", "--listen", "127.0.0.1:0", "--no-migrate", data=data, timeout=30)
    assert r.returncode != 0
    assert "is not migrated (run masthead migrate first)" in r.stderr, r.stderr
    # Nothing was created by the refused node.
    with Store.of_data(data) as st:
        if ENGINE == "postgres":
            assert st.value("SELECT count(*) FROM pg_tables WHERE tablename = 'articles'") == 0
        else:
            assert st.value("SELECT count(*) FROM sqlite_master WHERE name = 'articles'") == 0
    r = run("migrate", data=data)
    assert r.returncode == 0, r.stderr
    # One migration behind (as after installing a newer binary): refused too.
    with Store.of_data(data) as st:
        last = st.one("SELECT version, name, applied_at FROM schema_migrations ORDER BY version DESC LIMIT 1")
        assert st.execute("DELETE FROM schema_migrations WHERE version = ?", last[0]) == 1
    r = run("serve", "--listen", "127.0.0.1:0", "--no-migrate", data=data, timeout=30)
    assert r.returncode == 1 and "lacks 1 migration (run masthead migrate first)" in r.stderr, r.stderr
    with Store.of_data(data) as st:
        st.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", *last)
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--no-migrate"], data)
    try:
        assert srv.get("/healthz").status_code == 200
    finally:
        srv.stop()
    srv.check_clean()


def test_migrations_applied_once_by_nodes_starting_together(tmp_path):
    data = tmp_path / "data"
    env = {**clock_env(), **db_env(data)}
    procs = [subprocess.Popen([BIN, "migrate", "--data", str(data)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    applied = sum(err.count("migration applied") for _, err in outs)
    with Store.of_data(data) as st:
        n = st.value("SELECT count(*) FROM schema_migrations")
        assert n >= 6
        # Each migration once, by whichever process came first.
        assert applied == n
        assert st.value("SELECT count(DISTINCT version) FROM schema_migrations") == n


SITE = ["--site-name", "The Harbor Vale Ledger", "--site-tagline", "Independent news for Harbor Vale and the coast",
        "--public-url", "http://news.example.test", "--billing-interval", "0"]
SECRET = {"MASTHEAD_SECRET": "copy-test-secret-copy-test-secret-0123456789"}


def pages(srv, cookies):
    """The bytes of the pages a reader and a subscriber see, by path."""
    import requests
    anon = requests.Session()
    signed = requests.Session()
    signed.cookies.update(cookies)
    front = srv.get("/")
    assert front.status_code == 200
    paths = ["/", "/feed.xml", "/sitemap.xml", "/robots.txt"]
    paths += sorted(set(re.findall(r'href="(/(?:articles|tags|authors|people)/[a-z0-9-]+)"', front.text)))
    assert any(p.startswith("/articles/") for p in paths), front.text[:500]
    out = {}
    for p in paths:
        for who, s in (("anonymous", anon), ("subscriber", signed)):
            r = s.get(srv.url + p, allow_redirects=False, timeout=10)
            out[(who, p)] = (r.status_code, r.content)
    # Search: the engines rank and cut snippets each their own way, so what
    # must agree is which articles each reader finds, by a word of the first
    # article's address.
    first = next(p for p in paths if p.startswith("/articles/"))
    word = max(first.split("/")[-1].split("-"), key=len)
    for who, s in (("anonymous", anon), ("subscriber", signed)):
        r = s.get(srv.url + "/search", params={"q": word}, allow_redirects=False, timeout=10)
        assert r.status_code == 200, r.status_code
        found = set(re.findall(r'href="(/articles/[a-z0-9-]+)"', r.text))
        assert found, (word, r.text[:500])
        out[(who, "search:" + word)] = (r.status_code, sorted(found))
    return out


def serve_and_read(data, env, cookies):
    # Reads are not counted: each reading would change the next front page's
    # Most read, and these reads compare the pages of one site on two engines.
    srv = Server(["serve", "--listen", "127.0.0.1:0", *SITE], data,
                 env={**SECRET, "MASTHEAD_READS_FLUSH_SECONDS": "0", **env})
    try:
        return pages(srv, cookies)
    finally:
        srv.stop()
        srv.check_clean()


@pytest.mark.skipif(ENGINE != "postgres",
                    reason="copies between the engines: needs MASTHEAD_TEST_DB=postgres://... (make test-pg)")
def test_a_copied_site_serves_the_same_pages_byte_for_byte(tmp_path):
    from members import sign_in
    lite = tmp_path / "lite"
    lite_env = {"MASTHEAD_DB": "sqlite:" + str(lite / "masthead.db")}
    srv = Server(["demo", "--port", "0", *SITE], lite, env={**SECRET, **lite_env})
    try:
        s, r = sign_in(srv, "subscriber@demo.test")
        assert r.status_code == 303, r.text[:300]
        cookies = s.cookies.get_dict()
    finally:
        srv.stop()
    before = serve_and_read(lite, lite_env, cookies)
    assert len(before) >= 10
    # The subscriber is signed in (the copy carries sessions too): some pages
    # differ from the anonymous reader's.
    assert any(before[("subscriber", p)] != before[("anonymous", p)] for (_, p) in before)

    # SQLite to PostgreSQL.
    pg = tmp_path / "pg"
    pg_url = db_env(pg)["MASTHEAD_DB"]
    r = run("copy", "--from", lite_env["MASTHEAD_DB"], "--to", pg_url)
    assert r.returncode == 0, r.stderr
    assert re.match(r"copy: \d+ rows from sqlite to postgres, every table's count and checksum checked", r.stdout)
    after = serve_and_read(pg, {"MASTHEAD_DB": pg_url}, cookies)
    assert sorted(after) == sorted(before)
    for k in before:
        assert after[k] == before[k], k

    # And back, into a new SQLite file.
    back = tmp_path / "back"
    back_env = {"MASTHEAD_DB": "sqlite:" + str(back / "masthead.db")}
    back.mkdir()
    r = run("copy", "--from", pg_url, "--to", back_env["MASTHEAD_DB"])
    assert r.returncode == 0, r.stderr
    again = serve_and_read(back, back_env, cookies)
    for k in before:
        assert again[k] == before[k], k

    # All or nothing: a target that holds a site is refused, and keeps it.
    r = run("copy", "--from", lite_env["MASTHEAD_DB"], "--to", pg_url)
    assert r.returncode == 3 and "is not empty" in r.stderr, (r.returncode, r.stderr)
    assert serve_and_read(pg, {"MASTHEAD_DB": pg_url}, cookies) == before


def test_copy_usage_errors(tmp_path):
    r = run("copy", "--from", "sqlite:" + str(tmp_path / "a.db"))
    assert r.returncode == 2 and "give both --from URL and --to URL" in r.stderr
    r = run("copy", "--from", "sqlite:x.db", "--to", "sqlite:x.db")
    assert r.returncode == 2 and "same database" in r.stderr
    r = run("copy", "--from", "mysql://x", "--to", "sqlite:" + str(tmp_path / "b.db"))
    assert r.returncode == 2 and "not a database URL" in r.stderr


def test_two_nodes_on_one_database_share_the_signing_secret(tmp_path):
    """No --secret and a data dir each: the key comes from the database, so
    a form served by one node is accepted by the other."""
    import requests
    from members import csrf_of
    a, b = tmp_path / "a", tmp_path / "b"
    shared = db_env(a).get("MASTHEAD_DB") or "sqlite:" + str(a / "masthead.db")
    one = Server(["demo", "--port", "0"], a, env={"MASTHEAD_DB": shared})
    two = Server(["serve", "--listen", "127.0.0.1:0"], b, env={"MASTHEAD_DB": shared})
    try:
        s = requests.Session()
        page = s.get(one.url + "/signin", timeout=10)
        assert page.status_code == 200
        token = csrf_of(page.text)
        r = s.post(two.url + "/signin", data={"email": "reader@demo.test", "password": "masthead-demo",
                                              "next": "/", "csrf": token}, allow_redirects=False, timeout=30)
        assert r.status_code == 303, (r.status_code, r.text[:300])
        # Signed in on the second node, the session works on the first.
        assert "Sign out" in s.get(one.url + "/account", timeout=10).text
        assert not (a / "secret.key").exists() and not (b / "secret.key").exists()
    finally:
        one.stop()
        two.stop()
    one.check_clean()
    two.check_clean()


@pytest.mark.skipif(ENGINE != "postgres", reason="a password in the URL: needs MASTHEAD_TEST_DB=postgres://...")
def test_the_database_password_is_never_shown(tmp_path):
    url = db_env(tmp_path / "data")["MASTHEAD_DB"]
    # The test cluster trusts loopback, so any password connects.
    with_pw = url.replace("postgres://postgres@", "postgres://postgres:hunter2-secret@", 1)
    assert with_pw != url
    r = run("migrate", env={"MASTHEAD_DB": with_pw})
    assert r.returncode == 0, r.stderr
    assert "postgres://postgres:***@" in r.stdout
    srv = Server(["serve", "--listen", "127.0.0.1:0"], tmp_path / "data", env={"MASTHEAD_DB": with_pw})
    srv.stop()
    assert "hunter2-secret" not in r.stdout + r.stderr + open(srv.log_path).read()
