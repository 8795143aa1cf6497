"""Feeds and what search engines read: RSS parsed by a real feed parser
(feedparser) and checked by xmllint; the private feed of each kind of
member; sitemaps validated with xmllint against the schemas in
tests/e2e/schemas/; robots.txt; feed, canonical and card tags on pages."""
import datetime
import os
import re
import subprocess
import warnings
from xml.etree import ElementTree

import pytest
import requests

from conftest import Server, eventually, now, run
from members import csrf_of, sign_in

with warnings.catch_warnings():
    # Debian's feedparser still imports the cgi module, deprecated in 3.11.
    warnings.simplefilter("ignore", DeprecationWarning)
    import feedparser

SCHEMAS = os.path.join(os.path.dirname(__file__), "schemas")
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
MARKER = "ZQX-FEED-GATED-5512"
PAID = "port-pier-9-overnight-cargo"


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def article(slug, title, access, published, body_extra=""):
    return f"""---
title: {title}
slug: {slug}
dek: The dek of {title}.
access: {access}
authors: [Feed Writer]
tags: [feedtest]
published_at: {iso(published)}
---
The opening of {title} & friends *escaped*.

<!-- paywall -->

The gated part of {title} {body_extra}.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("feeds")
    srv = Server(["demo", "--port", "0"], data / "data", env={"MASTHEAD_RATE_LIMIT": "1000"})
    src = data / "src"
    src.mkdir()
    t = now()
    (src / "fresh.md").write_text(article("feed-fresh", "Fresh news", "paid", t - 86400, MARKER))
    (src / "old.md").write_text(article("feed-old", "Older news", "public", t - 3 * 86400))
    (src / "later.md").write_text(article("feed-later", "Scheduled news", "public", t + 86400))
    r = run("import", str(src), data=data / "data")
    assert r.returncode == 0, r.stderr
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def xmllint(tmp_path, text, *args):
    path = tmp_path / "doc.xml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(["xmllint", "--nonet", "--noout", *args, str(path)], capture_output=True, text=True)


def parse_feed(tmp_path, r):
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"].startswith("application/rss+xml")
    lint = xmllint(tmp_path, r.text)
    assert lint.returncode == 0, lint.stderr
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "rss20"
    return feed


def test_site_feed_is_rss_with_teasers_only(site, tmp_path):
    feed = parse_feed(tmp_path, site.get("/feed.xml"))
    assert feed.feed.title == "The Harbor Vale Ledger"
    assert len(feed.entries) == 16  # 14 demo articles and two imported, not the scheduled one
    links = [e.link for e in feed.entries]
    assert links[0] == site.url + "/articles/feed-fresh"
    assert site.url + "/articles/feed-later" not in links
    fresh = feed.entries[0]
    assert fresh.title == "Fresh news"
    assert fresh.author == "Feed Writer"
    assert [t.term for t in fresh.tags] == ["feedtest"]
    body = fresh.content[0].value
    # Escaped once: the reader gets the teaser's HTML back, text and all.
    assert "The opening of Fresh news &amp; friends" in body
    assert "<em>escaped</em>" in body
    assert "This article is for subscribers. Subscribe to read the whole story" in body
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/articles/feed-fresh">Continue reading “Fresh news[^”]*” '
                     r'on the site</a>\.</p>$', body)
    assert "Your payment" not in body and "this feed shows" not in body  # reasons are the private feed's
    assert MARKER not in site.get("/feed.xml").text
    assert "The gated part" not in site.get("/feed.xml").text
    dates = [e.published_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)


def test_feed_etag_and_304(site):
    r = site.get("/feed.xml")
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"].startswith("public")
    again = site.get("/feed.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = site.get("/feed.xml", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    # From the cache now: the same bytes, the same validator and headers.
    assert other.content == r.content
    assert other.headers["ETag"] == etag
    assert other.headers["Content-Type"] == r.headers["Content-Type"]
    assert other.headers["Cache-Control"] == "public, max-age=60"
    assert site.get("/sitemap.xml", headers={"If-None-Match": site.get("/sitemap.xml").headers["ETag"]}) \
        .status_code == 304


def test_feed_follows_an_import(fresh, tmp_path):
    srv = fresh()
    before = srv.get("/feed.xml")
    assert "/articles/feed-new" not in before.text
    (tmp_path / "new.md").write_text(article("feed-new", "Brand new", "public", now() - 60))
    assert run("import", str(tmp_path / "new.md"), data=tmp_path / "data").returncode == 0
    after = eventually(lambda: srv.get("/feed.xml"), lambda r: "/articles/feed-new" in r.text)
    assert "/articles/feed-new" in after.text
    assert after.headers["ETag"] != before.headers["ETag"]
    assert srv.get("/feed.xml", headers={"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_tag_and_author_feeds(site, tmp_path):
    feed = parse_feed(tmp_path, site.get("/tags/feedtest/feed.xml"))
    assert sorted(e.link.rsplit("/", 1)[1] for e in feed.entries) == ["feed-fresh", "feed-old"]
    assert "feedtest" in feed.feed.title
    feed = parse_feed(tmp_path, site.get("/authors/feed-writer/feed.xml"))
    assert len(feed.entries) == 2
    assert site.get("/tags/no-such-tag/feed.xml").status_code == 404
    assert site.get("/authors/nobody/feed.xml").status_code == 404


def test_pages_name_their_feeds(site):
    home = site.get("/").text
    assert f'<link rel="alternate" type="application/rss+xml" title="The Harbor Vale Ledger" ' \
           f'href="{site.url}/feed.xml">' in home
    tag = site.get("/tags/feedtest").text
    assert f'href="{site.url}/feed.xml"' in tag
    assert f'href="{site.url}/tags/feedtest/feed.xml"' in tag
    assert f'href="{site.url}/authors/feed-writer/feed.xml"' in site.get("/authors/feed-writer").text


def test_canonical_and_card_tags_come_from_the_teaser(site):
    page = site.get("/articles/feed-fresh").text
    assert f'<link rel="canonical" href="{site.url}/articles/feed-fresh">' in page
    head = page.split("</head>")[0]
    metas = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)"', head))
    assert metas["og:title"].startswith("Fresh news")
    assert metas["og:description"] == "The dek of Fresh news."
    assert metas["og:type"] == "article"
    assert metas["og:url"] == site.url + "/articles/feed-fresh"
    assert metas["twitter:card"] == "summary"
    assert metas["twitter:title"].startswith("Fresh news")
    assert metas["twitter:description"] == "The dek of Fresh news."
    assert MARKER not in head
    # The paywall JSON-LD is as it was.
    assert '"isAccessibleForFree":false' in head
    assert '"cssSelector":".gated-body"' in head


def make_feed(site, who):
    s, r = sign_in(site, who)
    assert r.status_code == 303
    page = s.get(site.url + "/account", timeout=10).text
    r = s.post(site.url + "/account/feed", data={"csrf": csrf_of(page)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/account?notice=feed")
    page = s.get(site.url + r.headers["Location"], timeout=10).text
    m = re.search(r'value="(http://127\.0\.0\.1:\d+(/feed/[A-Za-z0-9_-]{43}\.xml))"', page)
    assert m, page
    assert "Your private feed address is below" in page
    return s, m.group(2)


def test_private_feed_of_a_subscriber_is_full(site, tmp_path):
    s, path = make_feed(site, "subscriber@demo.test")
    # No cookie: the token alone opens it.
    r = requests.get(site.url + path, timeout=10)
    feed = parse_feed(tmp_path, r)
    assert "private" in r.headers["Cache-Control"]
    assert r.headers["X-Robots-Tag"] == "noindex"
    fresh = next(e for e in feed.entries if e.link.endswith("/feed-fresh"))
    assert MARKER in fresh.content[0].value
    assert "The gated part of Fresh news" in fresh.content[0].value
    assert "for subscribers" not in r.text
    # The same address on the account page each time, and a 304 when unchanged.
    page = s.get(site.url + "/account", timeout=10).text
    assert path in page
    assert requests.get(site.url + path, headers={"If-None-Match": r.headers["ETag"]},
                        timeout=10).status_code == 304
    # The token is a credential: no log line holds it.
    token = path[len("/feed/"):-len(".xml")]
    # Access lines reach the file within a second (the log is buffered).
    log = eventually(site.logs, lambda t: 'path="/feed/TOKEN.xml" status=200' in t, within=15)
    assert token not in log
    assert 'path="/feed/TOKEN.xml" status=200' in log


def test_private_feed_of_a_lapsed_subscriber_is_teasers_with_the_reason(site, tmp_path):
    _, path = make_feed(site, "lapsed@demo.test")
    r = requests.get(site.url + path, timeout=10)
    feed = parse_feed(tmp_path, r)
    assert MARKER not in r.text
    fresh = next(e for e in feed.entries if e.link.endswith("/feed-fresh"))
    body = fresh.content[0].value
    assert "The opening of Fresh news" in body
    assert "The gated part" not in body
    # The paywall box's words: what happened, what to do, where.
    assert "<strong>Your payment did not go through</strong>, so this feed shows only the beginning" in body
    assert "Please make sure the card on file is up to date" in body
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/account/billing">update your card</a>\.', body)
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/articles/feed-fresh">Continue reading “Fresh news[^”]*” '
                     r'on the site</a>\.</p>$', body)
    assert "Your payment did not go through, so this feed shows only the beginning" in feed.feed.description
    # A public article is whole for everyone with a private feed.
    old = next(e for e in feed.entries if e.link.endswith("/feed-old"))
    assert "The gated part of Older news" in old.content[0].value


def test_private_feed_of_a_free_member_says_there_is_no_subscription(site, tmp_path):
    _, path = make_feed(site, "reader@demo.test")
    r = requests.get(site.url + path, timeout=10)
    feed = parse_feed(tmp_path, r)
    assert MARKER not in r.text
    assert "Your account does not include a subscription yet, so this feed shows only the beginning" \
        in feed.feed.description
    fresh = next(e for e in feed.entries if e.link.endswith("/feed-fresh"))
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/subscribe">Subscribe</a> to read them here in full\.',
                     fresh.content[0].value)


def test_renewed_and_revoked_tokens_are_404(site):
    s, old = make_feed(site, "editor@demo.test")
    assert requests.get(site.url + old, timeout=10).status_code == 200
    page = s.get(site.url + "/account", timeout=10).text
    r = s.post(site.url + "/account/feed", data={"csrf": csrf_of(page)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    page = s.get(site.url + "/account", timeout=10).text
    new = re.search(r"(/feed/[A-Za-z0-9_-]{43}\.xml)", page).group(1)
    assert new != old
    assert requests.get(site.url + old, timeout=10).status_code == 404
    assert requests.get(site.url + new, timeout=10).status_code == 200
    r = s.post(site.url + "/account/feed/revoke", data={"csrf": csrf_of(page)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert requests.get(site.url + new, timeout=10).status_code == 404
    page = s.get(site.url + "/account", timeout=10).text
    assert "/feed/" not in page.split('id="feed"')[1].split("</section>")[0]
    assert "Make my private feed" in page


def test_unknown_and_malformed_tokens_are_404(site):
    for path in ["/feed/" + "A" * 43 + ".xml", "/feed/short.xml", "/feed/" + "A" * 43, "/feed/" + "A" * 44 + ".xml",
                 "/feed/%3Cscript%3E.xml"]:
        r = site.get(path)
        assert r.status_code == 404, path
        assert "A" * 43 not in r.text, path
        assert "<script>.xml" not in r.text and "&lt;script&gt;" not in r.text


def test_feed_token_forms_need_csrf_and_a_session(site):
    s, _ = sign_in(site, "subscriber@demo.test")
    assert s.post(site.url + "/account/feed", data={}, allow_redirects=False, timeout=10).status_code == 403
    assert s.post(site.url + "/account/feed/revoke", data={"csrf": "x" * 43}, allow_redirects=False,
                  timeout=10).status_code == 403
    r = requests.post(site.url + "/account/feed", data={}, allow_redirects=False, timeout=10)
    assert r.status_code in (401, 403)


def locs(text):
    return [e.text for e in ElementTree.fromstring(text.encode()).iter(SM + "loc")]


def test_sitemap_lists_every_page_and_validates(site, tmp_path):
    r = site.get("/sitemap.xml")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/xml")
    lint = xmllint(tmp_path, r.text, "--schema", os.path.join(SCHEMAS, "sitemap.xsd"))
    assert lint.returncode == 0, lint.stderr
    urls = locs(r.text)
    assert urls[0] == site.url + "/"
    paths = {u[len(site.url):] for u in urls}
    assert "/articles/feed-fresh" in paths and "/articles/" + PAID in paths
    assert "/articles/feed-later" not in paths
    assert "/tags/feedtest" in paths and "/authors/feed-writer" in paths
    assert sum(p.startswith("/articles/") for p in paths) == 16
    assert any(p.startswith("/people/") for p in paths)
    assert len(urls) == len(paths)
    assert site.get("/sitemaps/1.xml").text == r.text
    assert site.get("/sitemaps/2.xml").status_code == 404
    assert site.get("/sitemaps/x.xml").status_code == 404


def test_news_sitemap_holds_the_last_two_days(site, tmp_path):
    r = site.get("/news-sitemap.xml")
    lint = xmllint(tmp_path, r.text, "--schema", os.path.join(SCHEMAS, "sitemap.xsd"))
    assert lint.returncode == 0, lint.stderr
    root = ElementTree.fromstring(r.content)
    urls = root.findall(SM + "url")
    assert [u.find(SM + "loc").text for u in urls] == [site.url + "/articles/feed-fresh"]
    news = urls[0].find(NEWS + "news")
    assert news.find(NEWS + "title").text == "Fresh news"
    assert news.find(NEWS + "publication/" + NEWS + "name").text == "The Harbor Vale Ledger"


def test_schema_refuses_a_broken_sitemap(tmp_path):
    """The schemas check something: a url without loc fails them."""
    bad = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           "<url><lastmod>2026-01-01</lastmod></url></urlset>")
    assert xmllint(tmp_path, bad, "--schema", os.path.join(SCHEMAS, "sitemap.xsd")).returncode != 0


def test_large_sitemap_becomes_an_index(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_SITEMAP_URLS": "7"})
    try:
        small = Server(["demo", "--port", "0"], tmp_path / "data2")
        try:
            everything = locs(small.get("/sitemap.xml").text)
        finally:
            small.stop()
        r = srv.get("/sitemap.xml")
        lint = xmllint(tmp_path, r.text, "--schema", os.path.join(SCHEMAS, "sitemap.xsd"))
        assert lint.returncode == 0, lint.stderr
        root = ElementTree.fromstring(r.content)
        assert root.tag == SM + "sitemapindex"
        files = locs(r.text)
        assert files[-1] == srv.url + "/news-sitemap.xml"
        parts = files[:-1]
        assert len(parts) == (len(everything) + 6) // 7
        got = []
        for f in parts:
            page = srv.get(f[len(srv.url):])
            assert page.status_code == 200
            lint = xmllint(tmp_path, page.text, "--schema", os.path.join(SCHEMAS, "sitemap.xsd"))
            assert lint.returncode == 0, lint.stderr
            got += locs(page.text)
            assert len(locs(page.text)) <= 7
        assert [u.replace(srv.url, "") for u in got] == [u.replace(small.url, "") for u in everything]
        assert srv.get(f"/sitemaps/{len(parts) + 1}.xml").status_code == 404
        assert srv.get("/sitemaps/0.xml").status_code == 404
    finally:
        srv.stop()


def test_sitemap_size_setting_is_bounded(tmp_path):
    r = run("serve", "--sitemap-urls", "0", "--listen", "127.0.0.1:0", data=tmp_path / "d")
    assert r.returncode != 0
    assert "sitemap-urls" in r.stderr


def test_robots_points_at_the_sitemaps(site):
    r = site.get("/robots.txt")
    assert r.status_code == 200
    lines = r.text.splitlines()
    assert "Allow: /" in lines
    assert "Disallow: /feed/" in lines
    assert f"Sitemap: {site.url}/sitemap.xml" in lines
    assert f"Sitemap: {site.url}/news-sitemap.xml" in lines
