"""The reading site's directories: /tags, /authors and /people list every
name with a published article, each with its count, linking to its page;
what is only scheduled is not counted."""
import datetime
import html
import re

import pytest

from conftest import Server, now, run
from members import sign_in

ENTRY = re.compile(r'<li><a href="(/(?:tags|authors|people)/[^"]+)">([^<]+)</a>(?: <span class="directory-detail">'
                   r'([^<]*)</span>)? <span class="directory-count">(\d+) [^<]+</span></li>')


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def article(slug, tags, authors, published, quote=""):
    return f"""---
title: Story {slug}
slug: {slug}
access: public
authors: [{", ".join(authors)}]
tags: [{", ".join(tags)}]
published_at: {iso(published)}
---
The opening of {slug}.

{quote}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("directory")
    srv = Server(["demo", "--port", "0"], base / "data")
    src = base / "src"
    src.mkdir()
    t = now()
    (src / "a.md").write_text(article("dir-a", ["Dirtest One", "Dirtest Two"], ["Dira Writer"], t - 7200,
                                      "> The ferry runs late.\n> — Quin Dirspeaker, Harbor clerk"))
    (src / "b.md").write_text(article("dir-b", ["Dirtest One"], ["Dira Writer"], t - 3600,
                                      "> Twice, even.\n> — Quin Dirspeaker, Harbor clerk"))
    # Scheduled: none of its names may show or count yet.
    (src / "c.md").write_text(article("dir-c", ["Dirtest Later"], ["Dirc Later"], t + 86400,
                                      "> Not yet.\n> — Ula Dirlater, Planner"))
    r = run("import", str(src), data=base / "data")
    assert r.returncode == 0, r.stderr
    yield srv
    srv.stop()
    srv.check_clean()


def entries(page):
    return {html.unescape(m[0]): (html.unescape(m[1]), html.unescape(m[2] or ""), int(m[3]))
            for m in ENTRY.findall(page)}


def test_tags_with_their_counts(site):
    r = site.get("/tags")
    assert r.status_code == 200
    got = entries(r.text)
    assert got["/tags/dirtest-one"] == ("Dirtest One", "", 2)
    assert got["/tags/dirtest-two"] == ("Dirtest Two", "", 1)
    assert "/tags/dirtest-later" not in got and "Dirtest Later" not in r.text
    # Sorted by name, and every entry leads to a page that exists.
    names = [v[0] for v in got.values()]
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    for path in list(got)[:5]:
        assert site.get(path).status_code == 200, path


def test_authors_and_people(site):
    authors = entries(site.get("/authors").text)
    assert authors["/authors/dira-writer"] == ("Dira Writer", "", 2)
    assert "/authors/dirc-later" not in authors
    people = entries(site.get("/people").text)
    # Quoted in two articles: counted once per article; the role shows.
    assert people["/people/quin-dirspeaker"] == ("Quin Dirspeaker", "Harbor clerk", 2)
    assert "/people/ula-dirlater" not in people


def test_a_signed_in_reader_sees_the_same_directory(site):
    s, _ = sign_in(site, "subscriber@demo.test")
    for _ in range(2):  # the second from the reader's page skeleton
        r = s.get(site.url + "/people", timeout=10)
        assert r.status_code == 200
        assert entries(r.text)["/people/quin-dirspeaker"][2] == 2
        assert 'action="/signout"' in r.text  # the reader's own header, not the visitor's
