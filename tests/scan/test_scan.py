"""Scanners against the demo on 127.0.0.1 (make scan), their reports read:
they exit 0 whatever they find.

- sqlmap (--batch, --level 1 --risk 1, --skip-heuristics: a form that
  answers alike whatever is sent looks "type cast" to its heuristics, which
  then skip it untried) on the sign-in, sign-up and link
  request forms, /search?q=, /subscribe and the Content API's ?filter=:
  nothing injectable.
- wapiti (--no-bugreport, an empty apps.json in a temporary HOME, its
  endpoint on 127.0.0.1, time bounded): nothing of medium or higher.
- slowhttptest in slowloris and slow-body modes for a bounded time while a
  probe keeps asking /healthz from another client: every probe answered.

-rP prints the figures (requests each scanner sent, findings, connections
held)."""
import glob
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
_spec = importlib.util.spec_from_file_location("e2e_conftest", os.path.join(ROOT, "tests", "e2e", "conftest.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)
from members import csrf_of  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("scan")
    # The rate limit would answer the scanners 429 long before they finish.
    srv = e2e.Server(["demo", "--port", "0", "--rate-limit", "1000000"], data)
    r = e2e.run("key", "add", "scanner", data=data)
    assert r.returncode == 0, r.stderr
    srv.api_key = r.stdout.strip().splitlines()[-1]
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


_marks = iter(range(1, 1 << 30))


def requests_served(srv):
    """Requests in the access log so far, not counting our own marks.

    The log is buffered (lines reach the file within about a second), so
    counting right after a scanner exits would miss its last requests. A
    marked request sent now is logged after all of them: once it is in the
    file, so are they."""
    mark = f"/scan-mark-{next(_marks)}"
    assert srv.get(mark).status_code == 404
    text = e2e.eventually(srv.logs, lambda t: f'path="{mark}"' in t)
    assert f'path="{mark}"' in text, "the access log did not catch up"
    return sum(1 for ln in text.splitlines() if 'msg="request"' in ln and "/scan-mark-" not in ln)


def form(srv, page):
    """A CSRF cookie and the token for it, as a browser gets them."""
    s = requests.Session()
    token = csrf_of(s.get(srv.url + page, timeout=10).text)
    cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
    return cookie, token


def sqlmap_targets(srv):
    cookie, token = form(srv, "/signin")
    return [
        ("sign-in", ["-u", srv.url + "/signin", "--data", f"email=reader%40demo.test&password=x&next=%2F&csrf={token}",
                     "--cookie", cookie, "-p", "email,password,next"]),
        ("sign-up", ["-u", srv.url + "/signup",
                     "--data", f"name=Scan&email=scan%40example.test&password=a-fine-password&csrf={token}",
                     "--cookie", cookie, "-p", "name,email"]),
        ("link request", ["-u", srv.url + "/signin/link", "--data", f"email=reader%40demo.test&next=%2F&csrf={token}",
                          "--cookie", cookie, "-p", "email"]),
        ("search", ["-u", srv.url + "/search?q=harbor", "-p", "q"]),
        ("subscribe", ["-u", srv.url + "/subscribe", "--data", f"plan=monthly&csrf={token}", "--cookie", cookie,
                       "-p", "plan"]),
        ("content api filter", ["-u", srv.url + f"/ghost/api/content/posts/?key={srv.api_key}&filter=tag%3Aport",
                                "-p", "filter"]),
    ]


def test_sqlmap_finds_nothing_injectable(site, tmp_path):
    figures = []
    for name, args in sqlmap_targets(site):
        out = tmp_path / name.replace(" ", "-")
        before = requests_served(site)
        r = subprocess.run(["sqlmap", "--batch", "--level", "1", "--risk", "1", "--flush-session",
                            "--disable-coloring", "--skip-heuristics", "--ignore-code", "400,401,403,404", "--timeout", "15", "--retries", "1", "--output-dir", str(out),
                            *args], capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)},
                           timeout=600)
        sent = requests_served(site) - before
        figures.append(f"sqlmap {name}: {sent} requests")
        text = r.stdout + r.stderr
        assert r.returncode == 0, text[-3000:]
        assert "identified the following injection point" not in text, text[-3000:]
        assert not re.search(r"parameter '[^']+' (is|appears to be) .*injectable", text), text[-3000:]
        # What sqlmap found lands in its log file; nothing found, it is empty.
        for log in glob.glob(str(out / "*" / "log")):
            assert os.path.getsize(log) == 0, open(log).read()[:2000]
        assert ("all tested parameters do not appear to be injectable" in text
                or "do not appear to be injectable" in text), text[-3000:]
        assert sent > 20, (name, sent, text[-2000:])  # it really tried
    print("\n".join(figures))


def test_wapiti_finds_nothing_medium_or_higher(site, tmp_path):
    home = tmp_path / "home"
    apps = home / ".wapiti" / "config" / "apps.json"
    apps.parent.mkdir(parents=True)
    apps.write_text("{}")  # no fingerprint download
    report = tmp_path / "wapiti.json"
    before = requests_served(site)
    r = subprocess.run(["wapiti", "-u", site.url + "/", "--scope", "folder", "--no-bugreport", "--flush-session",
                        "-m", "sql,timesql,xss,permanentxss,exec,file,redirect,crlf,csrf,http_headers,cookieflags,"
                              "methods,ssrf,xxe,htaccess,backup",
                        "--endpoint", site.url + "/", "--max-scan-time", "100", "--max-attack-time", "30",
                        "--max-links-per-page", "30", "-d", "3", "-t", "10",
                        "-f", "json", "-o", str(report)], capture_output=True, text=True,
                       env={**os.environ, "HOME": str(home)}, timeout=400)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    found = json.loads(report.read_text())
    sent = requests_served(site) - before
    severe = []
    counts = {}
    for section in ("vulnerabilities", "anomalies"):
        for kind, items in found.get(section, {}).items():
            counts[kind] = counts.get(kind, 0) + len(items)
            # wapiti's levels: 1 low, 2 medium, 3 high (4 critical in newer releases).
            severe += [(kind, i.get("level"), i.get("info"), i.get("path")) for i in items if i.get("level", 0) >= 2]
    print(f"wapiti: {sent} requests, findings by kind: { {k: v for k, v in counts.items() if v} }")
    assert sent > 50, (r.stdout + r.stderr)[-2000:]
    assert not severe, severe


def probe(port, stop, results):
    """Another client, from another address (127.0.0.2: the attacker is
    127.0.0.1): a fresh connection for each /healthz, every 0.25 s."""
    while not stop.is_set():
        t = time.monotonic()
        ok = False
        sock = socket.socket()
        sock.settimeout(5)
        try:
            sock.bind(("127.0.0.2", 0))
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
            ok = head.startswith(b"HTTP/1.1 200")
        except OSError:
            ok = False
        finally:
            sock.close()
        results.append((t, ok))
        stop.wait(0.25)


@pytest.mark.parametrize("mode", ["slowloris", "slow-body"])
def test_slowhttptest_leaves_the_site_answering(tmp_path, mode):
    flag = {"slowloris": "-H", "slow-body": "-B"}[mode]
    # A server of its own: what the attack leaves behind is not the other scans' problem.
    # No trusted proxy: the attacker on 127.0.0.1 is a client like any other,
    # held to --per-ip-connections (a proxy would be exempt from it).
    site = e2e.Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_TRUSTED_PROXY": "none"})
    try:
        attack(site, tmp_path, mode, flag)
    finally:
        site.stop()
        log = site.logs() if not site.log.closed else open(site.log_path).read()
        for bad in ("Sanitizer", "runtime error:"):
            assert bad not in log, log[-3000:]


def attack(site, tmp_path, mode, flag):
    stop, results = threading.Event(), []
    t = threading.Thread(target=probe, args=(site.port, stop, results))
    t.start()
    try:
        r = subprocess.run(["slowhttptest", flag, "-c", "1500", "-r", "300", "-i", "5", "-l", "25", "-s", "8192",
                            "-p", "5", "-u", site.url + ("/" if flag == "-H" else "/signin"), "-g", "-o",
                            str(tmp_path / "stats")], capture_output=True, text=True, timeout=200)
    finally:
        stop.set()
        t.join()
    assert results, "the probe never ran"
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", r.stdout)
    held = [int(x) for x in re.findall(r"connected:\s+(\d+)", plain)]
    failed = [at for at, ok in results if not ok]
    print(f"slowhttptest {mode}: up to {max(held or [0])} connections held; probe {len(results) - len(failed)}"
          f"/{len(results)} answered")
    assert held and max(held) > 100, plain[-2000:]
    # One address holds at most --per-ip-connections; everyone else is served throughout.
    assert not failed, f"{len(failed)} of {len(results)} /healthz probes from 127.0.0.2 failed"
    assert site.get("/healthz").status_code == 200
