"""Author profiles in the import format (a file with "kind: author"): a bio
and a photo shown in the byline, after the story and atop the author's page;
bad profiles are refused with the line and nothing is written."""
import pytest

from conftest import Server, run

PROFILE = """---
kind: author
name: Wren Tallis
slug: wren-tallis
photo: /static/demo/authors/tobias-renwick.svg
photo_alt: A drawn portrait
---
Wren Tallis covers <the> courts
and the county jail.
"""

STORY = """---
title: Court story
slug: wren-court-story
authors: [Wren Tallis]
tags: [courts]
published_at: 2026-11-20T09:00:00Z
---
The opening.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("authors")
    srv = Server(["demo", "--port", "0"], base / "data")
    srv.base = base
    yield srv
    srv.stop()
    srv.check_clean()


def test_a_profile_imports_and_shows_everywhere(site):
    src = site.base / "src"
    src.mkdir()
    (src / "a.md").write_text(STORY)
    (src / "wren.md").write_text(PROFILE)
    r = run("import", str(src), data=site.base / "data")
    assert r.returncode == 0, r.stderr
    assert "1 author profiles" in r.stdout
    page = site.get("/authors/wren-tallis").text
    # One paragraph, its lines joined, escaped as text.
    assert '<p class="page-description">Wren Tallis covers &lt;the&gt; courts and the county jail.</p>' in page
    assert 'class="author-photo author-photo-large" src="/static/demo/authors/tobias-renwick.svg" ' \
           'alt="A drawn portrait"' in page
    story = site.get("/articles/wren-court-story").text
    assert 'class="byline-photo"' in story and 'aria-label="About the author"' in story
    assert "<a href=\"/authors/wren-tallis\">Wren Tallis</a> Wren Tallis covers &lt;the&gt; courts" in story


def test_a_new_bio_replaces_the_old_one_and_the_cached_page(site):
    assert "county jail" in site.get("/authors/wren-tallis").text  # now cached
    one = site.base / "again.md"
    one.write_text(PROFILE.replace("and the county jail.", "and the harbour police."))
    r = run("import", str(one), data=site.base / "data")
    assert r.returncode == 0, r.stderr
    from conftest import eventually
    page = eventually(lambda: site.get("/authors/wren-tallis").text, lambda t: "harbour police" in t)
    assert "harbour police" in page and "county jail" not in page


@pytest.mark.parametrize("text, message", [
    (PROFILE.replace("name: Wren Tallis\n", ""), "needs a name"),
    (PROFILE.replace("photo_alt: A drawn portrait\n", ""), "photo needs photo_alt"),
    (PROFILE.replace("/static/demo/authors/tobias-renwick.svg", "javascript:alert(1)"), "photo must be"),
    (PROFILE.replace("slug: wren-tallis", "slug: Wren Tallis"), "slug 'Wren Tallis'"),
    (PROFILE.replace("kind: author\n", "kind: author\nrole: Reporter\n"), "unknown key 'role'"),
    (PROFILE.replace("and the county jail.", "x" * 700), "the bio is longer than 600 bytes"),
])
def test_a_bad_profile_is_refused_with_its_line_and_nothing_written(site, text, message):
    bad = site.base / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "good-story.md").write_text(STORY.replace("wren-court-story", "wren-unwritten").replace(
        "Court story", "Unwritten"))
    (bad / "profile.md").write_text(text)
    r = run("import", str(bad), data=site.base / "data")
    assert r.returncode != 0
    assert "profile.md:" in r.stderr and message in r.stderr, r.stderr
    assert "nothing was written" in r.stderr
    assert site.get("/articles/wren-unwritten").status_code == 404


def test_the_demo_authors_have_bios_and_portraits(site):
    page = site.get("/authors/tobias-renwick").text
    assert "covers the port" in page
    img = site.get("/static/demo/authors/tobias-renwick.svg")
    assert img.status_code == 200 and img.headers["Content-Type"].startswith("image/svg+xml")
