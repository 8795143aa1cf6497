"""The paywall over HTTP: each demo account against public, members and
paid articles; the meter; gift links; auto-paywall; cache headers."""
import re

import pytest
import requests

from conftest import Server
from members import csrf_of, sign_in
from storefix import Store

PUBLIC = "/articles/council-eastshore-rezoning-hearing"
MEMBERS = "/articles/tidewater-route-14-hourly"
PAID = "/articles/port-pier-9-overnight-cargo"
PAID2 = "/articles/rockfish-limits-cooperative-cost"
PAID3 = "/articles/mayor-budget-housing-inspectors"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("paywall")
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def full(text):
    return 'class="gated-body' in text


def paywalled(text):
    return 'class="paywall"' in text


def browser(site, who):
    if who is None:
        return requests.Session()
    s, r = sign_in(site, who)
    assert r.status_code == 303, who
    return s


# viewer, article, expect full, text that must appear
CASES = [
    (None, PUBLIC, True, None),
    (None, MEMBERS, False, "Already have an account?"),
    (None, PAID, False, "Already a subscriber?"),
    ("reader@demo.test", PUBLIC, True, None),
    ("reader@demo.test", MEMBERS, True, None),
    ("reader@demo.test", PAID, False, "does not include a subscription"),
    ("subscriber@demo.test", MEMBERS, True, None),
    ("subscriber@demo.test", PAID, True, "Gift this article"),
    ("pastdue@demo.test", PAID, True, "Your last payment did not go through"),
    ("lapsed@demo.test", MEMBERS, True, None),
    ("lapsed@demo.test", PAID, False, "Your payment did not go through"),
    ("editor@demo.test", PAID, True, None),
    ("admin@demo.test", PAID, True, None),
]


@pytest.mark.parametrize("who,path,want_full,text", CASES,
                         ids=[f"{c[0] or 'anonymous'}-{c[1].split('/')[-1]}" for c in CASES])
def test_access_for_each_demo_account(site, who, path, want_full, text):
    s = browser(site, who)
    r = s.get(site.url + path, timeout=10)
    assert r.status_code == 200
    assert full(r.text) == want_full
    assert paywalled(r.text) != want_full
    if text:
        assert text in r.text
    if not want_full:
        assert ("Already a subscriber?" in r.text) == (who is None and path == PAID)


def test_lapsed_sees_the_card_and_a_way_to_update_it(site):
    s = browser(site, "lapsed@demo.test")
    r = s.get(site.url + PAID, timeout=10)
    assert "make sure the card on file is up to date" in r.text
    # The demo's lapsed card is a 4242 that expired before its renewal.
    assert re.search(r"Visa ending 4242, expires \d\d/\d{4}", r.text)
    box = r.text.split('class="paywall"')[1].split("</aside>")[0]
    assert "Subscribe</a>" not in box
    # One click to the card form: the button posts to the billing page, which
    # opens the checkout with the article to return to.
    form = re.search(r'<form method="post" action="/account/billing"[^>]*>(.*?)</form>', box, re.S).group(1)
    assert 'name="action" value="card"' in form and 'name="next" value="' + PAID + '"' in form
    assert ">Update your card</button>" in form
    fields = dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', form))
    r = s.post(site.url + "/account/billing", data=fields, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith("/checkout/")
    assert r.headers["Location"].endswith("?next=" + PAID.replace("/", "%2F"))


def test_cache_headers_by_viewer(site):
    anon = requests.get(site.url + PAID, timeout=10)
    assert anon.headers["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in anon.headers["Vary"]
    s = browser(site, "subscriber@demo.test")
    r = s.get(site.url + PAID, timeout=10)
    assert r.headers["Cache-Control"] == "private, no-store"
    r = s.get(site.url + PUBLIC, timeout=10)
    assert r.headers["Cache-Control"] == "private, no-store"


def test_json_ld_does_not_depend_on_the_reader(site):
    anon = requests.get(site.url + PAID, timeout=10).text
    sub = browser(site, "subscriber@demo.test").get(site.url + PAID, timeout=10).text
    pick = lambda t: re.search(r'<script type="application/ld\+json">(.*?)</script>', t, re.S).group(1)
    assert pick(anon) == pick(sub)
    assert '"isAccessibleForFree":false' in pick(anon)


def gift(site, path=PAID):
    s = browser(site, "subscriber@demo.test")
    page = s.get(site.url + path, timeout=10)
    action = re.search(r'action="(/articles/[a-z0-9-]+/gift)"', page.text).group(1)
    r = s.post(site.url + action, data={"csrf": csrf_of(page.text)}, timeout=10)
    assert r.status_code == 200
    url = re.search(r"(/articles/[a-z0-9-]+\?gift=[A-Za-z0-9_-]{43})", r.text).group(1)
    return s, url


def test_gift_link_opens_the_article_for_anyone(site):
    _, url = gift(site)
    r = requests.get(site.url + url, timeout=10)
    assert full(r.text)
    assert r.headers["Cache-Control"] == "private, no-store"
    # The link opens only that article.
    other = requests.get(site.url + PAID2 + "?gift=" + url.split("=")[1], timeout=10)
    assert not full(other.text)
    # A reader without a subscription cannot give it onwards.
    reader = browser(site, "reader@demo.test")
    page = reader.get(site.url + url, timeout=10)
    assert full(page.text) and "Gift this article" not in page.text
    r = reader.post(site.url + PAID + "/gift", data={"csrf": csrf_of(reader.get(site.url + "/account").text)},
                    timeout=10)
    assert r.status_code == 403


def test_gift_use_limit_expiry_and_revocation(tmp_path):
    srv = Server(["demo", "--port", "0", "--gift-max-uses", "2"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    try:
        giver, url = gift(srv)
        first, second, third = requests.Session(), requests.Session(), requests.Session()
        assert full(first.get(srv.url + url, timeout=10).text)
        # Reloading in the same browser does not count again.
        assert full(first.get(srv.url + url, timeout=10).text)
        assert full(first.get(srv.url + PAID, timeout=10).text)
        assert full(second.get(srv.url + url, timeout=10).text)
        r = third.get(srv.url + url, timeout=10)
        assert not full(r.text) and "reached its limit" in r.text
        # Revoked from the account page: its holders lose it.
        page = giver.get(srv.url + "/account", timeout=10)
        assert "Opened 2 of 2 times" in page.text
        _, url2 = gift(srv)
        fourth = requests.Session()
        assert full(fourth.get(srv.url + url2, timeout=10).text)
        page = giver.get(srv.url + "/account", timeout=10)
        action = re.findall(r'action="(/account/gifts/\d+/revoke)"', page.text)[0]
        r = giver.post(srv.url + action, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
        assert r.status_code == 303
        assert not full(fourth.get(srv.url + PAID, timeout=10).text)
        assert not full(requests.get(srv.url + url2, timeout=10).text)
        # Expired.
        _, url3 = gift(srv)
        with Store.of_data(tmp_path / "data") as st:
            st.execute("UPDATE gift_links SET expires_at = 1 WHERE revoked_at = 0")
        assert not full(requests.get(srv.url + url3, timeout=10).text)
        # Someone else's gift cannot be revoked.
        other, _ = sign_in(srv, "reader@demo.test")
        page = other.get(srv.url + "/account", timeout=10)
        r = other.post(srv.url + action, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
        assert r.status_code == 404
        assert requests.get(srv.url + PAID + "?gift=garbage", timeout=10).status_code == 200
    finally:
        srv.stop()
        srv.check_clean()


def test_meter_for_anonymous_readers(tmp_path):
    srv = Server(["demo", "--port", "0", "--meter-articles", "2"], tmp_path / "data")
    try:
        s = requests.Session()
        r = s.get(srv.url + PAID, timeout=10)
        assert full(r.text) and "1 free article left this month" in r.text
        assert r.headers["Cache-Control"] == "private, no-store"
        # The same article again does not count.
        r = s.get(srv.url + PAID, timeout=10)
        assert full(r.text) and "1 free article left" in r.text
        r = s.get(srv.url + PAID2, timeout=10)
        assert full(r.text) and "0 free articles left" in r.text
        r = s.get(srv.url + PAID3, timeout=10)
        assert not full(r.text) and "You have read your 2 free articles this month" in r.text
        assert full(s.get(srv.url + PAID, timeout=10).text)
        # A forged cookie counts for nothing: it is signed.
        forged = requests.Session()
        cookie = s.cookies.get("masthead_meter")
        forged.cookies.set("masthead_meter", cookie.replace(cookie.split(".")[1], "1"), domain="127.0.0.1", path="/")
        r = forged.get(srv.url + PAID, timeout=10)
        assert "1 free article left" in r.text
        # Members articles are not metered: they need a free account.
        assert not full(requests.get(srv.url + MEMBERS, timeout=10).text)
    finally:
        srv.stop()
        srv.check_clean()


def test_meter_for_members_and_the_month_rollover(tmp_path):
    srv = Server(["demo", "--port", "0", "--meter-articles", "1"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    try:
        s, _ = sign_in(srv, "reader@demo.test")
        r = s.get(srv.url + PAID, timeout=10)
        assert full(r.text) and "0 free articles left" in r.text
        assert not full(s.get(srv.url + PAID2, timeout=10).text)
        # Kept in the database: another browser of the same member sees it.
        s2, _ = sign_in(srv, "reader@demo.test")
        assert not full(s2.get(srv.url + PAID2, timeout=10).text)
        assert full(s2.get(srv.url + PAID, timeout=10).text)
        # A new month starts afresh.
        with Store.of_data(tmp_path / "data") as st:
            st.execute("UPDATE meter_reads SET month = '2000-01'")
        assert full(s.get(srv.url + PAID2, timeout=10).text)
        # Subscribers never touch the meter.
        sub, _ = sign_in(srv, "subscriber@demo.test")
        assert "free article" not in sub.get(srv.url + PAID3, timeout=10).text
    finally:
        srv.stop()
        srv.check_clean()


def test_auto_paywall(tmp_path):
    srv = Server(["demo", "--port", "0", "--auto-paywall-days", "1"], tmp_path / "data")
    try:
        r = requests.get(srv.url + PUBLIC, timeout=10)
        assert not full(r.text) and "Already a subscriber?" in r.text
        assert '"isAccessibleForFree":false' in r.text
        front = requests.get(srv.url + "/", timeout=10).text
        assert "Subscribers only" in front.partition('href="/articles/council-eastshore-rezoning-hearing"')[2][:2000]
    finally:
        srv.stop()
        srv.check_clean()


def test_members_paywall_offers_a_free_account(site):
    """Issue 11: a members article's paywall says "Create a free account to
    keep reading": its button says so too and leads to sign-up, then back."""
    r = requests.get(site.url + MEMBERS, timeout=10)
    box = r.text.split('class="paywall"')[1].split("</aside>")[0]
    assert "Create a free account to keep reading" in box
    button = re.search(r'<p class="paywall-actions"><a class="button" href="([^"]+)">([^<]+)</a>', box)
    assert button, box
    assert button.group(2) == "Create a free account"
    assert button.group(1) == "/signup?next=" + MEMBERS
    assert ">Subscribe<" not in box
    # The sign-up page carries the article on.
    page = requests.get(site.url + button.group(1), timeout=10).text
    assert 'name="next" value="' + MEMBERS + '"' in page
    # A paid article still offers a subscription, which comes back to it.
    box = requests.get(site.url + PAID, timeout=10).text.split('class="paywall"')[1].split("</aside>")[0]
    assert '<a class="button" href="/subscribe?next=' + PAID + '">Subscribe</a>' in box


def test_a_browser_keeps_every_gift_it_opened(tmp_path):
    """Issue 11: opening a second gift link dropped the first, and reopening
    the first spent another use. With one use per link, both stay open."""
    srv = Server(["demo", "--port", "0", "--gift-max-uses", "1"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    try:
        giver, one = gift(srv, PAID)
        _, two = gift(srv, PAID2)
        reader = requests.Session()
        assert full(reader.get(srv.url + one, timeout=10).text)
        assert full(reader.get(srv.url + two, timeout=10).text)
        # The first link again, and both articles by their plain address.
        for path in (one, two, PAID, PAID2, one):
            r = reader.get(srv.url + path, timeout=10)
            assert full(r.text), path
            assert r.headers["Cache-Control"] == "private, no-store"
        assert not full(reader.get(srv.url + PAID3, timeout=10).text)
        # A broken link to an article the browser holds a gift for does not take it away.
        assert full(reader.get(srv.url + PAID + "?gift=garbage", timeout=10).text)
        # Each link was spent once, by this browser: nobody else gets in.
        assert not full(requests.get(srv.url + one, timeout=10).text)
        assert not full(requests.get(srv.url + two, timeout=10).text)
        # The giver's account page lists every link given here, newest first.
        uses = re.findall(r"Opened (\d+) of \d+ times?", giver.get(srv.url + "/account", timeout=10).text)
        assert [int(u) for u in reversed(uses)] == [1, 1]
        # The cookie is signed: a forged one does not pass for a held gift.
        cookie = reader.cookies.get("masthead_gift")
        forged = requests.Session()
        forged.cookies.set("masthead_gift", cookie[:-4] + ("0000" if cookie[-4:] != "0000" else "1111"),
                           domain="127.0.0.1", path="/")
        assert not full(forged.get(srv.url + one, timeout=10).text)
        assert not full(forged.get(srv.url + PAID, timeout=10).text)
    finally:
        srv.stop()
        srv.check_clean()


def test_gift_cookie_keeps_the_last_sixteen(tmp_path):
    srv = Server(["demo", "--port", "0", "--gift-max-uses", "1"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    try:
        giver, first = gift(srv, PAID)
        reader = requests.Session()
        assert full(reader.get(srv.url + first, timeout=10).text)
        page = giver.get(srv.url + PAID2, timeout=10)
        links = []
        for _ in range(16):
            r = giver.post(srv.url + PAID2 + "/gift", data={"csrf": csrf_of(page.text)}, timeout=10)
            links.append(re.search(r"(/articles/[a-z0-9-]+\?gift=[A-Za-z0-9_-]{43})", r.text).group(1))
        for url in links:
            assert full(reader.get(srv.url + url, timeout=10).text)
        assert len(reader.cookies.get("masthead_gift")) < 4096
        # Sixteen newer gifts pushed the first one out; the newer ones stay.
        assert not full(reader.get(srv.url + PAID, timeout=10).text)
        assert full(reader.get(srv.url + links[0], timeout=10).text)
        assert full(reader.get(srv.url + links[-1], timeout=10).text)
    finally:
        srv.stop()
        srv.check_clean()


def test_gift_refusals_say_why(tmp_path):
    """A revoked link says its giver withdrew it; an expired or used-up one says so."""
    srv = Server(["demo", "--port", "0", "--gift-max-uses", "1", "--gift-days", "1"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    try:
        giver, url = gift(srv)
        # One reader, one day: the message counts right.
        page = giver.get(srv.url + PAID, timeout=10)
        r = giver.post(srv.url + PAID + "/gift", data={"csrf": csrf_of(page.text)}, timeout=10)
        assert "up to 1 person, for 1 day." in r.text
        assert "Opened 0 of 1 time," in giver.get(srv.url + "/account", timeout=10).text
        holder = requests.Session()
        assert full(holder.get(srv.url + url, timeout=10).text)
        r = requests.get(srv.url + url, timeout=10)
        assert not full(r.text) and "reached its limit" in r.text and "withdrawn" not in r.text
        page = giver.get(srv.url + "/account", timeout=10)
        for action in re.findall(r'action="(/account/gifts/\d+/revoke)"', page.text):
            assert giver.post(srv.url + action, data={"csrf": csrf_of(page.text)}, allow_redirects=False,
                              timeout=10).status_code == 303
        for r in (holder.get(srv.url + url, timeout=10), holder.get(srv.url + PAID, timeout=10)):
            assert not full(r.text)
            assert "withdrawn the gift link" in r.text and "expired or reached its limit" not in r.text
        _, url2 = gift(srv)
        with Store.of_data(tmp_path / "data") as st:
            st.execute("UPDATE gift_links SET expires_at = 1 WHERE revoked_at = 0")
        r = requests.get(srv.url + url2, timeout=10)
        assert not full(r.text) and "This gift link has expired." in r.text
        r = requests.get(srv.url + PAID + "?gift=" + "A" * 43, timeout=10)
        assert not full(r.text) and "does not work" in r.text
    finally:
        srv.stop()
        srv.check_clean()


def test_a_free_article_needs_no_gift(site):
    s = browser(site, "subscriber@demo.test")
    for path, text in ((PUBLIC, "This article is free to read: share its address."),
                       (MEMBERS, "free to read with a free account")):
        page = s.get(site.url + path, timeout=10)
        assert "Gift this article" not in page.text
        r = s.post(site.url + path + "/gift", data={"csrf": csrf_of(page.text)}, timeout=10)
        assert r.status_code == 409, r.status_code
        assert text in r.text and "Only subscribers" not in r.text
        assert site.url + path in r.text
