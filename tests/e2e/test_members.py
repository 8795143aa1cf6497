"""Members over HTTP: sign-up, password and magic-link sign-in, sessions,
CSRF, rate limits, account enumeration, reset, change of e-mail."""
import glob
import os
import re
import time

import pytest
import requests

from conftest import Server
from members import PASSWORD, csrf_of, form_post, link_in, mail_count, sign_in, wait_mail
from storefix import Store

DEMO = ["reader@demo.test", "subscriber@demo.test", "pastdue@demo.test", "lapsed@demo.test",
        "editor@demo.test", "admin@demo.test"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("members")
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def db(site):
    """The site's store, for what no page shows (token rows, expiry times);
    `with db(site) as st:` commits and closes."""
    return Store.of_data(site.data)


def strip_tokens(html):
    return re.sub(r'value="[A-Za-z0-9_-]{43}"', 'value=""', html)


@pytest.mark.parametrize("who", DEMO)
def test_every_demo_account_signs_in_with_its_password(site, who):
    s, r = sign_in(site, who, next_path="/account")
    assert r.status_code == 303
    assert r.headers["Location"] == "/account"
    cookie = r.headers["Set-Cookie"]
    assert "masthead_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here
    page = s.get(site.url + "/account", timeout=10)
    assert page.status_code == 200
    assert who in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    # The header shows the member instead of Sign in.
    front = s.get(site.url + "/", timeout=10).text
    assert 'href="/account"' in front and ">Sign in<" not in front


@pytest.mark.parametrize("who", DEMO)
def test_every_demo_account_signs_in_by_magic_link(site, who):
    before = mail_count(site.data, who)
    s = requests.Session()
    r = form_post(site, s, "/signin", "/signin/link", {"email": who, "next": "/account"})
    assert r.status_code == 200 and "Check your e-mail" in r.text
    msg = wait_mail(site.data, who, before)
    path = link_in(msg, "/signin/link/")
    # Opening the link only shows a button: a mail scanner spends nothing.
    for _ in range(2):
        page = s.get(site.url + path, timeout=10)
        assert page.status_code == 200 and 'method="post"' in page.text.lower()
    assert "masthead_session" not in s.cookies
    r = s.post(site.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/account"
    assert who in s.get(site.url + "/account", timeout=10).text
    # Single use.
    again = s.post(site.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert again.status_code == 410
    assert site.get(path).status_code == 410


def test_mail_is_proper_mime(site):
    before = mail_count(site.data, "reader@demo.test")
    form_post(site, requests.Session(), "/signin", "/signin/link", {"email": "reader@demo.test"})
    msg = wait_mail(site.data, "reader@demo.test", before)
    assert msg["Date"] and msg["Message-ID"] and msg["Subject"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(preferencelist=("plain",)) is not None
    assert msg.get_body(preferencelist=("html",)) is not None


def test_expired_link_is_refused(site):
    before = mail_count(site.data, "reader@demo.test")
    form_post(site, requests.Session(), "/signin", "/signin/link", {"email": "reader@demo.test"})
    path = link_in(wait_mail(site.data, "reader@demo.test", before), "/signin/link/")
    with db(site) as st:
        st.execute("UPDATE auth_tokens SET expires_at = expires_at - 16 * 60")
    assert site.get(path).status_code == 410
    s = requests.Session()
    page = s.get(site.url + "/signin", timeout=10)
    r = s.post(site.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert r.status_code == 410
    assert site.get("/signin/link/not-a-token").status_code == 410


def test_wrong_password_and_unknown_email_answer_alike(site):
    _, wrong = sign_in(site, "reader@demo.test", "not-the-password")
    _, unknown = sign_in(site, "nobody-here@demo.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.text
    a = strip_tokens(wrong.text).replace("reader@demo.test", "X")
    b = strip_tokens(unknown.text).replace("nobody-here@demo.test", "X")
    assert a == b


def test_link_and_reset_requests_answer_alike(site):
    for action, page in (("/signin/link", "/signin"), ("/reset", "/reset")):
        known = form_post(site, requests.Session(), page, action, {"email": "reader@demo.test"})
        unknown = form_post(site, requests.Session(), page, action, {"email": "ghost@demo.test"})
        assert known.status_code == unknown.status_code == 200
        assert strip_tokens(known.text) == strip_tokens(unknown.text)


def test_csrf_is_required(site):
    s = requests.Session()
    s.get(site.url + "/signin", timeout=10)
    r = s.post(site.url + "/signin", data={"email": "reader@demo.test", "password": PASSWORD},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    r = s.post(site.url + "/signin", data={"email": "reader@demo.test", "password": PASSWORD,
                                           "csrf": "A" * 43}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    # A token from another browser does not fit this browser's cookie.
    other = requests.Session()
    token = csrf_of(other.get(site.url + "/signin", timeout=10).text)
    r = s.post(site.url + "/signin", data={"email": "reader@demo.test", "password": PASSWORD, "csrf": token},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    # Signed in, sign-out needs the token too.
    s, _ = sign_in(site, "reader@demo.test")
    r = s.post(site.url + "/signout", data={}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert s.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 200


@pytest.mark.parametrize("nxt", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                 "http:/evil.example", "/%0d%0aSet-Cookie:x=1"])
def test_next_never_leaves_the_site(site, nxt):
    _, r = sign_in(site, "reader@demo.test", next_path=nxt)
    assert r.status_code == 303
    loc = r.headers["Location"]
    assert loc.startswith("/") and not loc.startswith("//") and "evil" not in loc.split("?")[0][:2], loc
    assert loc == "/" or loc == nxt
    r = site.get("/signin?next=" + requests.utils.quote(nxt))
    assert 'value="' + nxt + '"' not in r.text or nxt.startswith("/%")


def test_signin_redirects_to_local_next(site):
    _, r = sign_in(site, "reader@demo.test", next_path="/articles/port-pier-9-overnight-cargo")
    assert r.headers["Location"] == "/articles/port-pier-9-overnight-cargo"


def test_new_session_on_every_sign_in(site):
    s = requests.Session()
    s.cookies.set("masthead_session", "A" * 43, domain="127.0.0.1", path="/")
    r = form_post(site, s, "/signin", "/signin", {"email": "reader@demo.test", "password": PASSWORD})
    first = s.cookies.get("masthead_session")
    assert first and first != "A" * 43
    # Signed in, the sign-in form redirects; post from the account page's token.
    r = form_post(site, s, "/account", "/signin", {"email": "reader@demo.test", "password": PASSWORD})
    assert r.status_code == 303
    assert s.cookies.get("masthead_session") != first
    # The old session is gone.
    old = requests.Session()
    old.cookies.set("masthead_session", first)
    assert old.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 303


def test_only_the_hash_is_stored(site):
    s, _ = sign_in(site, "editor@demo.test")
    token = s.cookies.get("masthead_session")
    assert len(token) == 43
    with db(site) as st:
        rows = [r[0] for r in st.all("SELECT token_hash FROM sessions")]
    assert token not in rows and all(len(h) == 64 for h in rows)
    # Nor anywhere on disk: every file of the data dir (a SQLite store's
    # database and journal among them).
    for path in glob.glob(str(site.data / "**" / "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                assert token.encode() not in f.read(), path


def test_sign_out_and_sign_out_everywhere(site):
    a, _ = sign_in(site, "admin@demo.test")
    b, _ = sign_in(site, "admin@demo.test")
    c, _ = sign_in(site, "admin@demo.test")
    page = a.get(site.url + "/account", timeout=10)
    r = a.post(site.url + "/signout", data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert a.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 303
    assert b.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 200
    page = b.get(site.url + "/account", timeout=10)
    assert "Sign out everywhere" in page.text
    r = b.post(site.url + "/account/sessions/revoke", data={"csrf": csrf_of(page.text)}, allow_redirects=False,
               timeout=10)
    assert r.status_code == 303
    for s in (b, c):
        assert s.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 303


def test_account_requires_sign_in(site):
    r = site.get("/account")
    assert r.status_code == 303 and r.headers["Location"] == "/signin?next=%2Faccount"


def test_sliding_expiry(site):
    s, _ = sign_in(site, "reader@demo.test")
    with db(site) as st:
        st.execute("UPDATE sessions SET last_seen_at = last_seen_at - 3600, expires_at = expires_at - 3600")
        before = st.value("SELECT max(expires_at) FROM sessions")
    r = s.get(site.url + "/account", timeout=10)
    assert "masthead_session=" in r.headers.get("Set-Cookie", "")
    with db(site) as st:
        after = st.value("SELECT max(expires_at) FROM sessions")
    assert after >= before + 3600


def test_expired_session_is_anonymous(site):
    s, _ = sign_in(site, "reader@demo.test")
    token = s.cookies.get("masthead_session")
    import hashlib
    h = hashlib.blake2b(token.encode(), digest_size=32).hexdigest()
    with db(site) as st:
        st.execute("UPDATE sessions SET expires_at = 1 WHERE token_hash = ?", h)
    r = s.get(site.url + "/account", allow_redirects=False, timeout=10)
    assert r.status_code == 303


def test_signup_then_link(site):
    s = requests.Session()
    r = form_post(site, s, "/signup", "/signup", {"name": "Nora New", "email": "Nora@Example.test",
                                                  "password": "a-fine-password"})
    assert r.status_code == 200 and "Check your e-mail" in r.text
    msg = wait_mail(site.data, "nora@example.test")
    assert "Welcome" in msg.get_body(preferencelist=("plain",)).get_content() or "welcome" in str(msg["Subject"]).lower()
    path = link_in(msg, "/signin/link/")
    page = s.get(site.url + path, timeout=10)
    r = s.post(site.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert "Nora New" in s.get(site.url + "/account", timeout=10).text
    # The password chosen at sign-up works too.
    _, r = sign_in(site, "nora@example.test", "a-fine-password")
    assert r.status_code == 303
    # Signing up again with the same address answers the same way.
    again = form_post(site, requests.Session(), "/signup", "/signup", {"name": "Other", "email": "nora@example.test"})
    fresh = form_post(site, requests.Session(), "/signup", "/signup", {"name": "Other", "email": "zed@example.test"})
    assert again.status_code == fresh.status_code == 200
    assert strip_tokens(again.text) == strip_tokens(fresh.text)


@pytest.mark.parametrize("fields,message", [
    ({"name": "X", "email": "not-an-email"}, "valid e-mail"),
    ({"name": "", "email": "a@example.test"}, "your name"),
    ({"name": "X", "email": "a@example.test", "password": "short"}, "at least 8"),
])
def test_signup_bad_input(site, fields, message):
    r = form_post(site, requests.Session(), "/signup", "/signup", fields)
    assert r.status_code == 400 and message in r.text


def test_password_reset(site):
    who = "pastdue@demo.test"
    other, _ = sign_in(site, who)
    before = mail_count(site.data, who)
    s = requests.Session()
    r = form_post(site, s, "/reset", "/reset", {"email": who})
    assert r.status_code == 200
    path = link_in(wait_mail(site.data, who, before), "/reset/")
    page = s.get(site.url + path, timeout=10)
    assert page.status_code == 200 and 'name="password2"' in page.text
    r = s.post(site.url + path, data={"csrf": csrf_of(page.text), "password": "brand-new-pass",
                                      "password2": "other-pass"}, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "not the same" in r.text
    r = s.post(site.url + path, data={"csrf": csrf_of(page.text), "password": "brand-new-pass",
                                      "password2": "brand-new-pass"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert s.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 200
    assert other.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 303
    assert sign_in(site, who)[1].status_code == 401
    assert sign_in(site, who, "brand-new-pass")[1].status_code == 303
    # Put the demo password back for other tests.
    s2, _ = sign_in(site, who, "brand-new-pass")
    page = s2.get(site.url + "/account", timeout=10)
    r = s2.post(site.url + "/account/password", data={"csrf": csrf_of(page.text), "current_password": "brand-new-pass",
                                                     "password": PASSWORD, "password2": PASSWORD},
                allow_redirects=False, timeout=10)
    assert r.status_code == 303


def test_change_of_email_is_confirmed_by_mail(site):
    s = requests.Session()
    form_post(site, s, "/signup", "/signup", {"name": "Eve Change", "email": "eve@example.test"})
    path = link_in(wait_mail(site.data, "eve@example.test"), "/signin/link/")
    page = s.get(site.url + path, timeout=10)
    s.post(site.url + path, data={"csrf": csrf_of(page.text)}, timeout=10)
    page = s.get(site.url + "/account", timeout=10)
    r = s.post(site.url + "/account/email", data={"csrf": csrf_of(page.text), "new_email": "eve2@example.test"},
               timeout=10)
    assert r.status_code == 200 and "eve2@example.test" in r.text
    assert "eve@example.test" in s.get(site.url + "/account", timeout=10).text
    path = link_in(wait_mail(site.data, "eve2@example.test"), "/account/email/")
    page = s.get(site.url + path, timeout=10)
    r = s.post(site.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert "eve2@example.test" in s.get(site.url + "/account", timeout=10).text
    # An address in use gets no mail; the answer is the same.
    before = mail_count(site.data, "reader@demo.test")
    page = s.get(site.url + "/account", timeout=10)
    r = s.post(site.url + "/account/email", data={"csrf": csrf_of(page.text), "new_email": "reader@demo.test"},
               timeout=10)
    assert r.status_code == 200
    time.sleep(1.5)
    assert mail_count(site.data, "reader@demo.test") == before


def test_rate_limit(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_RATE_LIMIT": "6"})
    try:
        # Per e-mail: a third of the limit, at least 3.
        codes = [sign_in(srv, "reader@demo.test", "wrong-password")[1].status_code for _ in range(4)]
        assert codes[:3] == [401, 401, 401]
        assert codes[3] == 429
        s, r = sign_in(srv, "reader@demo.test", "wrong-password")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        # Per address: other e-mails run into it too, known or not. Failures
        # count, not attempts: 3 so far, 3 more reach the limit of 6.
        codes = [sign_in(srv, f"ghost{i}@demo.test", "wrong-password")[1].status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
        r = form_post(srv, requests.Session(), "/signin", "/signin/link", {"email": "ghost@demo.test"})
        assert r.status_code in (200, 429)
    finally:
        srv.stop()


def test_secure_cookie_behind_https(tmp_path):
    srv = Server(["demo", "--port", "0", "--public-url", "https://news.example.test"], tmp_path / "data")
    try:
        page = srv.get("/signin")
        assert "Secure" in page.headers["Set-Cookie"]
        # requests keeps Secure cookies off plain http; send it by hand.
        csrf_cookie = page.headers["Set-Cookie"].split(";")[0]
        r = srv.request("POST", "/signin", headers={"Cookie": csrf_cookie},
                        data={"email": "reader@demo.test", "password": PASSWORD, "csrf": csrf_of(page.text)})
        assert r.status_code == 303
        assert "masthead_session=" in r.headers["Set-Cookie"] and "Secure" in r.headers["Set-Cookie"]
    finally:
        srv.stop()
