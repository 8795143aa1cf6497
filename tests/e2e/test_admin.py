"""The newsroom's frame: who may enter /admin and its sections, and the audit
log (docs/newsroom.md). The sections' own tests sit beside it (test_admin_*.py)."""
import re

import pytest

from members import sign_in


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from conftest import Server
    data = tmp_path_factory.mktemp("admin")
    srv = Server(["demo", "--port", "0"], data)
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def test_anonymous_is_sent_to_sign_in(site):
    for path in ("/admin", "/admin/audit"):
        r = site.get(path)
        assert r.status_code == 303, path
        assert r.headers["Location"] == "/signin?next=" + path.replace("/", "%2F")


@pytest.mark.parametrize("who", ["reader@demo.test", "subscriber@demo.test"])
def test_readers_get_403(site, who):
    s, r = sign_in(site, who)
    assert r.status_code == 303
    for path in ("/admin", "/admin/audit"):
        got = s.get(site.url + path, allow_redirects=False, timeout=10)
        assert got.status_code == 403, path
        assert "does not have access" in got.text


def test_an_editor_lands_on_articles_and_not_on_admin_pages(site):
    s, _ = sign_in(site, "editor@demo.test")
    r = s.get(site.url + "/admin", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/articles"
    assert s.get(site.url + "/admin/audit", allow_redirects=False, timeout=10).status_code == 403


def test_an_admin_sees_the_dashboard_with_the_whole_menu(site):
    s, _ = sign_in(site, "admin@demo.test")
    r = s.get(site.url + "/admin", allow_redirects=False, timeout=10)
    assert r.status_code == 200
    assert "no-store" in r.headers["Cache-Control"] and r.headers["X-Frame-Options"] == "DENY"
    assert '<meta name="robots" content="noindex">' in r.text
    for label in ("Dashboard", "Articles", "Members", "Settings", "Audit log"):
        assert f">{label}</a>" in r.text, label
    assert re.search(r'<a href="/admin" aria-current="page">Dashboard</a>', r.text)
    # The demo has an active subscriber: the dashboard counts it.
    assert re.search(r"<dt>Paying subscribers</dt><dd>[1-9]\d*</dd>", r.text), r.text


def test_the_audit_log_lists_account_changes_newest_first(site):
    from conftest import run
    # The command line's account changes are audited like the newsroom's.
    r = run("user", "role", "reader@demo.test", "editor", data=site.data)
    assert r.returncode == 0, r.stderr
    r = run("user", "role", "reader@demo.test", "reader", data=site.data)
    assert r.returncode == 0, r.stderr
    s, _ = sign_in(site, "admin@demo.test")
    page = s.get(site.url + "/admin/audit", timeout=10).text
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    assert rows[:2] == [("command line", "member.role", "reader@demo.test", "reader"),
                        ("command line", "member.role", "reader@demo.test", "editor")], rows
    assert s.get(site.url + "/admin/audit?before=x", timeout=10).status_code == 400
    # A page past the oldest entry is empty, not an error.
    assert "Nothing has been changed" in s.get(site.url + "/admin/audit?before=1", timeout=10).text
