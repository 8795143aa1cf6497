"""Behind a reverse proxy: the README's recipe (nginx on the same machine,
appending X-Forwarded-For) gives each reader their own sign-in rate limit;
forwarded headers from a peer that is not a trusted proxy change nothing."""
import requests

from conftest import Server, run
from members import form_post


def sign_ins(srv, addresses):
    """One wrong-password sign-in per (address, e-mail) pair, as the proxy
    would forward it; returns the status codes."""
    codes = []
    for i, addr in enumerate(addresses):
        s = requests.Session()
        headers = {"X-Forwarded-For": addr} if addr else {}
        s.headers.update(headers)
        r = form_post(srv, s, "/signin", "/signin", {"email": f"nobody{i}@demo.test", "password": "wrong"})
        codes.append(r.status_code)
    return codes


READERS = [f"203.0.113.{i}" for i in range(1, 33)]


def test_the_readme_recipe_keeps_readers_apart(tmp_path):
    # The default trusts the loopback peer (the proxy beside masthead):
    # 32 readers behind it, 32 buckets. Before, they shared one: 30 x 401, then 429.
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_RATE_LIMIT": "6"})
    try:
        assert sign_ins(srv, READERS) == [401] * 32
        # One reader who keeps trying is still limited.
        assert 429 in sign_ins(srv, ["198.51.100.7"] * 8)
    finally:
        srv.stop()


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path):
    for spec in ("none", "10.9.9.9, 10.8.0.0/16"):
        srv = Server(["demo", "--port", "0"], tmp_path / spec.replace(",", "").replace(" ", "_").replace("/", "_"),
                     env={"MASTHEAD_RATE_LIMIT": "6", "MASTHEAD_TRUSTED_PROXY": spec})
        try:
            # The peer (127.0.0.1) is not a trusted proxy: every claimed address is one bucket.
            codes = sign_ins(srv, READERS[:10])
            assert codes[:6] == [401] * 6 and 429 in codes, (spec, codes)
            # Nor does its X-Forwarded-Proto make cookies Secure.
            s = requests.Session()
            r = s.get(srv.url + "/signin", headers={"X-Forwarded-Proto": "https"}, timeout=10)
            assert "Secure" not in r.headers.get("Set-Cookie", ""), spec
        finally:
            srv.stop()


def test_a_trusted_proxy_saying_https_gets_secure_cookies(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    try:
        r = requests.get(srv.url + "/signin", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert "; Secure" in r.headers["Set-Cookie"]
        r = requests.get(srv.url + "/signin", timeout=10)
        assert "Secure" not in r.headers["Set-Cookie"]
    finally:
        srv.stop()


def test_a_bad_trusted_proxy_is_a_usage_error(tmp_path):
    r = run("serve", "--listen", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/40", data=tmp_path / "d")
    assert r.returncode == 2
    assert "trusted-proxy: '10.0.0.0/40' is not an address or network" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
