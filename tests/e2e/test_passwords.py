"""Password checks on their own threads: sign-in answers as before, pages
keep answering while sign-ins are slow, a full queue and a shutdown answer
503, a client that leaves mid-check does no harm, hashes move to new
parameters. A fault build (MASTHEAD_FAULTS=password-delay-ms=N) makes every sign-in check that
much slower, so the tests can order events without measuring time."""
import re
import signal
import socket
import threading
import time
import urllib.parse

import requests

from conftest import run
from members import PASSWORD, csrf_of, sign_in
from storefix import Store

SLOW = {"MASTHEAD_RATE_LIMIT": "1000", "MASTHEAD_FAULTS": "password-delay-ms=1500"}


def article_paths(srv):
    paths = sorted(set(re.findall(r'href="(/articles/[a-z0-9-]+)"', srv.get("/").text)))
    assert paths
    return paths


def ready_signin(srv, who, password=PASSWORD):
    """A browser on the sign-in page: its session and the form to post."""
    s = requests.Session()
    token = csrf_of(s.get(srv.url + "/signin", timeout=10).text)
    return s, {"email": who, "password": password, "next": "/account", "csrf": token}


def post_signin(srv, s, form, out, i):
    try:
        out[i] = s.post(srv.url + "/signin", data=form, allow_redirects=False, timeout=60)
    except requests.RequestException as e:  # recorded, the test asserts on it
        out[i] = e


def test_sign_in_sets_the_session_and_a_wrong_password_fails(fresh):
    srv = fresh("demo", "--port", "0", "--password-threads", "2", env={"MASTHEAD_RATE_LIMIT": "1000"})
    s, r = sign_in(srv, "reader@demo.test", next_path="/account")
    assert r.status_code == 303 and r.headers["Location"] == "/account"
    assert "masthead_session=" in r.headers["Set-Cookie"]
    assert r.headers["Cache-Control"] == "private, no-store"
    assert "reader@demo.test" in s.get(srv.url + "/account", timeout=10).text
    _, wrong = sign_in(srv, "reader@demo.test", "not-the-password")
    _, unknown = sign_in(srv, "nobody@demo.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.text and "masthead_session=" not in wrong.headers.get("Set-Cookie", "")
    # Many at once, on both password threads: each gets its own answer.
    who = ["reader@demo.test", "subscriber@demo.test", "editor@demo.test", "admin@demo.test"] * 3
    ready = [ready_signin(srv, w, PASSWORD if i % 3 else "wrong-password") for i, w in enumerate(who)]
    out = [None] * len(ready)
    threads = [threading.Thread(target=post_signin, args=(srv, s, f, out, i)) for i, (s, f) in enumerate(ready)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, r in enumerate(out):
        assert r.status_code == (303 if i % 3 else 401), (i, r)


def test_pages_answer_while_sign_ins_are_checked(fresh):
    # One HTTP thread: a check running on it would hold every read below.
    srv = fresh("demo", "--port", "0", "--threads", "1", "--password-threads", "1", env=SLOW)
    paths = article_paths(srv)
    ready = [ready_signin(srv, w) for w in ("reader@demo.test", "subscriber@demo.test", "admin@demo.test")]
    out = [None] * len(ready)
    threads = [threading.Thread(target=post_signin, args=(srv, s, f, out, i)) for i, (s, f) in enumerate(ready)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # the posts are in; the first check has begun
    # A reader with a cookie (so no page cache) on one keep-alive connection.
    reader = requests.Session()
    reader.get(srv.url + "/signin", timeout=10)
    reads = [reader.get(srv.url + paths[i % len(paths)], timeout=30) for i in range(30)]
    answered_before = sum(r is not None for r in out)
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in reads)
    # Three checks of 1.5 s each on one thread: none had finished when the reads had.
    assert answered_before == 0
    for r in out:
        assert r.status_code == 303 and "masthead_session=" in r.headers["Set-Cookie"]


def test_a_full_queue_and_a_shutdown_answer_503(fresh):
    srv = fresh("demo", "--port", "0", "--password-threads", "1",
                env={"MASTHEAD_RATE_LIMIT": "1000", "MASTHEAD_FAULTS": "password-delay-ms=3000"})
    # One running and 32 waiting fill the line; the rest are turned away at once.
    ready = [ready_signin(srv, "reader@demo.test") for _ in range(40)]
    out = [None] * len(ready)
    threads = [threading.Thread(target=post_signin, args=(srv, s, f, out, i)) for i, (s, f) in enumerate(ready)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline and sum(r is not None for r in out) < 7:
        time.sleep(0.05)
    early = [r for r in out if r is not None]
    assert len(early) >= 1
    for r in early:
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    # SIGTERM: after the grace period, checks not started are answered 503;
    # the server still stops cleanly with connections suspended.
    srv.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    codes = [r.status_code for r in out]
    assert set(codes) <= {303, 503}, codes
    assert 303 in codes
    assert any(r.status_code == 503 and "restarting" in r.text for r in out)
    assert srv.proc.wait(timeout=30) == 0


def raw_signin(srv, session, form, reset):
    """Posts a sign-in on a bare socket and closes it without reading."""
    body = urllib.parse.urlencode(form)
    cookies = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    req = (f"POST /signin HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nCookie: {cookies}\r\n"
           f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.sendall(req.encode())
    return sock


def test_a_client_that_leaves_during_its_check_does_no_harm(fresh):
    srv = fresh("demo", "--port", "0", "--threads", "1", "--password-threads", "1",
                env={"MASTHEAD_RATE_LIMIT": "1000", "MASTHEAD_FAULTS": "password-delay-ms=300"})
    socks = []
    for i in range(6):
        s, form = ready_signin(srv, "reader@demo.test", PASSWORD if i % 2 else "wrong-password")
        socks.append(raw_signin(srv, s, form, reset=i % 3 == 0))
    time.sleep(0.1)  # the first is suspended, the rest wait for the thread
    for sock in socks:
        sock.close()
    # Every check still runs and resumes a connection whose client is gone.
    time.sleep(6 * 0.3 + 0.5)
    assert srv.get("/").status_code == 200
    s, r = sign_in(srv, "reader@demo.test")
    assert r.status_code == 303
    srv.stop()
    srv.check_clean()


def test_hashes_move_to_the_configured_memory(tmp_path, fresh):
    srv = fresh("demo", "--port", "0")

    def stored(who):  # no page or command shows a hash
        with Store.of_data(tmp_path / "data") as st:
            return st.one("SELECT password_hash FROM members WHERE email = ?", who)[0]
    assert stored("reader@demo.test").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    srv.stop()
    srv = fresh("serve", "--listen", "127.0.0.1:0", "--password-memory-mib", "24")
    _, r = sign_in(srv, "reader@demo.test")
    assert r.status_code == 303
    assert stored("reader@demo.test").startswith("$argon2id$v=19$m=24576,t=2,p=1$")
    assert stored("editor@demo.test").startswith("$argon2id$v=19$m=19456,")
    # The dummy hash for unknown e-mails is made at these parameters too.
    _, wrong = sign_in(srv, "nobody@demo.test", "not-the-password")
    assert wrong.status_code == 401
    _, r = sign_in(srv, "reader@demo.test")
    assert r.status_code == 303


def test_password_settings_are_checked(tmp_path):
    for args, env, word in ((["--password-threads", "0"], {}, "password-threads"),
                            (["--password-threads", "65"], {}, "password-threads"),
                            (["--password-memory-mib", "8"], {}, "password-memory-mib"),
                            (["--password-memory-mib", "lots"], {}, "password-memory-mib"),
                            ([], {"MASTHEAD_PASSWORD_MEMORY_MIB": "-1"}, "PASSWORD_MEMORY_MIB")):
        r = run("serve", *args, data=tmp_path / "data", env=env)
        assert r.returncode == 2, (args, r.stderr)
        assert word in r.stderr and r.stderr.count("\n") == 1, r.stderr
