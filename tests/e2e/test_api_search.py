"""posts/?search= in the Content API (docs/api.md, "Search"): masthead's own
parameter, through the same search as /search, for an anonymous reader:
the public index, and the gated index only of open articles. A word that
only a paid or members article's gated part holds finds nothing."""
import pytest

from conftest import Server, run

API = "/ghost/api/content/"
SECRET = "vellumquartz"       # only in a paid article's gated part
MEMBERS_SECRET = "ottermarble"  # only in a members article's gated part
OPEN_SECRET = "saffronkite"   # only in a public article's second part, which everyone reads

ARTICLES = {
    "paid": f"""---
title: Quayfarrow schedule talks resume
slug: api-search-paid
dek: The quayfarrow board meets again.
access: paid
tags: [ferries]
authors: [Api Writer]
published_at: 2026-11-20T08:00:00Z
---
The quayfarrow board met on Tuesday.

<!-- paywall -->

Behind the paywall the board's papers say {SECRET}.
""",
    "members": f"""---
title: Quayfarrow riders meet
slug: api-search-members
access: members
published_at: 2026-11-21T08:00:00Z
---
Riders gathered at the quayfarrow landing.

<!-- paywall -->

Members read that the riders chose {MEMBERS_SECRET}.
""",
    "open": f"""---
title: Quayfarrow title first
slug: api-search-open
access: public
published_at: 2026-11-10T08:00:00Z
---
An open teaser.

<!-- paywall -->

The open second part says {OPEN_SECRET}.
""",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    src = tmp_path_factory.mktemp("api-search-src")
    for name, text in ARTICLES.items():
        (src / f"{name}.md").write_text(text)
    for i in range(7):
        (src / f"more{i}.md").write_text(f"""---
title: Harbor note {i}
slug: api-search-note-{i}
access: public
published_at: 2026-10-{i + 1:02d}T08:00:00Z
---
Each harbor note mentions the quayfarrow once.
""")
    data = tmp_path_factory.mktemp("api-search")
    srv = Server(["demo", "--port", "0"], data)
    assert run("import", str(src), data=data).returncode == 0
    r = run("key", "add", "search tests", data=data)
    assert r.returncode == 0, r.stderr
    srv.key = r.stdout.strip()
    yield srv
    srv.stop()
    srv.check_clean()


def search(srv, words, **params):
    r = srv.get(API + "posts/", params={"key": srv.key, "search": words, **params})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def slugs(body):
    return [p["slug"] for p in body["posts"]]


def test_envelope_order_and_pagination(site):
    body = search(site, "quayfarrow", limit=4)
    assert set(body) == {"posts", "meta"}
    assert body["meta"]["pagination"] == {"page": 1, "limit": 4, "pages": 3, "total": 10, "next": 2, "prev": None}
    assert body["meta"]["search"] == {"terms": "quayfarrow", "more": False}
    # Title hits rank first; the post objects are the browse's.
    assert set(slugs(body)[:3]) == {"api-search-paid", "api-search-members", "api-search-open"}
    assert {"id", "uuid", "title", "slug", "html", "excerpt", "visibility", "access", "url"} <= set(body["posts"][0])
    seen = []
    for page in (1, 2, 3):
        seen += slugs(search(site, "quayfarrow", limit=4, page=page))
    assert len(seen) == 10 and len(set(seen)) == 10
    assert search(site, "quayfarrow", limit=4, page=4)["posts"] == []


@pytest.mark.parametrize("word", [SECRET, MEMBERS_SECRET, f"quayfarrow {SECRET}", f"riders {MEMBERS_SECRET}"])
def test_a_gated_only_word_finds_nothing(site, word):
    body = search(site, word)
    assert body["posts"] == [] and body["meta"]["pagination"]["total"] == 0
    assert body["meta"]["pagination"]["pages"] == 1 and body["meta"]["search"]["more"] is False


def test_the_gated_part_of_an_open_article_is_searched(site):
    body = search(site, OPEN_SECRET, formats="html,plaintext")
    assert slugs(body) == ["api-search-open"]
    assert OPEN_SECRET in body["posts"][0]["plaintext"]


def test_gated_posts_found_carry_only_the_teaser(site):
    post = search(site, "quayfarrow board", formats="html,plaintext")["posts"][0]
    assert post["slug"] == "api-search-paid"
    assert SECRET not in post["html"] and SECRET not in post["plaintext"] and post["access"] is False


def test_include_and_fields_apply(site):
    post = search(site, "quayfarrow board", include="tags,authors", fields="slug,title")["posts"][0]
    assert {"slug", "title"} <= set(post) and "html" not in post


@pytest.mark.parametrize("extra", [{"filter": "tag:ferries"}, {"order": "title asc"}])
def test_search_with_filter_or_order_is_400(site, extra):
    r = site.get(API + "posts/", params={"key": site.key, "search": "quayfarrow", **extra})
    assert r.status_code == 400
    assert r.json()["errors"][0]["type"] == "BadRequestError"
    assert "search" in r.json()["errors"][0]["message"]


def test_no_words_and_odd_input(site):
    assert search(site, "!!! ???")["posts"] == []
    assert search(site, '"quayfarrow" OR title:x NEAR(')["posts"] == []
    r = site.get(API + "posts/", params={"search": "quayfarrow"})
    assert r.status_code == 403  # the key is still needed


def test_older_prefix_answers_search(site):
    r = site.get("/ghost/api/v4/content/posts/", params={"key": site.key, "search": "quayfarrow", "limit": 2})
    assert r.status_code == 200 and r.json()["meta"]["pagination"]["total"] == 10
