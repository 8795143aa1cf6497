"""Search (issue 14, docs/search.md): /search?q= ranks title hits first,
pages, and never lets a word that only the gated part holds find anything,
or show in a snippet, a count or an order, for a reader without access."""
import re

import pytest

from conftest import Server, eventually, run
from members import sign_in

PAID_SECRET = "zebrafrost"     # only in the paid article's gated part
MEMBERS_SECRET = "quillmarsh"  # only in the members article's gated part
AUTO_SECRET = "tundraplume"    # only in an old public article's gated part

PAID = f"""---
title: The night shift at the lighthouse
slug: search-paid
dek: Keepers still climb the stairs.
access: paid
authors: [Search Writer]
published_at: 2026-11-20T08:00:00Z
---
The public teaser about the lighthouse keepers.

<!-- paywall -->

Behind the paywall the keepers talk about {PAID_SECRET} and the fog.
"""

MEMBERS = f"""---
title: Members hear the harbor choir
slug: search-members
access: members
published_at: 2026-11-21T08:00:00Z
---
The choir sings on Sundays.

<!-- paywall -->

The members-only part names {MEMBERS_SECRET} as the choir's new tune.
"""

# Published long before the clock: with --auto-paywall-days 365 it is paid.
OLD_PUBLIC = f"""---
title: An old public story
slug: search-old-public
access: public
published_at: 2024-01-10T08:00:00Z
---
An old teaser.

<!-- paywall -->

Its second part mentions {AUTO_SECRET}.
"""

TITLE_HIT = """---
title: Lumenwick festival returns
slug: search-title-hit
access: public
published_at: 2026-11-01T08:00:00Z
---
The festival comes back to the waterfront this winter.
"""

# Newer than the title hit, so a date order would put it first.
BODY_HIT = """---
title: Council notes for the week
slug: search-body-hit
access: public
published_at: 2026-11-25T08:00:00Z
---
Among other business the council approved a lumenwick permit for the pier.
"""


def paging_article(i):
    return f"""---
title: Tide table number {i}
slug: search-page-{i:02d}
access: public
published_at: 2026-10-{i + 1:02d}T08:00:00Z
---
Every tide table here mentions the word mooncalf once.
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    src = tmp_path_factory.mktemp("search-src")
    for name, text in [("paid", PAID), ("members", MEMBERS), ("old", OLD_PUBLIC), ("title", TITLE_HIT),
                       ("body", BODY_HIT)] + [(f"page{i}", paging_article(i)) for i in range(13)]:
        (src / f"{name}.md").write_text(text)
    data = tmp_path_factory.mktemp("search-data")
    server = Server(["demo", "--port", "0", "--auto-paywall-days", "365"], data,
                    env={"MASTHEAD_RATE_LIMIT": "1000"})
    r = run("import", str(src), data=data)
    assert r.returncode == 0, r.stderr
    yield server
    server.stop()
    server.check_clean()


def results(html):
    """The result slugs in order, and the count line's number."""
    slugs = re.findall(r'<li class="search-result">\s*<h2 class="card-title"><a href="/articles/([a-z0-9-]+)"', html)
    m = re.search(r'<p class="search-count" role="status">(\d+) results?', html)
    return slugs, int(m.group(1)) if m else None


def session_for(srv, who):
    if who is None:
        return None
    s, r = sign_in(srv, who)
    assert r.status_code == 303, r.text
    return s


def get(srv, s, path):
    r = s.get(srv.url + path, allow_redirects=False, timeout=10) if s else srv.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return r.text


WHO = {"anonymous": None, "free member": "reader@demo.test", "lapsed subscriber": "lapsed@demo.test",
       "active subscriber": "subscriber@demo.test"}


@pytest.mark.parametrize("kind", list(WHO))
def test_a_paid_gated_word_finds_nothing_without_access(srv, kind):
    s = session_for(srv, WHO[kind])
    html = get(srv, s, "/search?q=" + PAID_SECRET)
    slugs, total = results(html)
    if kind == "active subscriber":
        assert slugs == ["search-paid"] and total == 1
        assert f"<mark>{PAID_SECRET}</mark>" in html
    else:
        assert slugs == [] and total == 0
        assert "search-paid" not in html
        assert "<mark>" not in html
        assert "the fog" not in html and "keepers talk" not in html
    # Two words: the public one alone would match; with the secret, only a
    # reader who may search the gated part finds it, and the count agrees.
    slugs, total = results(get(srv, s, f"/search?q=lighthouse+{PAID_SECRET}"))
    assert (slugs, total) == ((["search-paid"], 1) if kind == "active subscriber" else ([], 0))
    # The public words find it for everyone, with a snippet from the teaser.
    html = get(srv, s, "/search?q=lighthouse")
    assert results(html) == (["search-paid"], 1)
    assert "<mark>lighthouse</mark>" in html


@pytest.mark.parametrize("kind", list(WHO))
def test_a_members_gated_word_needs_an_account(srv, kind):
    s = session_for(srv, WHO[kind])
    slugs, total = results(get(srv, s, "/search?q=" + MEMBERS_SECRET))
    if kind == "anonymous":
        assert (slugs, total) == ([], 0)
    else:
        # Any signed-in member reads a members article by right.
        assert (slugs, total) == (["search-members"], 1)


@pytest.mark.parametrize("kind", ["anonymous", "free member", "active subscriber"])
def test_the_auto_paywall_closes_the_gated_index(srv, kind):
    s = session_for(srv, WHO[kind])
    slugs, total = results(get(srv, s, "/search?q=" + AUTO_SECRET))
    assert (slugs, total) == ((["search-old-public"], 1) if kind == "active subscriber" else ([], 0))


def test_a_title_hit_ranks_above_a_body_hit(srv):
    slugs, total = results(get(srv, None, "/search?q=lumenwick"))
    assert slugs == ["search-title-hit", "search-body-hit"] and total == 2
    html = get(srv, None, "/search?q=Lumenwick")
    assert '<a href="/articles/search-title-hit"><mark>Lumenwick</mark> festival returns</a>' in html


def test_paging(srv):
    first = get(srv, None, "/search?q=mooncalf")
    slugs1, total = results(first)
    assert total == 13 and len(slugs1) == 10
    assert "page 1 of 2" in first
    nxt = re.search(r'<a class="pager-next" rel="next" href="([^"]+)">', first).group(1)
    assert nxt == "/search?q=mooncalf&amp;page=2"
    second = get(srv, None, "/search?q=mooncalf&page=2")
    slugs2, total2 = results(second)
    assert total2 == 13 and len(slugs2) == 3
    assert not set(slugs1) & set(slugs2)
    assert len(set(slugs1 + slugs2)) == 13
    assert 'rel="prev" href="/search?q=mooncalf"' in second
    assert 'start="11"' in second
    # Equal ranks: the newest first.
    assert slugs1[0] == "search-page-12" and slugs2[-1] == "search-page-00"
    assert srv.get("/search?q=mooncalf&page=3").status_code == 404


@pytest.mark.parametrize("q", ["", "   ", "%22", "%22%28NEAR%2A%29%22", "AND+OR+NOT", "*", "%00", "%FF%FE",
                               "a" * 300, "-" * 2000, "title%3Alumenwick", "%E2%80%94", "lumenwick%22+OR+%22x"])
def test_any_input_gets_a_page_not_an_error(srv, q):
    r = srv.get("/search?q=" + q)
    assert r.status_code == 200, r.text[:500]
    assert '<form class="search-form" method="get" action="/search" role="search">' in r.text
    assert '<label for="search-q">' in r.text


def test_the_query_language_is_not_the_engines(srv):
    # Operators are words here: "lumenwick OR zzz" asks for both words.
    assert results(get(srv, None, "/search?q=lumenwick+OR+zzzq")) == ([], 0)
    # A column filter is two words, not a filter.
    assert results(get(srv, None, "/search?q=title%3Acouncil"))[1] == 0
    # Punctuation separates words as the index does.
    assert results(get(srv, None, "/search?q=lumenwick%21%21"))[0] == ["search-title-hit", "search-body-hit"]


def test_empty_query_shows_the_form(srv):
    html = get(srv, None, "/search")
    assert 'class="search-count"' not in html and "search-result" not in html
    assert '<meta name="robots" content="noindex">' in html


def test_every_page_links_to_search(srv):
    assert '<a class="search-link" href="/search">Search</a>' in get(srv, None, "/")


def test_cache_headers(srv):
    assert "public" in srv.get("/search?q=lumenwick").headers["Cache-Control"]
    s = session_for(srv, "subscriber@demo.test")
    r = s.get(srv.url + "/search?q=lumenwick", timeout=10)
    assert r.headers["Cache-Control"] == "private, no-store"


def test_reimport_and_the_index_follows(tmp_path, fresh):
    srv2 = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    data = tmp_path / "data"
    (tmp_path / "paid.md").write_text(PAID)
    assert run("import", str(tmp_path / "paid.md"), data=data).returncode == 0
    sub = session_for(srv2, "subscriber@demo.test")
    assert results(get(srv2, sub, "/search?q=" + PAID_SECRET))[0] == ["search-paid"]
    edited = PAID.replace("lighthouse keepers", "beacon keepers").replace(PAID_SECRET, "glacierpine")
    (tmp_path / "paid.md").write_text(edited)
    assert run("import", str(tmp_path / "paid.md"), data=data).returncode == 0
    got = eventually(lambda: results(get(srv2, sub, "/search?q=glacierpine")), lambda x: x[1] == 1)
    assert got == (["search-paid"], 1)
    assert results(get(srv2, sub, "/search?q=" + PAID_SECRET)) == ([], 0)
    assert results(get(srv2, None, "/search?q=beacon")) == (["search-paid"], 1)
    # The title still says lighthouse; the teaser no longer does.
    html = get(srv2, None, "/search?q=keepers")
    assert "<mark>keepers</mark>" in html and "beacon" in html
    # Still nothing behind the paywall for a reader without access.
    assert results(get(srv2, None, "/search?q=glacierpine")) == ([], 0)


def cap_article(i):
    """One of 1,003 paid articles: capword in the teaser, capsecret only behind the paywall."""
    return f"""---
title: Harbor log entry {i}
slug: cap-{i:04d}
access: paid
published_at: 2026-{1 + i // 100:02d}-{1 + i % 100 // 4:02d}T{i % 4:02d}:00:00Z
---
Entry {i} of the harbor log says capword.

<!-- paywall -->

The paid part says capsecret.
"""


# Older than every paid article: a public article whose gated part holds
# capsecret, which an anonymous reader may search.
CAP_OPEN = """---
title: The open harbor log
slug: cap-open
access: public
published_at: 2025-06-01T08:00:00Z
---
An open teaser.

<!-- paywall -->

The open article's second part says capsecret.
"""


def test_results_stop_at_the_cap_and_say_more(tmp_path, fresh):
    """A word in 1,003 articles: the newest 1,000 are ranked and shown, the
    count says "More than 1,000", and the window of the gated index is the
    reader's own: paid articles a reader may not search never push out the
    one match an anonymous reader has."""
    src = tmp_path / "src"
    for k in range(11):
        (src / f"{k:02d}").mkdir(parents=True)
    for i in range(1003):
        (src / f"{i // 100:02d}" / f"cap-{i:04d}.md").write_text(cap_article(i))
    (src / "cap-open.md").write_text(CAP_OPEN)
    data = tmp_path / "data"
    r = run("import", str(src), data=data, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "1004 created" in r.stdout
    srv2 = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    first = get(srv2, None, "/search?q=capword")
    assert '<p class="search-count" role="status">More than 1,000 results for <strong>capword</strong>, ' \
           'page 1 of 100.</p>' in first
    assert "These are the newest 1000, the best matches first." in first
    slugs = results(first)[0]
    assert slugs[0] == "cap-1002" and len(slugs) == 10
    last = get(srv2, None, "/search?q=capword&page=100")
    assert results(last)[0][-1] == "cap-0003"  # the three oldest are past the cap
    assert srv2.get("/search?q=capword&page=101").status_code == 404
    # No leak through the window: 1,003 paid gated parts say capsecret.
    assert results(get(srv2, None, "/search?q=capsecret")) == (["cap-open"], 1)
    sub = session_for(srv2, "subscriber@demo.test")
    assert "More than 1,000 results" in get(srv2, sub, "/search?q=capsecret")
