"""The newsroom's articles (docs/newsroom.md, "Articles"): who may use them,
drafts kept apart from what readers read, publishing through the importer's
parser, previews as both readers, scheduling (once, on any node), revisions,
autosave and private preview links."""
import datetime
import html
import re
import time

import pytest
import requests

from conftest import Server, now, run
from members import csrf_of, sign_in
from storefix import Store

BODY = ("The council voted 7-2 on Tuesday to fund the new ferry.\n\n"
        "> We will have boats on the water by spring.\n>\n> \u2014 Ana Ruiz, Transport Commissioner\n\n"
        "<!-- paywall -->\n\n"
        "GATEDWORD The money comes from the harbour levy, which rises next year.\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("articles")
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_PUBLISH_INTERVAL": "1"})
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


@pytest.fixture(scope="module")
def editor(site):
    s, r = sign_in(site, "editor@demo.test")
    assert r.status_code == 303
    return s


def csrf(site, s):
    return csrf_of(s.get(site.url + "/admin/articles/new", timeout=10).text)


def fields(title, **kw):
    f = {"title": title, "slug": "", "dek": "A one-line summary.", "access": "paid", "authors": "Editor",
         "tags": "City Hall", "publish_at": "", "feature_image": "", "feature_image_alt": "", "body": BODY}
    f.update(kw)
    return f


def post(site, s, path, data, token=None):
    data = dict(data)
    data["csrf"] = token or csrf(site, s)
    return s.post(site.url + path, data=data, allow_redirects=False, timeout=30)


def create(site, s, title, action="save", **kw):
    r = post(site, s, "/admin/articles/new", dict(fields(title, **kw), action=action))
    assert r.status_code == 303, r.text[:2000]
    m = re.match(r"/admin/articles/(\d+)\?done=", r.headers["Location"])
    assert m, r.headers["Location"]
    return int(m.group(1))


def version(site):
    with Store.of_data(site.data) as st:
        return st.value("SELECT version FROM content_version")


def anon(site, path):
    return requests.get(site.url + path, allow_redirects=False, timeout=10)


GETS = ["/admin/articles", "/admin/articles/new", "/admin/articles/1", "/admin/articles/1/preview",
        "/admin/articles/1/revisions", "/admin/articles/1/revisions/1"]
POSTS = ["/admin/articles/new", "/admin/articles/1", "/admin/articles/1/autosave", "/admin/articles/1/share",
         "/admin/articles/1/revisions/1/restore"]


def test_anonymous_is_sent_to_sign_in(site):
    for path in GETS:
        r = anon(site, path)
        assert r.status_code == 303 and r.headers["Location"].startswith("/signin?next="), path
    # A form sent without a session is refused outright (nothing to come back to).
    for path in POSTS:
        r = requests.post(site.url + path, data={"title": "x"}, allow_redirects=False, timeout=10)
        assert r.status_code == 401, path


@pytest.mark.parametrize("who", ["reader@demo.test", "subscriber@demo.test"])
def test_readers_get_403_everywhere(site, who):
    s, _ = sign_in(site, who)
    token = csrf_of(s.get(site.url + "/account", timeout=10).text)
    for path in GETS:
        assert s.get(site.url + path, allow_redirects=False, timeout=10).status_code == 403, path
    for path in POSTS:
        r = s.post(site.url + path, data={"csrf": token, "title": "x", "action": "save"}, allow_redirects=False,
                   timeout=10)
        assert r.status_code == 403, path


def test_forms_need_the_csrf_token(site, editor):
    before = editor.get(site.url + "/admin/articles?q=Forged", timeout=10).text
    assert "0 articles match" in before
    r = editor.post(site.url + "/admin/articles/new", data=dict(fields("Forged story"), action="save"),
                    allow_redirects=False, timeout=10)
    assert r.status_code == 403
    r = editor.post(site.url + "/admin/articles/new", data=dict(fields("Forged story"), action="save", csrf="x" * 43),
                    allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert "0 articles match" in editor.get(site.url + "/admin/articles?q=Forged", timeout=10).text


def test_the_list_shows_the_demo_articles_and_filters_them(site, editor):
    page = editor.get(site.url + "/admin/articles", timeout=10).text
    assert "New article" in page
    total = int(re.search(r"(\d+) articles", page).group(1))
    assert total >= 12
    paid = editor.get(site.url + "/admin/articles?access=paid&status=published", timeout=10).text
    n_paid = int(re.search(r"(\d+) articles? match", paid).group(1))
    assert 0 < n_paid < total
    assert "status-published" in paid and "status-draft" not in paid
    # Paging: 25 a page, the next page's link keeps the filters.
    if total > 25:
        assert 'href="/admin/articles?page=2"' in page
    assert editor.get(site.url + "/admin/articles?status=nope", timeout=10).status_code == 400
    assert editor.get(site.url + "/admin/articles?page=0", timeout=10).status_code == 400
    # Search by title: LIKE's wildcards are literal.
    assert "0 articles match" in editor.get(site.url + "/admin/articles?q=%25%25", timeout=10).text


def test_the_list_pages_through_25_at_a_time(site, editor):
    token = csrf(site, editor)
    for i in range(26):
        r = post(site, editor, "/admin/articles/new", dict(fields(f"Paging draft {i:02d}"), action="save"), token)
        assert r.status_code == 303
    first = editor.get(site.url + "/admin/articles?q=Paging+draft&status=draft", timeout=10).text
    assert "26 articles match" in first
    rows = re.findall(r">Paging draft (\d\d)</a>", first)
    assert len(rows) == 25 and rows[0] == "25"  # the newest change first
    nxt = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert nxt and html.unescape(nxt.group(1)) == "/admin/articles?status=draft&q=Paging%20draft&page=2"
    second = editor.get(site.url + html.unescape(nxt.group(1)), timeout=10).text
    assert re.findall(r">Paging draft (\d\d)</a>", second) == ["00"]
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_bad_input_is_named_next_to_its_field_and_nothing_is_saved(site, editor):
    r = post(site, editor, "/admin/articles/new", dict(fields("", body="x"), action="save"))
    assert r.status_code == 422
    assert 'id="f-title-error">Give the article a title.' in r.text
    r = post(site, editor, "/admin/articles/new",
             dict(fields("Bad fields story", slug="Not A Slug", feature_image="javascript:alert(1)"), action="save"))
    assert r.status_code == 422
    assert 'id="f-slug-error"' in r.text and 'id="f-image-error"' in r.text
    # The values come back, escaped.
    assert 'value="Bad fields story"' in r.text
    assert "0 articles match" in editor.get(site.url + "/admin/articles?q=Bad+fields", timeout=10).text
    # A slug another article has is refused.
    create(site, editor, "Slug owner story", slug="slug-owner")
    r = post(site, editor, "/admin/articles/new", dict(fields("Another one", slug="slug-owner"), action="save"))
    assert r.status_code == 422 and "Another article already uses this slug" in r.text
    # Publishing checks the text as the importer would, and says where.
    r = post(site, editor, "/admin/articles/new", dict(fields("Unusable author", authors="!!!"), action="publish"))
    assert r.status_code == 422 and re.search(r'id="f-authors-error">[^<]*&#39;authors&#39;', r.text), r.text[-3000:]
    assert anon(site, "/articles/unusable-author").status_code == 404
    # Scheduling needs a time to come.
    r = post(site, editor, "/admin/articles/new", dict(fields("Schedule in the past"), action="schedule",
                                                       publish_at="2001-01-01T00:00"))
    assert r.status_code == 422 and 'id="f-publish-at-error"' in r.text


def test_a_draft_and_its_autosave_leave_readers_and_their_cache_alone(site, editor):
    anon(site, "/")
    assert anon(site, "/").headers.get("X-Cache") == "hit"
    v0 = version(site)
    sid = create(site, editor, "Quiet draft about the harbour")
    token = csrf(site, editor)
    r = post(site, editor, f"/admin/articles/{sid}/autosave", fields("Quiet draft, autosaved", body="New text."),
             token)
    assert r.status_code == 200 and r.json()["saved_at"].endswith("UTC")
    assert version(site) == v0
    assert anon(site, "/").headers.get("X-Cache") == "hit"
    assert anon(site, "/articles/quiet-draft-about-the-harbour").status_code == 404
    assert "Quiet draft" not in anon(site, "/search?q=harbour+quiet").text
    # The autosave is kept, without a revision of its own.
    page = editor.get(site.url + f"/admin/articles/{sid}", timeout=10).text
    assert 'value="Quiet draft, autosaved"' in page and "New text." in page
    revs = editor.get(site.url + f"/admin/articles/{sid}/revisions", timeout=10).text
    assert len(re.findall(r">Revision \d+</a>", revs)) == 1
    # Autosave checks the fields like a save, and saves nothing when one is wrong.
    r = post(site, editor, f"/admin/articles/{sid}/autosave", fields(""), token)
    assert r.status_code == 422 and "title" in r.json()["error"]
    r = editor.post(site.url + f"/admin/articles/{sid}/autosave", data=fields("No token"), timeout=10)
    assert r.status_code == 403
    assert 'value="Quiet draft, autosaved"' in editor.get(site.url + f"/admin/articles/{sid}", timeout=10).text


def test_a_form_older_than_the_story_is_not_saved_over_it(site, editor):
    sid = create(site, editor, "Two tabs story")

    def base_of(text):
        return re.search(r'name="base_updated" value="(\d+)"', text).group(1)

    page = editor.get(site.url + f"/admin/articles/{sid}", timeout=10).text
    token, base = csrf_of(page), base_of(page)
    time.sleep(1.1)  # times are kept to the second
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Saved by the other tab"), action="save",
                                                           base_updated=base), token)
    assert r.status_code == 303
    # The first tab still holds the old version: refused, its text kept in the form.
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Saved by the first tab"), action="save",
                                                           base_updated=base), token)
    assert r.status_code == 409 and "was changed since you opened it (by editor@demo.test" in r.text
    assert 'value="Saved by the first tab"' in r.text
    r2 = post(site, editor, f"/admin/articles/{sid}/autosave", dict(fields("Autosaved by the first tab"),
                                                                    base_updated=base), token)
    assert r2.status_code == 409 and "changed elsewhere" in r2.json()["error"]
    with Store.of_data(site.data) as st:
        assert st.value("SELECT title FROM newsroom_articles WHERE id = ?", sid) == "Saved by the other tab"
    # Saving again from the refused form is a choice, and it is kept.
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Saved by the first tab"), action="save",
                                                           base_updated=base_of(r.text)), token)
    assert r.status_code == 303
    # An autosave answers the version the next save is over.
    page = editor.get(site.url + f"/admin/articles/{sid}", timeout=10).text
    time.sleep(1.1)
    r = post(site, editor, f"/admin/articles/{sid}/autosave", dict(fields("Autosaved once"),
                                                                   base_updated=base_of(page)), token)
    assert r.status_code == 200
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Saved after the autosave"), action="save",
                                                           base_updated=r.json()["base_updated"]), token)
    assert r.status_code == 303


def test_preview_as_both_readers(site, editor):
    sid = create(site, editor, "Ferry funding brief for preview")
    sub = editor.get(site.url + f"/admin/articles/{sid}/preview?as=subscriber", timeout=10)
    assert sub.status_code == 200 and "no-store" in sub.headers["Cache-Control"]
    assert "GATEDWORD" in sub.text and "paywall-title" not in sub.text
    assert "<blockquote" in sub.text and "Ana Ruiz" in sub.text
    assert '<meta name="robots" content="noindex">' in sub.text
    an = editor.get(site.url + f"/admin/articles/{sid}/preview?as=anonymous", timeout=10)
    assert an.status_code == 200
    assert "GATEDWORD" not in an.text and "harbour levy" not in an.text
    assert "This article is for subscribers" in an.text and "Ana Ruiz" in an.text
    assert "as an anonymous reader" in an.text
    assert editor.get(site.url + f"/admin/articles/{sid}/preview?as=ghost", timeout=10).status_code == 400
    assert editor.get(site.url + "/admin/articles/999999/preview", timeout=10).status_code == 404


def test_publish_unpublish_archive_restore_on_every_channel(site, editor):
    r = run("key", "add", "articles test", data=site.data)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    sid = create(site, editor, "Ferry levy story goes live", tags="Transport")
    slug = "ferry-levy-story-goes-live"
    token = csrf(site, editor)
    v0 = version(site)
    t0 = time.monotonic()
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Ferry levy story goes live", tags="Transport"),
                                                           action="publish"), token)
    assert r.status_code == 303 and r.headers["Location"].endswith("done=published")
    # The time to publish: from the Publish POST to the first anonymous reader seeing it.
    while anon(site, f"/articles/{slug}").status_code != 200:
        assert time.monotonic() - t0 < 5
        time.sleep(0.01)
    print(f"\ntime to publish: {(time.monotonic() - t0) * 1000:.1f} ms (POST included)")
    assert version(site) > v0
    page = anon(site, f"/articles/{slug}").text
    assert "GATEDWORD" not in page and "Ana Ruiz" in page
    # Quotes and speakers, as with masthead import.
    assert "Ana Ruiz" in anon(site, "/people/ana-ruiz").text

    def everywhere():
        return {
            "page": anon(site, f"/articles/{slug}").status_code == 200,
            "front": slug in anon(site, "/").text,
            "feed": slug in anon(site, "/feed.xml").text,
            "sitemap": slug in anon(site, "/sitemap.xml").text + anon(site, "/news-sitemap.xml").text,
            "search": slug in anon(site, "/search?q=ferry+levy+story").text,
            "api": slug in anon(site, f"/ghost/api/content/posts/?key={key}&limit=all").text,
        }
    assert all(everywhere().values()), everywhere()
    r = post(site, editor, f"/admin/articles/{sid}", {"action": "unpublish"}, token)
    assert r.status_code == 303 and r.headers["Location"].endswith("done=unpublished")
    assert not any(everywhere().values()), everywhere()
    assert "Ferry levy story goes live" in editor.get(site.url + "/admin/articles?status=draft", timeout=10).text
    # Published again, then archived: gone again; restored: a draft, still not public.
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Ferry levy story goes live", tags="Transport"),
                                                           action="publish"), token)
    assert r.status_code == 303 and anon(site, f"/articles/{slug}").status_code == 200
    r = post(site, editor, f"/admin/articles/{sid}", {"action": "archive"}, token)
    assert r.status_code == 303 and not any(everywhere().values())
    assert "Ferry levy story goes live" in editor.get(site.url + "/admin/articles?status=archived", timeout=10).text
    r = post(site, editor, f"/admin/articles/{sid}", {"action": "restore"}, token)
    assert r.status_code == 303 and r.headers["Location"].endswith("done=restored")
    assert anon(site, f"/articles/{slug}").status_code == 404
    assert post(site, editor, f"/admin/articles/{sid}", {"action": "restore"}, token).status_code == 409
    # Every change is in the audit log.
    admin, _ = sign_in(site, "admin@demo.test")
    audit = admin.get(site.url + "/admin/audit", timeout=10).text
    for action in ("article.create", "article.publish", "article.unpublish", "article.archive", "article.restore"):
        assert f"<td>{action}</td><td>{slug}</td>" in audit, action


def test_revisions_show_a_diff_and_restore(site, editor):
    sid = create(site, editor, "Revision story", body="First line.\n\nSecond <b>line</b>.\n")
    token = csrf(site, editor)
    r = post(site, editor, f"/admin/articles/{sid}", dict(fields("Revision story", body="First line.\n\nThird line.\n"),
                                                           action="save"), token)
    assert r.status_code == 303
    revs = editor.get(site.url + f"/admin/articles/{sid}/revisions", timeout=10).text
    numbers = [int(n) for n in re.findall(r">Revision (\d+)</a>", revs)]
    assert len(numbers) == 2 and numbers[0] > numbers[1]
    diff = editor.get(site.url + f"/admin/articles/{sid}/revisions/{numbers[1]}", timeout=10).text
    assert '<span class="diff-del"><del>- Second &lt;b&gt;line&lt;/b&gt;.</del></span>' in diff
    assert '<span class="diff-add"><ins>+ Third line.</ins></span>' in diff
    assert '<span class="diff-same">  First line.</span>' in diff
    # Another story's revision is not this one's.
    other = create(site, editor, "Someone else's story")
    assert editor.get(site.url + f"/admin/articles/{other}/revisions/{numbers[1]}", timeout=10).status_code == 404
    r = post(site, editor, f"/admin/articles/{sid}/revisions/{numbers[1]}/restore", {}, token)
    assert r.status_code == 303 and r.headers["Location"].endswith("done=reverted")
    page = editor.get(site.url + f"/admin/articles/{sid}", timeout=10).text
    assert "Second &lt;b&gt;line&lt;/b&gt;." in page and "Third line." not in page
    revs = editor.get(site.url + f"/admin/articles/{sid}/revisions", timeout=10).text
    assert f"restored revision {numbers[1]}" in revs
    same = editor.get(site.url + f"/admin/articles/{sid}/revisions/{numbers[1]}", timeout=10).text
    assert "This revision is the same as the article now." in same


def test_a_private_preview_link_works_without_an_account_until_it_expires(site, editor, tmp_path):
    sid = create(site, editor, "Shared draft story")
    r = post(site, editor, f"/admin/articles/{sid}/share", {})
    assert r.status_code == 200
    link = re.search(r'value="(http://[^"]+/preview/([A-Za-z0-9_-]{43}))"', r.text)
    assert link, r.text
    got = anon(site, "/preview/" + link.group(2))
    assert got.status_code == 200 and "GATEDWORD" in got.text and "no-store" in got.headers["Cache-Control"]
    assert "Back to the editor" not in got.text
    got = anon(site, "/preview/" + link.group(2) + "?as=anonymous")
    assert got.status_code == 200 and "GATEDWORD" not in got.text
    assert anon(site, "/preview/" + "A" * 43).status_code == 404
    # Only the hash is stored.
    with Store.of_data(site.data) as st:
        assert st.value("SELECT count(*) FROM newsroom_previews WHERE token_hash = ?", link.group(2)) == 0
    # Eight days later (a node whose clock is ahead), the link no longer works.
    later = Server(["serve", "--listen", "127.0.0.1:0"], site.data,
                   env={"MASTHEAD_CLOCK_OFFSET": str(int(now() - time.time()) + 8 * 86400),
                        "MASTHEAD_PUBLISH_INTERVAL": "0"}, log_name="later.log")
    try:
        assert later.get("/preview/" + link.group(2)).status_code == 404
    finally:
        later.stop()


def test_a_scheduled_article_goes_live_once_at_its_time_on_any_node(site, editor):
    # A second node on the same database, its scheduler running too.
    other = Server(["serve", "--listen", "127.0.0.1:0"], site.data, env={"MASTHEAD_PUBLISH_INTERVAL": "1"},
                   log_name="other.log")
    try:
        when = datetime.datetime.fromtimestamp(int(now()) + 3, datetime.timezone.utc)
        sid = create(site, editor, "Scheduled ferry brief", action="schedule",
                     publish_at=when.strftime("%Y-%m-%dT%H:%M:%S"))
        slug = "scheduled-ferry-brief"
        page = editor.get(site.url + f"/admin/articles/{sid}", timeout=10).text
        assert "status-scheduled" in page, re.findall(r"admin-status.*", page)
        assert anon(site, f"/articles/{slug}").status_code == 404
        deadline = time.monotonic() + 15
        while anon(site, f"/articles/{slug}").status_code != 200:
            assert time.monotonic() < deadline, "not published within 15 s"
            time.sleep(0.1)
        assert now() >= when.timestamp()
        assert other.get(f"/articles/{slug}").status_code == 200
        time.sleep(2.5)  # both schedulers ran again since
        with Store.of_data(site.data) as st:
            assert st.value("SELECT count(*) FROM newsroom_revisions WHERE newsroom_id = ? AND "
                            "note = 'published as scheduled'", sid) == 1
            assert st.value("SELECT count(*) FROM articles WHERE slug = ?", slug) == 1
            assert st.value("SELECT status FROM newsroom_articles WHERE id = ?", sid) == "published"
        admin, _ = sign_in(site, "admin@demo.test")
        audit = admin.get(site.url + "/admin/audit", timeout=10).text
        assert audit.count(f"<td>scheduler</td><td>article.publish</td><td>{slug}</td>") == 1
        logs = site.logs() + other.logs()
        assert logs.count(f"published as scheduled") == 1, logs[-3000:]
    finally:
        other.stop()
        other.check_clean()


def test_a_publish_that_fails_before_its_commit_leaves_nothing_behind(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_FAULTS": "publish-fail-before-commit"})
    try:
        s, _ = sign_in(srv, "editor@demo.test")
        sid = create(srv, s, "Half published story")
        with Store.of_data(tmp_path / "data") as st:
            v0 = st.value("SELECT version FROM content_version")
        r = post(srv, s, f"/admin/articles/{sid}", dict(fields("Half published story"), action="publish"))
        assert r.status_code == 500 and "Not published" in r.text
        # The form comes back as it was sent, still a draft.
        assert 'value="Half published story"' in r.text and "status-draft" in r.text
        assert anon(srv, "/articles/half-published-story").status_code == 404
        with Store.of_data(tmp_path / "data") as st:
            assert st.value("SELECT version FROM content_version") == v0
            assert st.value("SELECT count(*) FROM articles WHERE slug = 'half-published-story'") == 0
            assert st.value("SELECT status FROM newsroom_articles WHERE id = ?", sid) == "draft"
            assert st.value("SELECT count(*) FROM newsroom_revisions WHERE newsroom_id = ?", sid) == 1
    finally:
        srv.stop()
