"""Gated text never leaves the server for a TEASER viewer: a paid article
whose gated part holds a unique marker, then a crawl of every URL the site
serves, as an anonymous reader."""
import json
import re
from urllib.parse import urljoin, urlparse

import pytest

from conftest import run
from members import csrf_of, sign_in

MARKER = "ZQX-GATED-7731"
QUOTE_MARKER = "ZQX-QUOTE-4410"

ARTICLE = f"""---
title: Leak canary
slug: leak-canary
dek: Only the teaser is public.
access: paid
authors: [Canary Writer]
tags: [canary]
published_at: 2026-11-02T08:00:00Z
---
The public teaser of the canary.

> Teaser quote is public.
>
> — Canary Speaker, Spokesperson

<!-- paywall -->

The gated part says {MARKER} here.

> Gated quote holds {QUOTE_MARKER}.
>
> — Canary Speaker, Spokesperson
"""

EXTRA = ["/feed.xml", "/sitemap.xml", "/robots.txt", "/api/v1/articles", "/api/v1/articles/leak-canary",
         "/api/v1/people/canary-speaker", "/search?q=" + MARKER, "/search?q=canary",
         "/search?q=gated+part+says", "/search?q=canary+" + MARKER, "/search?q=" + QUOTE_MARKER,
         "/search?q=teaser+canary&page=1", "/search",
         "/people/canary-speaker", "/tags/canary", "/authors/canary-writer",
         "/tags/canary/feed.xml", "/authors/canary-writer/feed.xml", "/news-sitemap.xml", "/sitemaps/1.xml"]


# The Content API (docs/api.md), under each prefix, with a key made for the crawl.
API_PATHS = ["posts/?include=tags,authors&formats=html,plaintext&limit=all",
             "posts/slug/leak-canary/?formats=html,plaintext&include=tags,authors",
             "posts/?filter=tag:canary&formats=plaintext", "posts/?filter=visibility:paid%2Btag:canary",
             "people/", "people/slug/canary-speaker/", "tags/?include=count.posts", "authors/", "settings/",
             "tiers/", "posts/?search=" + MARKER, "posts/?search=canary+" + MARKER,
             "posts/?search=gated+part+says&formats=html,plaintext", "posts/?search=" + QUOTE_MARKER,
             "posts/?search=canary&formats=html,plaintext"]
API_PREFIXES = ["/ghost/api/content/", "/ghost/api/v3/content/", "/ghost/api/canary/content/", "/api/v1/"]


def api_urls(data):
    r = run("key", "add", "leak crawl", data=data)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    return [prefix + path + ("&" if "?" in path else "?") + "key=" + key
            for prefix in API_PREFIXES for path in API_PATHS]


def crawl(srv, cookies=None, limit=400, extra=()):
    seen, queue, bodies = set(), ["/"] + EXTRA + list(extra), {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        r = srv.get(path, cookies=cookies)
        text = r.text
        bodies[path] = (r.status_code, text, dict(r.headers))
        for href in re.findall(r'(?:href|src)="([^"#]+)"', text):
            url = urlparse(urljoin(srv.url + path, href.replace("&amp;", "&")))
            if url.netloc != f"127.0.0.1:{srv.port}":
                continue
            p = url.path + ("?" + url.query if url.query else "")
            if p not in seen and not p.startswith("/static/"):
                queue.append(p)
    return bodies


def private_feed(srv, session):
    """Makes the member's private feed on the account page; its path."""
    page = session.get(srv.url + "/account", timeout=10).text
    r = session.post(srv.url + "/account/feed", data={"csrf": csrf_of(page)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    m = re.search(r"(/feed/[A-Za-z0-9_-]{43}\.xml)", session.get(srv.url + "/account", timeout=10).text)
    assert m
    return m.group(1)


@pytest.mark.parametrize("who", [None, "reader@demo.test", "lapsed@demo.test"])
def test_marker_never_reaches_readers_without_access(tmp_path, fresh, who):
    (tmp_path / "canary.md").write_text(ARTICLE)
    # Seed the demo first, then add the canary to the same database.
    srv = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    r = run("import", str(tmp_path / "canary.md"), data=tmp_path / "data")
    assert r.returncode == 0, r.stderr
    api = api_urls(tmp_path / "data")
    cookies = None
    if who:
        # A subscriber reads everything first, so every page a signed-in
        # reader can get from a skeleton already has one, full ones included.
        sub, _ = sign_in(srv, "subscriber@demo.test")
        sub_feed = private_feed(srv, sub)
        seen = crawl(srv, sub.cookies, extra=[sub_feed])
        assert MARKER in seen["/articles/leak-canary"][1]
        assert MARKER in seen[sub_feed][1]
        s, r = sign_in(srv, who)
        assert r.status_code == 303
        cookies = s.cookies
        # The reader's own private feed, fetched as a feed reader does (no cookie).
        mine = private_feed(srv, s)
        assert MARKER not in srv.get(mine).text
        extra = [mine]
    else:
        extra = []
    bodies = crawl(srv, cookies, extra=extra + api)
    for path in EXTRA[:3] + ["/tags/canary/feed.xml", "/authors/canary-writer/feed.xml"] + extra:
        assert bodies[path][0] == 200, path
    assert "The public teaser of the canary." in bodies["/feed.xml"][1]
    assert "/articles/leak-canary" in bodies
    assert "/people/canary-speaker" in bodies
    assert len(bodies) > 30
    for path, (status, text, headers) in bodies.items():
        assert MARKER not in text, path
        assert QUOTE_MARKER not in text, path
        assert MARKER not in str(headers), path
    page = bodies["/articles/leak-canary"][1]
    assert "The public teaser of the canary." in page
    # Search: the gated words find nothing, count nothing; the public ones find the teaser.
    for q in (MARKER, "gated+part+says", "canary+" + MARKER, QUOTE_MARKER):
        assert '<p class="search-count" role="status">0 results' in bodies["/search?q=" + q][1], q
    assert '/articles/leak-canary">Leak <mark>canary</mark>' in bodies["/search?q=canary"][1]
    assert "Teaser quote is public." in bodies["/people/canary-speaker"][1]
    assert "Quote available to subscribers" in bodies["/people/canary-speaker"][1]
    # The API answered, with the teaser and the open quote, under every prefix.
    for url in api:
        status, text, _ = bodies[url]
        assert status == 200, (url, text[:300])
        if "posts/slug/leak-canary" in url or "filter=tag:canary" in url:
            assert "The public teaser of the canary." in text, url
        if "people/slug" in url:
            assert "Teaser quote is public." in text, url
        # API search: the gated words find nothing and count nothing.
        if "search=" in url:
            found = json.loads(text)
            slugs = [p["slug"] for p in found["posts"]]
            if "search=canary&" in url:
                assert "leak-canary" in slugs, url
            else:
                assert slugs == [] and found["meta"]["pagination"]["total"] == 0, url


def test_subscriber_reads_the_marker(tmp_path, fresh):
    (tmp_path / "canary.md").write_text(ARTICLE)
    srv = fresh()
    assert run("import", str(tmp_path / "canary.md"), data=tmp_path / "data").returncode == 0
    s, _ = sign_in(srv, "subscriber@demo.test")
    assert MARKER in s.get(srv.url + "/articles/leak-canary", timeout=10).text
    for _ in range(2):  # the second from the subscribers' skeleton of the page
        assert QUOTE_MARKER in s.get(srv.url + "/people/canary-speaker", timeout=10).text
    # The API answers as an anonymous reader whatever cookies come with it.
    for url in api_urls(tmp_path / "data"):
        r = s.get(srv.url + url, timeout=10)
        assert r.status_code == 200, (url, r.text[:300])
        assert MARKER not in r.text and QUOTE_MARKER not in r.text, url
    found = s.get(srv.url + "/search?q=" + MARKER, timeout=10).text
    assert '<p class="search-count" role="status">1 result for' in found
    assert 'href="/articles/leak-canary"' in found and "<mark>7731</mark>" in found
