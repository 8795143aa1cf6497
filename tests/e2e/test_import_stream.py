"""masthead import streams: files are parsed, rendered and written one at a
time in one transaction (docs/import.md), so its memory does not grow with
the number of files, and a failure at the very last file still leaves the
site as it was."""
import os
import subprocess

import pytest

from conftest import binary_for, clock_env, db_env, exported_articles, run

ARTICLE = """---
title: Stream story {i}
access: {access}
authors: [Writer {w}]
tags: [tag-{t}, streams]
published_at: 2026-10-01T08:00:00Z
---
{para}

> We will look at it again next week.
> — Speaker {s}, Chair

<!-- paywall -->

{para}

{para}
"""

PARA = ("The harbor board met on Tuesday to weigh the overnight cargo window, and residents who "
        "live along Depot Street asked again for a study of the noise at night. ") * 4


def write_articles(folder, first, count):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + count):
        (folder / f"{i:06d}.md").write_text(ARTICLE.format(
            i=i, access=("public", "members", "paid")[i % 3], w=i % 7, t=i % 11, s=i % 13, para=PARA))


def peak_kib(args, data):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    env.update(clock_env())
    env.update(db_env(data))
    # The page cache is bounded by import-cache-mib (64 MiB by default, which
    # 4N small articles would fill); 2 MiB here, so what is measured is the rest.
    pid = os.spawnve(os.P_NOWAIT, binary_for(None), [binary_for(None), *args, "--data", str(data)],
                     {**env, "MASTHEAD_IMPORT_CACHE_MIB": "2"})
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss  # KiB on Linux


def test_import_memory_does_not_grow_with_the_number_of_files(tmp_path):
    """N and then 4N small articles into fresh sites: the peak grows by far
    less than the 3N articles' text (about 1.9 KB each here), where holding every
    parsed article (as import once did, about 31 KB each) would grow by
    tens of megabytes."""
    with open(binary_for(None), "rb") as f:
        if b"__asan_init" in f.read():
            pytest.skip("ASan keeps freed memory in quarantine; the plain build's run checks the bound")
    n = 1000
    write_articles(tmp_path / "n", 0, n)
    write_articles(tmp_path / "4n", 0, 4 * n)
    small = peak_kib(["import", str(tmp_path / "n")], tmp_path / "d1")
    large = peak_kib(["import", str(tmp_path / "4n")], tmp_path / "d4")
    assert len(exported_articles(tmp_path / "d4")) == 4 * n
    growth_per_article = (large - small) * 1024 / (3 * n)
    # Slugs stay (tens of bytes an article); everything else is dropped per batch.
    assert growth_per_article < 2048, (small, large, growth_per_article)


def test_a_bad_last_file_leaves_the_site_as_it_was(tmp_path):
    """The first import makes the site; the second updates one of its
    articles and adds 300 more before its last file fails to parse: after
    it, the site is exactly the first import."""
    data = tmp_path / "data"
    write_articles(tmp_path / "first", 0, 5)
    r = run("import", str(tmp_path / "first"), data=data)
    assert r.returncode == 0, r.stderr
    before = exported_articles(data)
    second = tmp_path / "second"
    write_articles(second, 5, 300)
    (second / "000000.md").write_text(ARTICLE.format(i="changed", access="public", w=1, t=1, s=1, para="New."))
    (second / "zzzzzz.md").write_text("---\ntitle: Broken\naccess: vip\n---\nbody\n")
    r = run("import", str(second), data=data)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "zzzzzz.md:3: access must be public, members or paid" in r.stderr, r.stderr
    assert "nothing was written" in r.stderr
    assert exported_articles(data) == before
