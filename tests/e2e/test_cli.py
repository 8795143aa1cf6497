"""The command line: import, export, help, config precedence, errors."""
import os
import re
import signal
import socket
import threading
import time

import pytest
import requests

from conftest import BIN, Server, db_env, exported_articles, run

GOOD = """---
title: {title}
access: {access}
authors: [Test Writer]
tags: [tests]
published_at: 2026-11-01T08:00:00Z
---
First paragraph of {title}.

<!-- paywall -->

Gated paragraph of {title}.
"""


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def article_count(data):
    """How many articles the store holds, as `masthead export` counts them."""
    return len(exported_articles(data))


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and re.match(r"masthead \d+\.\d+\.\d+", r.stdout)
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("demo", "serve", "init", "migrate", "import", "export", "user"):
        assert cmd in r.stdout
        h = run(cmd, "--help")
        assert h.returncode == 0, cmd
        assert h.stdout.startswith("usage: masthead " + cmd), cmd
        assert "--data" in h.stdout and "--db" in h.stdout


def test_usage_errors_exit_2():
    assert run().returncode == 2
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr
    r = run("serve", "--bogus", "1")
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = run("serve", "--threads", "many")
    assert r.returncode == 2 and "threads" in r.stderr
    r = run("init", "--db", "mysql://x")
    assert r.returncode == 2 and "not a database URL" in r.stderr
    r = run("import")
    assert r.returncode == 2


def test_import_creates_then_updates(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write(src / "a.md", GOOD.format(title="Alpha story", access="paid"))
    write(src / "b.md", GOOD.format(title="Beta story", access="public"))
    data = tmp_path / "data"
    r = run("import", str(src), data=data)
    assert r.returncode == 0, r.stderr
    assert "2 created, 0 updated, 0 rejected" in r.stdout
    write(src / "a.md", GOOD.format(title="Alpha story", access="members").replace("First", "Changed"))
    r = run("import", str(src / "a.md"), data=data)
    assert r.returncode == 0, r.stderr
    assert "0 created, 1 updated" in r.stdout
    assert article_count(data) == 2


BAD = [
    ("malformed.md", "---\ntitle: [unclosed\n---\nbody\n", "malformed YAML"),
    ("access.md", "---\ntitle: T\naccess: vip\n---\nbody\n", ":3: access must be public, members or paid"),
    ("notitle.md", "---\ndek: x\n---\nbody\n", "no title"),
    ("utf8.md", b"---\ntitle: T\n---\nfine\n\xff\xfe bad\n", ":5: invalid UTF-8"),
    ("nofront.md", "just text\n", ":1: expected front matter"),
]


@pytest.mark.parametrize("name,text,message", BAD, ids=[b[0] for b in BAD])
def test_bad_file_rolls_back_whole_import(tmp_path, name, text, message):
    src = tmp_path / "in"
    src.mkdir()
    write(src / "good.md", GOOD.format(title="Good one", access="public"))
    bad = src / ("z-" + name)
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text)
    data = tmp_path / "data"
    r = run("import", str(src), data=data)
    assert r.returncode == 3, r.stdout + r.stderr
    assert str(bad) in r.stderr and message in r.stderr, r.stderr
    assert "nothing was written" in r.stderr
    assert article_count(data) == 0


def test_duplicate_slug_in_one_import(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write(src / "a.md", GOOD.format(title="Same title", access="public"))
    write(src / "b.md", GOOD.format(title="Same title", access="paid"))
    r = run("import", str(src), data=tmp_path / "data")
    assert r.returncode == 3
    assert "slug 'same-title' is also used by" in r.stderr
    assert article_count(tmp_path / "data") == 0


def test_file_over_size_limit(tmp_path):
    src = tmp_path / "big.md"
    write(src, GOOD.format(title="Big", access="public") + ("word " * 5000))
    r = run("import", str(src), "--max-import-bytes", "4096", data=tmp_path / "data")
    assert r.returncode == 3
    assert "over the limit of 4096" in r.stderr
    assert article_count(tmp_path / "data") == 0


def test_unreadable_path(tmp_path):
    r = run("import", str(tmp_path / "missing.md"), data=tmp_path / "data")
    assert r.returncode == 1
    assert "missing.md: cannot read" in r.stderr
    assert article_count(tmp_path / "data") == 0


def test_many_files_import_with_summary(tmp_path):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(1500):
        write(src / f"{i:05d}.md", GOOD.format(title=f"Story number {i}", access=("public", "paid")[i % 2]))
    r = run("import", str(src), data=tmp_path / "data", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "1500 created" in r.stdout
    assert article_count(tmp_path / "data") == 1500


def test_import_while_serving_shows_at_once(tmp_path, fresh):
    srv = fresh("serve", "--listen", "127.0.0.1:0")
    assert srv.get("/articles/live-story").status_code == 404
    write(tmp_path / "live.md", GOOD.format(title="Live story", access="public"))
    r = run("import", str(tmp_path / "live.md"), data=tmp_path / "data")
    assert r.returncode == 0, r.stderr
    page = srv.get("/articles/live-story")
    assert page.status_code == 200 and "Gated paragraph of Live story" in page.text


def test_export_round_trip(tmp_path):
    data = tmp_path / "data"
    src = tmp_path / "in"
    src.mkdir()
    write(src / "a.md", GOOD.format(title="Round trip", access="paid"))
    assert run("import", str(src), data=data).returncode == 0
    r = run("user", "add", "w@example.test", "Wanda Writer", "editor", data=data, input="long-password\n")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    r = run("export", str(out), data=data)
    assert r.returncode == 0, r.stderr
    md = (out / "articles" / "round-trip.md").read_text()
    assert "access: paid" in md and "<!-- paywall -->" in md and "Gated paragraph" in md
    csv = (out / "members.csv").read_text()
    assert '"w@example.test","Wanda Writer",editor' in csv
    data2 = tmp_path / "data2"
    r = run("import", str(out / "articles"), data=data2)
    assert r.returncode == 0 and "1 created" in r.stdout


def test_user_commands(tmp_path):
    data = tmp_path / "data"
    r = run("user", "add", "e@example.test", "Ed", data=data, input="secret-pass\n")
    assert r.returncode == 0, r.stderr
    r = run("user", "add", "e@example.test", data=data, input="secret-pass\n")
    assert r.returncode == 3 and "already has an account" in r.stderr
    r = run("user", "add", "x@example.test", data=data, input="short\n")
    assert r.returncode == 2 and "password must be" in r.stderr
    r = run("user", "role", "e@example.test", "admin", data=data)
    assert r.returncode == 0
    r = run("user", "role", "e@example.test", "king", data=data)
    assert r.returncode == 2
    r = run("user", "role", "nobody@example.test", "admin", data=data)
    assert r.returncode == 3
    r = run("user", "list", data=data)
    assert "e@example.test\tadmin\tEd" in r.stdout
    r = run("user", "add", "not-an-email", data=data, input="secret-pass\n")
    assert r.returncode == 2


def test_config_precedence(tmp_path, fresh):
    conf = tmp_path / "masthead.ini"
    conf.write_text("[site]\nsite-name = From File\nsite-tagline = File tagline\n")
    srv = fresh("serve", "--listen", "127.0.0.1:0", "--config", str(conf))
    assert "From File" in srv.get("/").text
    srv.stop()
    srv = fresh("serve", "--listen", "127.0.0.1:0", "--config", str(conf),
                env={"MASTHEAD_SITE_NAME": "From Env"})
    text = srv.get("/").text
    assert "From Env" in text and "File tagline" in text
    srv.stop()
    srv = fresh("serve", "--listen", "127.0.0.1:0", "--config", str(conf), "--site-name", "From Flag",
                env={"MASTHEAD_SITE_NAME": "From Env"})
    assert "From Flag" in srv.get("/").text


def test_bad_config_file(tmp_path):
    conf = tmp_path / "bad.ini"
    conf.write_text("page-size = lots\n")
    r = run("serve", "--config", str(conf), data=tmp_path / "data")
    assert r.returncode == 2 and "page-size" in r.stderr
    r = run("serve", "--config", str(tmp_path / "none.ini"), data=tmp_path / "data")
    assert r.returncode == 2 and "cannot read config file" in r.stderr


def test_listen_in_use(tmp_path, fresh):
    srv = fresh("serve", "--listen", "127.0.0.1:0")
    r = run("serve", "--listen", f"127.0.0.1:{srv.port}", data=tmp_path / "other")
    assert r.returncode == 1 and "cannot listen" in r.stderr


def test_sigterm_lets_inflight_requests_finish(tmp_path, fresh):
    srv = fresh()
    # A slow upload: half the body before SIGTERM, the rest after it.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345")
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(b"67890")
    resp = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        resp += b
    s.close()
    assert resp.startswith(b"HTTP/1.1 405"), resp[:60]
    assert srv.proc.wait(timeout=15) == 0
    assert 'msg="stopped"' in srv.logs()


def test_sigint_stops_cleanly(fresh):
    srv = fresh()
    assert srv.get("/healthz").status_code == 200
    assert srv.stop(signal.SIGINT) == 0


def test_demo_reuses_its_data_dir(tmp_path, fresh):
    srv = fresh()
    assert "14 articles created" in "".join(srv.banner + [srv.proc.stdout.readline()])
    srv.stop()
    srv = fresh()
    assert "0 articles created, 14 updated" in "".join(srv.banner + [srv.proc.stdout.readline()])


def test_import_draws_progress_on_a_terminal(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(300):
        write(src / f"{i:04d}.md", GOOD.format(title=f"Terminal story {i}", access="public"))
    import shlex
    import subprocess
    cmd = " ".join(shlex.quote(a) for a in [BIN, "import", str(src), "--data", str(tmp_path / "data")])
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, timeout=60,
                       env={**os.environ, **db_env(tmp_path / "data")})
    out = r.stdout.decode()
    assert r.returncode == 0, out
    assert "\rimporting 300/300 files (" in out and "/s)" in out
    assert "300 created, 0 updated, 0 rejected" in out
