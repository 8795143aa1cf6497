"""The findings of the attack probe (issue 18, docs/security.md "Findings
fixed"): each test failed before its fix."""
import re
import time

import pytest
import requests

from conftest import Server
from members import PASSWORD, csrf_of, form_post, link_in, mail_count, sign_in, wait_mail
from storefix import Store


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("findings")
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def db(site):
    return Store.of_data(site.data)


def use_link(site, s, path):
    page = s.get(site.url + path, timeout=10)
    assert page.status_code == 200, page.text
    return s.post(site.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)


def signed_in(site, s):
    return s.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 200


# ---- 1. Account pre-hijacking ------------------------------------------------------------------


def test_pre_hijacked_account_is_the_owners_after_confirmation(site):
    victim = "victim@example.test"
    # The attacker signs up with the victim's address and a password of theirs.
    attacker = requests.Session()
    r = form_post(site, attacker, "/signup", "/signup",
                  {"name": "Victim", "email": victim, "password": "attacker-pass"})
    assert r.status_code == 200
    first = wait_mail(site.data, victim)
    attacker_link = link_in(first, "/signin/link/")
    # An unconfirmed account cannot sign in by password.
    a2, r = sign_in(site, victim, "attacker-pass")
    assert r.status_code == 401 and not signed_in(site, a2)
    # A session the account had before (signed in before this release, when
    # an unconfirmed account could) must not outlive the confirmation.
    token = "A" * 43
    import hashlib
    with db(site) as st:
        mid = st.value("SELECT id FROM members WHERE email = ?", victim)
        st.execute("INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at, expires_at, user_agent, ip) "
                   "VALUES (?, ?, 1, 1, 4102444800, '', '')",
                   hashlib.blake2b(token.encode(), digest_size=32).hexdigest(), mid)
    attacker.cookies.set("masthead_session", token)
    assert signed_in(site, attacker)
    # The owner signs up in turn, with a password of their own, and confirms.
    owner = requests.Session()
    r = form_post(site, owner, "/signup", "/signup", {"name": "Owner", "email": victim, "password": "owner-pass-1"})
    assert r.status_code == 200
    path = link_in(wait_mail(site.data, victim, 1), "/signin/link/")
    assert use_link(site, owner, path).status_code == 303
    assert signed_in(site, owner)
    # Everything from before the confirmation is gone: the attacker's
    # password and the link mailed at their sign-up.
    assert sign_in(site, victim, "attacker-pass")[1].status_code == 401
    assert not signed_in(site, attacker)
    r = attacker.get(site.url + attacker_link, timeout=10)
    assert r.status_code == 410
    # The owner's password, chosen with the link they used, works.
    assert sign_in(site, victim, "owner-pass-1")[1].status_code == 303


def test_confirming_ends_sessions_made_before(site):
    who = "early@example.test"
    s = requests.Session()
    form_post(site, s, "/signup", "/signup", {"name": "Early", "email": who})
    link1 = link_in(wait_mail(site.data, who), "/signin/link/")
    # A second link, then the first is used: the address is confirmed by it.
    form_post(site, requests.Session(), "/signin", "/signin/link", {"email": who})
    link2 = link_in(wait_mail(site.data, who, 1), "/signin/link/")
    assert use_link(site, s, link1).status_code == 303 and signed_in(site, s)
    # The other link, issued before the confirmation, no longer works.
    other = requests.Session()
    assert other.get(site.url + link2, timeout=10).status_code == 410
    assert signed_in(site, s)


# ---- 2. Gift links -------------------------------------------------------------------------------

PAID = "/articles/port-pier-9-overnight-cargo"


def full(text):
    return 'class="gated-body' in text


def make_gift(srv, giver):
    page = giver.get(srv.url + PAID, timeout=10)
    action = re.search(r'action="(/articles/[a-z0-9-]+/gift)"', page.text).group(1)
    return giver.post(srv.url + action, data={"csrf": csrf_of(page.text)}, timeout=10)


def test_gift_cookie_is_bound_to_the_browser_and_a_used_up_link_keeps_revoke(tmp_path):
    srv = Server(["demo", "--port", "0", "--gift-max-uses", "1"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    try:
        giver, _ = sign_in(srv, "subscriber@demo.test")
        r = make_gift(srv, giver)
        url = re.search(r"(/articles/[a-z0-9-]+\?gift=[A-Za-z0-9_-]{43})", r.text).group(1)
        token = url.split("=")[1]
        reader = requests.Session()
        assert full(reader.get(srv.url + url, timeout=10).text)
        assert full(reader.get(srv.url + PAID, timeout=10).text)
        with Store.of_data(tmp_path / "data") as st:
            assert st.value("SELECT uses FROM gift_links") == 1
            article_id = st.value("SELECT article_id FROM gift_links")
        # The cookie copied into another browser opens nothing there, and
        # counts nothing: it was issued to the browser that spent the use.
        for other_csrf in (None, "B" * 43):
            other = requests.Session()
            other.cookies.set("masthead_gift", reader.cookies.get("masthead_gift"))
            if other_csrf:
                other.cookies.set("masthead_csrf", other_csrf)
            assert not full(other.get(srv.url + PAID, timeout=10).text)
        # A hand-made cookie of the link's token opens nothing either.
        forged = requests.Session()
        forged.cookies.set("masthead_gift", f"{article_id}.{token}")
        assert not full(forged.get(srv.url + PAID, timeout=10).text)
        with Store.of_data(tmp_path / "data") as st:
            assert st.value("SELECT uses FROM gift_links") == 1
        # Used up, the link still has its Revoke button, and revoking works.
        page = giver.get(srv.url + "/account", timeout=10)
        assert "Opened 1 of 1 time" in page.text
        actions = re.findall(r'action="(/account/gifts/\d+/revoke)"', page.text)
        assert len(actions) == 1
        r = giver.post(srv.url + actions[0], data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
        assert r.status_code == 303
        assert not full(reader.get(srv.url + PAID, timeout=10).text)
    finally:
        srv.stop()
        srv.check_clean()


def test_gift_creation_is_rate_limited(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_RATE_LIMIT": "6"})
    try:
        giver, _ = sign_in(srv, "subscriber@demo.test")
        codes = [make_gift(srv, giver).status_code for _ in range(4)]
        # Per member a third of the limit, at least 3: the fourth is refused.
        assert codes[:3] == [200, 200, 200] and codes[3] == 429, codes
        with Store.of_data(tmp_path / "data") as st:
            assert st.value("SELECT count(*) FROM gift_links") == 3
    finally:
        srv.stop()
        srv.check_clean()


# ---- 3. A renewal killed between its invoice and its charge ---------------------------------------

from conftest import now as clock_now  # noqa: E402
from test_billing import billing_run, checkout, invoices, sub_row  # noqa: E402

READER = "reader@demo.test"


@pytest.fixture
def billing_site(tmp_path):
    srv = Server(["demo", "--port", "0", "--billing-interval", "0", "--recheck-ms", "0"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = tmp_path / "data"
    yield srv
    srv.stop()
    srv.check_clean()


def test_renewal_killed_after_its_invoice_is_billed_by_the_next_run(billing_site):
    srv = billing_site
    s, _ = sign_in(srv, READER)
    assert checkout(srv, s, "/subscribe", {"plan": "monthly"}, "4242424242424242").status_code == 303
    _, period_end, _, _ = sub_row(srv, READER)
    r = billing_run(srv, period_end + 60, env={"MASTHEAD_FAULTS": "crash-after-invoice"})
    assert r.returncode == 3, r.stderr
    # The run died right after the first renewal's invoice was written.
    with Store.of_data(srv.data) as st:
        inv, sub_id, status = st.one("SELECT id, subscription_id, status FROM invoices ORDER BY id DESC LIMIT 1")
        assert status == "open"
        assert st.value("SELECT count(*) FROM charges WHERE invoice_id = ?", inv) == 0
        old_end = st.value("SELECT period_end FROM subscriptions WHERE id = ?", sub_id)
    # The next run, once the dead run's claim (5 minutes) has lapsed, bills it.
    r = billing_run(srv, period_end + 60 + 400)
    assert r.returncode == 0, r.stderr
    with Store.of_data(srv.data) as st:
        assert st.value("SELECT status FROM invoices WHERE id = ?", inv) == "paid"
        assert st.value("SELECT count(*) FROM charges WHERE invoice_id = ? AND status = 'succeeded'", inv) == 1
        status, new_end = st.one("SELECT status, period_end FROM subscriptions WHERE id = ?", sub_id)
        assert status == "active" and new_end > old_end
    assert invoices(srv, READER) == ["paid", "paid"]
    # And once only: another run charges nothing more.
    billing_run(srv, period_end + 60 + 800)
    with Store.of_data(srv.data) as st:
        assert st.value("SELECT count(*) FROM charges WHERE invoice_id = ?", inv) == 1
    assert invoices(srv, READER) == ["paid", "paid"]


def test_active_subscription_long_past_its_period_is_not_entitled(billing_site):
    srv = billing_site
    s, _ = sign_in(srv, READER)
    assert checkout(srv, s, "/subscribe", {"plan": "monthly"}, "4242424242424242").status_code == 303
    now = int(clock_now())
    with Store.of_data(srv.data) as st:
        mid = st.value("SELECT id FROM members WHERE email = ?", READER)
        # Inside the grace period (7 days) after the period's end: still reads.
        st.execute("UPDATE subscriptions SET period_end = ? WHERE member_id = ?", now - 6 * 86400, mid)
    assert full(s.get(srv.url + PAID, timeout=10).text)
    with Store.of_data(srv.data) as st:
        st.execute("UPDATE subscriptions SET period_end = ? WHERE member_id = ?", now - 8 * 86400, mid)
    page = s.get(srv.url + PAID, timeout=10).text
    assert not full(page) and "card" in page


# ---- 4. One client takes the site down ------------------------------------------------------------

import socket  # noqa: E402


def raw_get(port, source="127.0.0.2", path="/healthz"):
    """A GET from another loopback address: its status code, or None."""
    s = socket.socket()
    s.settimeout(20)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None
    finally:
        s.close()


def test_idle_connections_from_one_address_do_not_lock_others_out(tmp_path):
    # No trusted proxy: loopback is a client like any other here.
    srv = Server(["demo", "--port", "0", "--max-connections", "48", "--per-ip-connections", "16"],
                 tmp_path / "data", env={"MASTHEAD_TRUSTED_PROXY": "none"})
    held = []
    try:
        for _ in range(64):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", srv.port))
                s.sendall(b"GET / HTTP/1.1\r\n")  # and never the rest
            except OSError:
                pass
            held.append(s)
        # The server keeps at most 16 of them and closes the rest at once
        # (before, it held every one of them open).
        alive = set(held)
        deadline = time.monotonic() + 10
        while len(alive) > 16 and time.monotonic() < deadline:
            for s in list(alive):
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        alive.discard(s)
                except BlockingIOError:
                    pass
                except OSError:
                    alive.discard(s)
            time.sleep(0.1)
        assert len(alive) <= 16, len(alive)
        # Another client is served while they are held.
        assert raw_get(srv.port) == 200
    finally:
        for s in held:
            s.close()
        srv.stop()


def hold(port, n):
    """n connections from 127.0.0.1 that each sent half a request line."""
    held = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\n")
        held.append(s)
    return held


def still_open(socks, settle=1.0):
    """How many of socks the server has not closed, after a moment."""
    time.sleep(settle)
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) != b"":
                n += 1
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def test_a_trusted_proxy_is_not_held_to_the_per_address_cap(tmp_path):
    """Behind a reverse proxy every reader arrives from the proxy's address:
    the cap must not count it (libmicrohttpd's own per-address option did,
    and turned readers away once the proxy held 16 connections)."""
    srv = Server(["demo", "--port", "0", "--max-connections", "96", "--per-ip-connections", "16"],
                 tmp_path / "data", env={"MASTHEAD_TRUSTED_PROXY": "127.0.0.1"})
    held = []
    try:
        held = hold(srv.port, 40)
        assert still_open(held) == 40
        # And the cap still holds for an address that is not the proxy.
        others = []
        for _ in range(24):
            s = socket.socket()
            s.settimeout(5)
            s.bind(("127.0.0.3", 0))
            s.connect(("127.0.0.1", srv.port))
            others.append(s)
        held += others
        assert still_open(others) <= 16
        assert raw_get(srv.port, source="127.0.0.1") == 200
    finally:
        for s in held:
            s.close()
        srv.stop()


def test_places_are_given_back_when_connections_close(tmp_path):
    """Each closed connection gives its address's place back: after holding
    the cap's worth and closing them, as many again are kept."""
    srv = Server(["demo", "--port", "0", "--per-ip-connections", "8"], tmp_path / "data",
                 env={"MASTHEAD_TRUSTED_PROXY": "none"})
    try:
        for _ in range(3):
            held = hold(srv.port, 8)
            assert still_open(held) == 8
            for s in held:
                s.close()
            time.sleep(0.5)
        assert raw_get(srv.port, source="127.0.0.1") == 200
    finally:
        srv.stop()


def trickle(port, head, each=0.3, within=30.0):
    """Sends head one byte at a time; the seconds until the server closed the
    connection, or None when it was still open after `within` seconds."""
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    start = time.monotonic()
    try:
        i = 0
        while time.monotonic() - start < within:
            try:
                s.sendall(head[i % len(head):i % len(head) + 1])
            except OSError:
                return time.monotonic() - start
            i += 1
            s.setblocking(False)
            try:
                if s.recv(4096) == b"":
                    return time.monotonic() - start
            except BlockingIOError:
                pass
            except OSError:
                return time.monotonic() - start
            s.setblocking(True)
            s.settimeout(5)
            time.sleep(each)
        return None
    finally:
        s.close()


def test_slow_headers_and_slow_bodies_meet_a_deadline(tmp_path):
    srv = Server(["demo", "--port", "0", "--header-timeout", "2", "--body-min-rate", "1000"], tmp_path / "data")
    try:
        # Slowloris: header lines that never end, a byte at a time, each
        # well inside the idle timeout. Closed near the 2 s deadline.
        took = trickle(srv.port, b"GET / HTTP/1.1\r\nX-a: " + b"b" * 4000)
        assert took is not None and took < 25, took
        # A slow body: 2000 bytes promised, a byte every 0.3 s.
        head = b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" \
               b"Content-Length: 2000\r\n\r\n"
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", srv.port))
        s.sendall(head)
        start = time.monotonic()
        closed = None
        while time.monotonic() - start < 30:
            try:
                s.sendall(b"a")
                s.setblocking(False)
                if s.recv(4096) == b"":
                    closed = time.monotonic() - start
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed = time.monotonic() - start
                break
            s.setblocking(True)
            time.sleep(0.3)
        s.close()
        assert closed is not None and closed < 25, closed
        # Everyone else is served meanwhile and after.
        assert srv.get("/healthz").status_code == 200
    finally:
        srv.stop()
        srv.check_clean()


# ---- 5. The low findings -------------------------------------------------------------------------


def test_many_query_parameters_get_a_prompt_answer(tmp_path):
    # The idle timeout is long, so a request left hanging fails the test.
    srv = Server(["demo", "--port", "0", "--timeout", "120"], tmp_path / "data")
    try:
        for n in (300, 1000):
            query = "&".join(f"a{i}=b" for i in range(n))
            r = requests.get(srv.url + "/?" + query, timeout=60)
            assert r.status_code == 414 and "Too many query parameters" in r.text
            r = requests.get(srv.url + "/search?" + query, timeout=60)
            assert r.status_code == 414
        # An ordinary query is untouched, and the server serves on.
        assert requests.get(srv.url + "/search?q=harbor&page=1", timeout=10).status_code == 200
        assert srv.get("/healthz").status_code == 200
    finally:
        srv.stop()
        srv.check_clean()


def sign_in_from(srv, address, who, password):
    s = requests.Session()
    return form_post(srv, s, "/signin", "/signin", {"email": who, "password": password},
                     headers={"X-Forwarded-For": address}).status_code


def test_failures_are_counted_and_the_right_password_gets_through(tmp_path):
    # Rate limit 6: 6 failures an address, 3 an e-mail, in 10 minutes.
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_RATE_LIMIT": "6"})
    try:
        who = "reader@demo.test"
        assert [sign_in_from(srv, "198.51.100.1", who, "wrong-pass") for _ in range(4)] == [401, 401, 401, 429]
        # The member, from an address that has failed nothing, still signs in (after a delay).
        assert sign_in_from(srv, "198.51.100.2", who, PASSWORD) == 303
        # A guesser's new address gets one slow try, then is refused.
        assert sign_in_from(srv, "198.51.100.3", who, "wrong-again") == 401
        assert sign_in_from(srv, "198.51.100.3", who, PASSWORD) == 429
        # Successes are not counted: one address signs in again and again.
        assert [sign_in_from(srv, "198.51.100.9", "subscriber@demo.test", PASSWORD) for _ in range(8)] == [303] * 8
    finally:
        srv.stop()
        srv.check_clean()


def test_sign_up_name_is_not_echoed_into_the_confirmation_mail(site):
    who = "named@example.test"
    name = "Win a prize at https://evil.example/claim now"
    r = form_post(site, requests.Session(), "/signup", "/signup", {"name": name, "email": who})
    assert r.status_code == 200
    msg = wait_mail(site.data, who)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    for part in (text, html, str(msg["Subject"])):
        assert "evil.example" not in part and "prize" not in part
    assert "/signin/link/" in text


def test_links_issued_before_a_password_reset_stop_working(site):
    who = "pastdue@demo.test"
    before = mail_count(site.data, who)
    form_post(site, requests.Session(), "/signin", "/signin/link", {"email": who})
    signin_link = link_in(wait_mail(site.data, who, before), "/signin/link/")
    form_post(site, requests.Session(), "/reset", "/reset", {"email": who})
    old_reset = link_in(wait_mail(site.data, who, before + 1), "/reset/")
    form_post(site, requests.Session(), "/reset", "/reset", {"email": who})
    reset = link_in(wait_mail(site.data, who, before + 2), "/reset/")
    s = requests.Session()
    page = s.get(site.url + reset, timeout=10)
    r = s.post(site.url + reset, data={"csrf": csrf_of(page.text), "password": "after-reset-1",
                                       "password2": "after-reset-1"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    other = requests.Session()
    assert other.get(site.url + signin_link, timeout=10).status_code == 410
    assert other.get(site.url + old_reset, timeout=10).status_code == 410
    assert sign_in(site, who, "after-reset-1")[1].status_code == 303


def test_changing_the_email_needs_the_password_and_tells_the_old_address(site):
    who, new = "subscriber@demo.test", "subscriber-new@example.test"
    s, _ = sign_in(site, who)
    page = s.get(site.url + "/account", timeout=10)
    assert 'id="account-email-password"' in page.text
    for fields in ({"new_email": new}, {"new_email": new, "current_password": "not-my-password"}):
        r = s.post(site.url + "/account/email", data={"csrf": csrf_of(page.text), **fields}, timeout=30)
        assert r.status_code == 400 and "current password is not right" in r.text
    assert mail_count(site.data, new) == 0
    r = s.post(site.url + "/account/email", data={"csrf": csrf_of(page.text), "new_email": new,
                                                  "current_password": PASSWORD}, timeout=30)
    assert r.status_code == 200
    path = link_in(wait_mail(site.data, new), "/account/email/")
    before = mail_count(site.data, who)
    assert use_link(site, s, path).status_code == 303
    told = wait_mail(site.data, who, before)
    body = told.get_body(preferencelist=("plain",)).get_content()
    assert "was changed" in str(told["Subject"]) and new in body


def test_current_password_checks_are_limited(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_RATE_LIMIT": "6"})
    try:
        s, _ = sign_in(srv, "reader@demo.test")
        codes = []
        for _ in range(4):
            page = s.get(srv.url + "/account", timeout=10)
            codes.append(s.post(srv.url + "/account/password",
                                data={"csrf": csrf_of(page.text), "current_password": "guess-guess",
                                      "password": "new-password-1", "password2": "new-password-1"},
                                timeout=30).status_code)
        assert codes == [400, 400, 400, 429], codes
    finally:
        srv.stop()
        srv.check_clean()


def test_tokens_are_redacted_in_the_access_log(billing_site):
    srv = billing_site
    srv.data = srv.data
    who = "reader@demo.test"
    before = mail_count(srv.data, who)
    form_post(srv, requests.Session(), "/signin", "/signin/link", {"email": who})
    link = link_in(wait_mail(srv.data, who, before), "/signin/link/")
    form_post(srv, requests.Session(), "/reset", "/reset", {"email": who})
    reset = link_in(wait_mail(srv.data, who, before + 1), "/reset/")
    s = requests.Session()
    assert use_link(srv, s, link).status_code == 303
    assert requests.get(srv.url + reset, timeout=10).status_code == 200
    page = s.get(srv.url + "/subscribe", timeout=10)
    r = s.post(srv.url + "/subscribe", data={"csrf": csrf_of(page.text), "plan": "monthly"},
               allow_redirects=False, timeout=10)
    checkout_path = r.headers["Location"]
    assert checkout_path.startswith("/checkout/")
    assert s.get(srv.url + checkout_path, timeout=10).status_code == 200
    tokens = [p.rsplit("/", 1)[1] for p in (link, reset, checkout_path)]
    log = ""
    for _ in range(50):  # the access log line is written as each request completes
        log = srv.logs()
        if log.count("path=\"/checkout/[token]\"") >= 1:
            break
        time.sleep(0.1)
    for t in tokens:
        assert t not in log
    assert 'path="/signin/link/[token]"' in log and 'path="/reset/[token]"' in log
    assert 'path="/checkout/[token]"' in log


def test_a_free_trial_is_not_restarted(billing_site):
    from conftest import run
    srv = billing_site
    assert run("plan", "add", "trial", "Trial monthly", "500", "usd", "1", "14", data=srv.data).returncode == 0
    s, _ = sign_in(srv, READER)
    assert checkout(srv, s, "/subscribe", {"plan": "trial"}, "4242424242424242").status_code == 303
    assert sub_row(srv, READER)[0] == "trialing"
    # The trial ends without a payment: canceled during it.
    now = int(clock_now())
    with Store.of_data(srv.data) as st:
        st.execute("UPDATE subscriptions SET status = 'canceled', trial_end = ?, period_end = ?, canceled_at = ? "
                   "WHERE member_id = (SELECT id FROM members WHERE email = ?)", now - 60, now - 60, now - 3600,
                   READER)
    # Subscribing again to the same plan pays at once: no second trial.
    assert checkout(srv, s, "/subscribe", {"plan": "trial"}, "4242424242424242").status_code == 303
    assert sub_row(srv, READER)[0] == "active"
    assert invoices(srv, READER) == ["paid"]


def test_a_double_submitted_checkout_answers_both_sanely(billing_site):
    import threading
    from conftest import run
    srv = billing_site
    outcomes = []
    for i in range(6):
        who = f"double{i}@example.test"
        r = run("user", "add", who, "Double", data=srv.data, input=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
        s, _ = sign_in(srv, who)
        page = s.get(srv.url + "/subscribe", timeout=10)
        r = s.post(srv.url + "/subscribe", data={"csrf": csrf_of(page.text), "plan": "monthly"},
                   allow_redirects=False, timeout=10)
        loc = r.headers["Location"]
        page = s.get(srv.url + loc, timeout=10)
        form = {"csrf": csrf_of(page.text), "number": "4242424242424242", "expiry": "12/34", "cvc": "123",
                "name": "Double"}
        barrier = threading.Barrier(2)
        codes = []

        def pay():
            barrier.wait()
            codes.append(s.post(srv.url + loc, data=form, allow_redirects=False, timeout=30).status_code)

        threads = [threading.Thread(target=pay) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(sorted(codes))
        assert all(c in (303, 409) for c in codes) and 303 in codes, codes
        assert sub_row(srv, who)[0] == "active"
        assert invoices(srv, who) == ["paid"]
    with Store.of_data(srv.data) as st:
        # Charged once each.
        assert st.value("SELECT count(*) FROM charges c JOIN invoices i ON i.id = c.invoice_id JOIN subscriptions s "
                        "ON s.id = i.subscription_id JOIN members m ON m.id = s.member_id "
                        "WHERE m.email LIKE 'double%' AND c.status = 'succeeded'") == 6
