"""The access log: buffered per thread and written in batches (docs/performance.md,
"The access log"), yet whole lines, nothing lost at SIGTERM, a file reopened on
SIGHUP, and a flush within about a second when traffic stops."""
import os
import re
import signal
import threading

import requests

from conftest import Server, eventually

LINE = re.compile(r'^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info msg="request" method=GET '
                  r'path="(/[^"]*)" status=\d{3} bytes=\d+ ms=\d+\.\d{3} ip=127\.0\.0\.1( cache=\w+)?( session=\w+)?$')


def request_lines(text):
    return [ln for ln in text.splitlines() if 'msg="request"' in ln]


def start(tmp_path, log_file=None, threads="2"):
    env = {"MASTHEAD_ACCESS_LOG": "true", "MASTHEAD_THREADS": threads}
    if log_file:
        env["MASTHEAD_ACCESS_LOG_FILE"] = str(log_file)
    return Server(["demo", "--port", "0"], tmp_path / "data", env=env)


def read(path):
    return open(path).read() if os.path.exists(path) else ""


def hammer(url, paths, per_thread, threads):
    errors = []

    def worker(k):
        with requests.Session() as s:
            for i in range(per_thread):
                try:
                    s.get(url + paths[(k + i) % len(paths)] + "?n=%d-%d" % (k, i), timeout=30)
                except requests.RequestException as e:  # counted, then asserted on
                    errors.append(e)
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:3]


def test_lines_are_whole_and_all_there_after_sigterm(tmp_path):
    """Eight clients at once on two HTTP threads, paths of very different
    lengths: every line parses on its own, and each request has exactly one
    line, though the server was stopped right after the last answer."""
    srv = start(tmp_path)
    try:
        long = "/tags/" + "x" * 3000
        paths = ["/healthz", "/", long, "/articles/no-such-" + "y" * 700, "/robots.txt"]
        hammer(srv.url, paths, per_thread=150, threads=8)
    finally:
        srv.stop()
    srv.check_clean()
    lines = request_lines(read(srv.log_path))
    bad = [ln[:200] for ln in lines if not LINE.match(ln)]
    assert not bad, bad[:3]
    seen = sorted(LINE.match(ln).group(1) for ln in lines)
    # Each query string (?n=k-i) names one request; the path logged is without it,
    # so count per path.
    assert len(lines) == 8 * 150
    for p in ["/healthz", "/", "/robots.txt"]:
        assert seen.count(p) == 8 * 150 // 5, p


def test_a_line_is_written_within_a_second_or_so_without_more_traffic(tmp_path):
    log = tmp_path / "access.log"
    srv = start(tmp_path, log)
    try:
        srv.get("/healthz?quiet=1")
        # The flush timer is 1 s; the bound is generous for a busy machine.
        text = eventually(lambda: read(log), lambda t: 'path="/healthz"' in t, within=20)
        assert 'path="/healthz"' in text
        assert srv.proc.poll() is None  # written by the timer, not by stopping
    finally:
        srv.stop()
    srv.check_clean()


def test_sighup_reopens_the_file_for_logrotate(tmp_path):
    log = tmp_path / "access.log"
    srv = start(tmp_path, log)
    try:
        for _ in range(5):
            assert srv.get("/healthz?before=1").status_code == 200
        eventually(lambda: read(log), lambda t: len(request_lines(t)) >= 5, within=20)
        os.rename(log, tmp_path / "access.log.1")
        srv.proc.send_signal(signal.SIGHUP)
        eventually(srv.logs, lambda t: "reopened the access log" in t, within=20)
        assert srv.proc.poll() is None  # SIGHUP does not stop the server
        for _ in range(3):
            assert srv.get("/robots.txt").status_code == 200
        new = eventually(lambda: read(log), lambda t: len(request_lines(t)) >= 3, within=20)
    finally:
        srv.stop()
    srv.check_clean()
    new = read(log)
    old = read(tmp_path / "access.log.1")
    assert [LINE.match(ln).group(1) for ln in request_lines(new)] == ["/robots.txt"] * 3
    assert [LINE.match(ln).group(1) for ln in request_lines(old)] == ["/healthz"] * 5
    assert 'msg="request"' not in read(srv.log_path)  # the file, not standard error


def test_access_log_off_writes_no_line(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_ACCESS_LOG": "false"})
    try:
        srv.get("/healthz")
    finally:
        srv.stop()
    srv.check_clean()
    assert 'msg="request"' not in read(srv.log_path)


def test_an_unwritable_log_file_is_one_clear_line(tmp_path):
    from conftest import run
    r = run("serve", "--listen", "127.0.0.1:0", "--access-log-file", str(tmp_path / "no" / "such" / "dir.log"),
            data=tmp_path / "data", timeout=30)
    assert r.returncode != 0
    assert "access-log-file: cannot open" in r.stderr and "dir.log" in r.stderr, r.stderr


def test_a_path_cannot_forge_a_field_or_a_line(tmp_path):
    log = tmp_path / "access.log"
    srv = start(tmp_path, log)
    try:
        srv.get('/no-such%22%20status=200%0Atime=forged')
    finally:
        srv.stop()
    srv.check_clean()
    lines = request_lines(read(log))
    assert len(lines) == 1, lines
    assert 'path="/no-such\\" status=200\\u000atime=forged" status=404 ' in lines[0], lines[0]
