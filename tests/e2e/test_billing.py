"""Billing over HTTP and the command line: checkout with the test cards,
the renewal lifecycle stepped with `billing run --at`, card updates that
retry at once, cancellation, and money handled exactly once."""
import datetime
import glob
import os
import re

import pytest
import requests

from conftest import Server, eventually, now, now_dt, run
from members import csrf_of, mails, sign_in
from storefix import Store

PAID = "/articles/port-pier-9-overnight-cargo"
CVC = "731"


def full(text):
    return 'class="gated-body' in text


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def db(srv):
    """The site's store, for what no page or command shows (exact times,
    invoice and charge rows); `with db(srv) as st:` commits and closes."""
    return Store.of_data(srv.data)


def sub_row(srv, email):
    with db(srv) as st:
        return st.one("SELECT s.status, s.period_end, s.grace_until, s.cancel_at_period_end FROM subscriptions s "
                      "JOIN members m ON m.id = s.member_id WHERE m.email = ?", email)


def invoices(srv, email):
    with db(srv) as st:
        return [r[0] for r in st.all(
            "SELECT i.status FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id JOIN members m "
            "ON m.id = s.member_id WHERE m.email = ? ORDER BY i.id", email)]


def attempts(srv, email):
    with db(srv) as st:
        return st.value("SELECT count(*) FROM charges ch JOIN invoices i ON i.id = ch.invoice_id JOIN subscriptions s "
                        "ON s.id = i.subscription_id JOIN members m ON m.id = s.member_id WHERE m.email = ?", email)


def billing_run(srv, ts, env=None):
    r = run("billing", "run", "--at", iso(ts), data=srv.data, env=env)
    return r


@pytest.fixture
def site(tmp_path):
    # Billing runs here are commands beside the server, as from cron: the
    # server rereads the versions for every request to see them at once.
    srv = Server(["demo", "--port", "0", "--billing-interval", "0", "--recheck-ms", "0"], tmp_path / "data",
                 env={"MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = tmp_path / "data"
    yield srv
    srv.stop()
    srv.check_clean()


def checkout(srv, s, form_page, action_fields, card, expiry="12/34", name="Riley Reader"):
    """Posts a form that leads to the test checkout, then the card; returns the last response."""
    page = s.get(srv.url + form_page, timeout=10)
    fields = dict(action_fields)
    fields["csrf"] = csrf_of(page.text)
    r = s.post(srv.url + form_page.split("?")[0], data=fields, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text[:500]
    loc = r.headers["Location"]
    assert loc.startswith("/checkout/"), loc
    page = s.get(srv.url + loc, timeout=10)
    assert page.status_code == 200 and "TEST MODE" in page.text
    r = s.post(srv.url + loc, data={"csrf": csrf_of(page.text), "number": card, "expiry": expiry,
                                    "cvc": CVC, "name": name}, allow_redirects=False, timeout=30)
    return r


def test_subscribe_renew_fail_recover_cancel(site):
    who = "reader@demo.test"
    s, _ = sign_in(site, who)
    assert not full(s.get(site.url + PAID, timeout=10).text)
    plans = s.get(site.url + "/subscribe", timeout=10)
    assert "Monthly" in plans.text and "$8.00" in plans.text and "Yearly" in plans.text
    r = checkout(site, s, "/subscribe", {"plan": "monthly"}, "4242 4242 4242 4242")
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/billing")
    billing = s.get(site.url + "/account/billing", timeout=10).text
    assert "Active" in billing and "Visa ending 4242, expires 12/2034" in billing
    assert full(s.get(site.url + PAID, timeout=10).text)
    status, period_end, _, _ = sub_row(site, who)
    assert status == "active"

    # Renewal at the end of the period.
    r = billing_run(site, period_end + 3600)
    assert r.returncode == 0, r.stderr
    assert invoices(site, who) == ["paid", "paid"]
    status, period_end2, _, _ = sub_row(site, who)
    assert status == "active" and period_end2 > period_end
    # The same run again charges nothing more.
    assert billing_run(site, period_end + 3600).returncode == 0
    assert invoices(site, who) == ["paid", "paid"] and attempts(site, who) == 2

    # Switch to a card whose charges fail; nothing is owed, so nothing is charged.
    r = checkout(site, s, "/account/billing", {"action": "card"}, "4000 0000 0000 0341")
    assert r.status_code == 303
    assert "Visa ending 0341" in s.get(site.url + "/account/billing", timeout=10).text

    # The next renewal fails: past_due, a mail, and the banner.
    before = len([m for m in mails(site.data) if who in str(m["To"])])
    r = billing_run(site, period_end2 + 60)
    assert invoices(site, who) == ["paid", "paid", "open"], r.stdout
    status, _, grace, _ = sub_row(site, who)
    assert status == "past_due" and grace >= period_end2 + 7 * 86400
    # The command is another process: the server sees it within a second.
    page = eventually(lambda: s.get(site.url + PAID, timeout=10).text,
                      lambda t: "Your last payment did not go through" in t)
    assert full(page) and "Your last payment did not go through" in page
    # The payment-failed mail (written by the running server's sender or the command).
    run("mail", "flush", data=site.data)
    failed = [m for m in mails(site.data) if who in str(m["To"]) and "did not go through" in str(m["Subject"])]
    assert failed and len([m for m in mails(site.data) if who in str(m["To"])]) > before
    assert "/account/billing" in failed[-1].get_body(preferencelist=("plain",)).get_content()

    # Retries on days 1, 3 and 5 fail; after 7 days of grace it is unpaid.
    for n, days in enumerate((1, 3, 5)):
        billing_run(site, period_end2 + days * 86400 + 120)
        assert attempts(site, who) == 4 + n, days
        assert sub_row(site, who)[0] == "past_due"
    billing_run(site, period_end2 + 6 * 86400)
    assert attempts(site, who) == 6
    billing_run(site, period_end2 + 7 * 86400 + 180)
    assert sub_row(site, who)[0] == "unpaid"
    page = s.get(site.url + PAID, timeout=10).text
    assert not full(page)
    assert "make sure the card on file is up to date" in page and "Visa ending 0341" in page

    # A good card: the invoice is retried at once and the article opens.
    r = checkout(site, s, "/account/billing?next=" + PAID, {"action": "card", "next": PAID}, "4242424242424242")
    assert r.status_code == 303 and r.headers["Location"] == PAID
    assert sub_row(site, who)[0] == "active"
    assert full(s.get(site.url + PAID, timeout=10).text)

    # Cancel: access until the end of the paid period, then canceled.
    page = s.get(site.url + "/account/billing", timeout=10)
    r = s.post(site.url + "/account/billing", data={"csrf": csrf_of(page.text), "action": "cancel"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303
    status, period_end3, _, cancel = sub_row(site, who)
    assert status == "active" and cancel == 1
    assert full(s.get(site.url + PAID, timeout=10).text)
    assert "Keep my subscription" in s.get(site.url + "/account/billing", timeout=10).text
    n = len(invoices(site, who))
    billing_run(site, period_end3 + 60)
    assert sub_row(site, who)[0] == "canceled"
    assert len(invoices(site, who)) == n
    with db(site) as st:  # the page decides at the real time: move the period end into the past
        st.execute("UPDATE subscriptions SET period_end = 1000")
    page = s.get(site.url + PAID, timeout=10).text
    assert not full(page) and "Resubscribe" in page


@pytest.mark.parametrize("number,message", [
    ("4000 0000 0000 0002", "Your card was declined."),
    ("4000000000009995", "insufficient funds"),
    ("4000-0000-0000-0069", "Your card has expired."),
])
def test_declined_cards_at_checkout(site, number, message):
    s, _ = sign_in(site, "reader@demo.test")
    r = checkout(site, s, "/subscribe", {"plan": "yearly"}, number)
    assert r.status_code == 402 and message in r.text
    assert sub_row(site, "reader@demo.test") is None
    assert number.replace(" ", "").replace("-", "") not in r.text
    # The CVC as a value of its own: a port or a token may hold the digits.
    assert not re.search(r"(?<![\w-])%s(?![\w-])" % CVC, r.text)


def test_card_that_saves_but_fails(site):
    s, _ = sign_in(site, "reader@demo.test")
    r = checkout(site, s, "/subscribe", {"plan": "monthly"}, "4000000000000341")
    assert r.status_code == 402 and "declined" in r.text
    assert sub_row(site, "reader@demo.test")[0] == "incomplete"
    assert not full(s.get(site.url + PAID, timeout=10).text)
    # Another card on the same checkout pays the same first invoice.
    loc = re.search(r'action="(/checkout/[^"]+)"', r.text).group(1).replace("&amp;", "&")
    r2 = s.post(site.url + loc, data={"csrf": csrf_of(r.text), "number": "4242424242424242", "expiry": "01/40",
                                      "cvc": CVC, "name": "R"}, allow_redirects=False, timeout=10)
    assert r2.status_code == 303
    assert sub_row(site, "reader@demo.test")[0] == "active"
    with db(site) as st:
        n = st.value("SELECT count(*) FROM invoices WHERE status = 'paid'")
    assert n >= 1


@pytest.mark.parametrize("fields,message", [
    ({"number": "4242 4242 4242 4241"}, "not valid"),
    ({"number": "1234"}, "12 to 19 digits"),
    ({"expiry": "01/20"}, "in the past"),
    ({"expiry": "13/30"}, "should look like"),
    ({"cvc": "12"}, "security code"),
    ({"name": ""}, "name on the card"),
    ({"number": "5555555555554444"}, "test card numbers"),
])
def test_checkout_form_errors(site, fields, message):
    s, _ = sign_in(site, "reader@demo.test")
    page = s.get(site.url + "/subscribe", timeout=10)
    r = s.post(site.url + "/subscribe", data={"csrf": csrf_of(page.text), "plan": "monthly"}, allow_redirects=False,
               timeout=10)
    loc = r.headers["Location"]
    page = s.get(site.url + loc, timeout=10)
    form = {"csrf": csrf_of(page.text), "number": "4242424242424242", "expiry": "12/34", "cvc": CVC, "name": "R"}
    form.update(fields)
    r = s.post(site.url + loc, data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and message in r.text
    assert sub_row(site, "reader@demo.test") is None


def test_card_numbers_are_never_kept(site):
    s, _ = sign_in(site, "reader@demo.test")
    r = checkout(site, s, "/subscribe", {"plan": "monthly"}, "4242424242424242")
    assert r.status_code == 303
    checkout(site, s, "/account/billing", {"action": "card"}, "4000000000000341")
    for number in ("4242424242424242", "4000000000000341"):
        for path in glob.glob(str(site.data / "**" / "*"), recursive=True):
            if os.path.isfile(path):
                assert number.encode() not in open(path, "rb").read(), path
        assert number not in site.logs()
    assert f"cvc={CVC}" not in site.logs()


def test_checkout_belongs_to_its_member(site):
    s, _ = sign_in(site, "reader@demo.test")
    page = s.get(site.url + "/subscribe", timeout=10)
    loc = s.post(site.url + "/subscribe", data={"csrf": csrf_of(page.text), "plan": "monthly"},
                 allow_redirects=False, timeout=10).headers["Location"]
    other, _ = sign_in(site, "editor@demo.test")
    assert other.get(site.url + loc, timeout=10).status_code == 410
    assert requests.get(site.url + loc, allow_redirects=False, timeout=10).status_code == 303


def test_anonymous_subscribe_goes_through_sign_up(site):
    s = requests.Session()
    page = s.get(site.url + "/subscribe", timeout=10)
    assert "Monthly" in page.text
    r = s.post(site.url + "/subscribe", data={"csrf": csrf_of(page.text), "plan": "monthly"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith("/signup")


def test_lapsed_updates_card_and_reads_at_once(site):
    """DESIGN section 1: the lapsed subscriber saves a good card and the article opens."""
    s, _ = sign_in(site, "lapsed@demo.test")
    page = s.get(site.url + PAID, timeout=10).text
    assert not full(page) and "make sure the card on file is up to date" in page
    assert "/account/billing" in page
    r = checkout(site, s, "/account/billing?next=" + PAID, {"action": "card", "next": PAID}, "4242 4242 4242 4242")
    assert r.status_code == 303 and r.headers["Location"] == PAID
    assert full(s.get(site.url + PAID, timeout=10).text)


def test_demo_states_come_from_the_machinery(site):
    with db(site) as st:
        # The demo accounts' (the readers of the demo's history have their own).
        rows = dict(st.all("SELECT m.email, s.status FROM subscriptions s JOIN members m ON m.id = s.member_id "
                           "WHERE m.email LIKE '%@demo.test'"))
        charges = st.value("SELECT count(*) FROM charges")
        failed = st.value("SELECT count(*) FROM charges WHERE status = 'failed'")
    assert rows == {"subscriber@demo.test": "active", "pastdue@demo.test": "past_due",
                    "lapsed@demo.test": "unpaid"}
    assert charges >= 5 and failed >= 3


def test_crash_between_charge_and_record_charges_once(site):
    s, _ = sign_in(site, "reader@demo.test")
    assert checkout(site, s, "/subscribe", {"plan": "monthly"}, "4242424242424242").status_code == 303
    _, period_end, _, _ = sub_row(site, "reader@demo.test")
    r = billing_run(site, period_end + 60, env={"MASTHEAD_FAULTS": "crash-after-charge"})
    assert r.returncode == 3
    with db(site) as st:
        pending = st.all("SELECT idempotency_key FROM charges WHERE status = 'pending'")
        assert len(pending) == 1
        key = pending[0][0]
        assert st.value("SELECT count(*) FROM test_provider_charges WHERE idempotency_key = ?", key) == 1
    # The next run settles it from the provider's record: paid, and charged once.
    r = billing_run(site, period_end + 120)
    assert r.returncode == 0 and "1 reconciled" in r.stdout, r.stdout
    with db(site) as st:
        assert st.value("SELECT count(*) FROM charges WHERE status = 'pending'") == 0
        assert st.value("SELECT count(*) FROM test_provider_charges WHERE idempotency_key = ?", key) == 1
        paid = st.value("SELECT count(*) FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id "
                        "JOIN members m ON m.id = s.member_id WHERE m.email = 'reader@demo.test' "
                        "AND i.status = 'paid'")
    assert paid == 2
    assert sub_row(site, "reader@demo.test")[0] == "active"
    billing_run(site, period_end + 180)
    assert invoices(site, "reader@demo.test") == ["paid", "paid"]


def test_billing_run_usage_errors(tmp_path):
    r = run("billing", "run", "--at", "yesterday", data=tmp_path / "d")
    assert r.returncode == 2 and "not a time" in r.stderr
    r = run("billing", "frobnicate", data=tmp_path / "d")
    assert r.returncode == 2
    r = run("plan", "add", "x", "X", "-5", "usd", "1", data=tmp_path / "d")
    assert r.returncode == 2
    r = run("plan", "add", "weekly", "Weekly", "200", "USD", "1", data=tmp_path / "d")
    assert r.returncode == 2
    r = run("plan", "add", "quarterly", "Quarterly", "2000", "eur", "3", "14", data=tmp_path / "d")
    assert r.returncode == 0
    assert "quarterly\tQuarterly" in run("plan", "list", data=tmp_path / "d").stdout
    assert run("plan", "retire", "nope", data=tmp_path / "d").returncode == 3


def test_trial_reminder_then_first_charge(site):
    assert run("plan", "add", "trial", "Trial monthly", "500", "usd", "1", "14", data=site.data).returncode == 0
    s, _ = sign_in(site, "reader@demo.test")
    r = checkout(site, s, "/subscribe", {"plan": "trial"}, "4242424242424242")
    assert r.status_code == 303
    with db(site) as st:
        status, trial_end = st.one("SELECT status, trial_end FROM subscriptions s JOIN members m ON "
                                   "m.id = s.member_id WHERE m.email = 'reader@demo.test'")
    assert status == "trialing"
    assert full(s.get(site.url + PAID, timeout=10).text)
    assert invoices(site, "reader@demo.test") == []
    billing_run(site, trial_end - 2 * 86400)
    billing_run(site, trial_end - 86400)
    run("mail", "flush", data=site.data)
    notes = [m for m in mails(site.data) if "reader@demo.test" in str(m["To"]) and "trial" in str(m["Subject"])]
    assert len(notes) == 1
    billing_run(site, trial_end + 60)
    assert sub_row(site, "reader@demo.test")[0] == "active"
    assert invoices(site, "reader@demo.test") == ["paid"]


def card_stops(month, year):
    """The first instant a card marked month/year no longer works."""
    if month == 12:
        return datetime.datetime(year + 1, 1, 1, tzinfo=datetime.timezone.utc)
    return datetime.datetime(year, month + 1, 1, tzinfo=datetime.timezone.utc)


def test_card_expiring_reminder_once(site):
    # A card good through the month after next: its reminder falls due
    # exactly 30 days before it stops, which is after the tests' clock on any
    # date (through next month only, on 31 January the reminder of a February
    # card was due on 30 January, before the clock).
    today = now_dt()
    month, year = today.month + 2, today.year
    if month > 12:
        month, year = month - 12, year + 1
    due = int((card_stops(month, year) - datetime.timedelta(days=30)).timestamp())
    assert due > now()
    s, _ = sign_in(site, "reader@demo.test")
    r = checkout(site, s, "/subscribe", {"plan": "yearly"}, "4242424242424242", expiry=f"{month:02d}/{year % 100:02d}")
    assert r.status_code == 303

    def notes():
        run("mail", "flush", data=site.data)
        return [m for m in mails(site.data)
                if "reader@demo.test" in str(m["To"]) and "expires soon" in str(m["Subject"])]
    billing_run(site, due - 1)
    assert notes() == []
    for at in (due, due, due + 3600):
        billing_run(site, at)
    got = notes()
    assert len(got) == 1
    assert "Visa ending 4242" in got[0].get_body(preferencelist=("plain",)).get_content()


def test_card_of_this_month_on_the_first_is_reminded_the_next_day(tmp_path):
    # On 1 December a 12/26 card still has 31 days: no reminder until 2 December.
    srv = Server(["demo", "--port", "0"], tmp_path / "data",
                 env={"MASTHEAD_CLOCK": "2026-12-01T08:00:00Z"})
    try:
        s, _ = sign_in(srv, "reader@demo.test")
        r = checkout(srv, s, "/subscribe", {"plan": "yearly"}, "4242424242424242", expiry="12/26")
        assert r.status_code == 303
    finally:
        srv.stop()
    data = tmp_path / "data"

    def count():
        run("mail", "flush", data=data)
        return len([m for m in mails(data)
                    if "reader@demo.test" in str(m["To"]) and "expires soon" in str(m["Subject"])])
    run("billing", "run", "--at", "2026-12-01T23:59:59Z", data=data)
    assert count() == 0
    run("billing", "run", "--at", "2026-12-02T00:00:00Z", data=data)
    assert count() == 1


def test_receipt_mail(site):
    s, _ = sign_in(site, "reader@demo.test")
    assert checkout(site, s, "/subscribe", {"plan": "monthly"}, "4242424242424242").status_code == 303
    run("mail", "flush", data=site.data)
    got = [m for m in mails(site.data) if "reader@demo.test" in str(m["To"]) and "receipt" in str(m["Subject"])]
    assert got and "$8.00" in got[-1].get_body(preferencelist=("plain",)).get_content()


# Issue 11: reader and subscriber rough edges in billing.

def test_saving_a_card_with_nothing_owed_charges_nothing_and_says_so(site):
    s, _ = sign_in(site, "subscriber@demo.test")
    paid_before = invoices(site, "subscriber@demo.test")
    # The always-failing card is saved: nothing is owed, so nothing is charged.
    r = checkout(site, s, "/account/billing", {"action": "card"}, "4000 0000 0000 0341")
    assert r.status_code == 303 and r.headers["Location"] == "/account/billing?notice=card"
    page = s.get(site.url + r.headers["Location"], timeout=10).text
    assert "Your card was saved" in page and "payment went through" not in page
    assert "Visa ending 0341" in page
    assert invoices(site, "subscriber@demo.test") == paid_before
    # A charge that goes through is called a payment.
    reader, _ = sign_in(site, "reader@demo.test")
    r = checkout(site, reader, "/subscribe", {"plan": "monthly"}, "4242424242424242")
    assert r.headers["Location"] == "/account/billing?notice=paid"
    assert "payment went through" in reader.get(site.url + r.headers["Location"], timeout=10).text
    # So is the overdue invoice a new card pays.
    lapsed, _ = sign_in(site, "lapsed@demo.test")
    r = checkout(site, lapsed, "/account/billing", {"action": "card"}, "4242424242424242")
    assert r.headers["Location"] == "/account/billing?notice=paid"
    assert sub_row(site, "lapsed@demo.test")[0] == "active"


def test_trial_says_no_payment_and_counts_its_days(site):
    assert run("plan", "add", "oneday", "One-day trial", "500", "usd", "1", "1", data=site.data).returncode == 0
    s, _ = sign_in(site, "reader@demo.test")
    plans = s.get(site.url + "/subscribe", timeout=10).text
    assert "Free for the first day." in plans and "1 days" not in plans
    r = checkout(site, s, "/subscribe", {"plan": "oneday"}, "4242424242424242")
    assert r.headers["Location"] == "/account/billing?notice=trial"
    page = s.get(site.url + r.headers["Location"], timeout=10).text
    assert "free trial has started" in page and "payment went through" not in page


def test_cancellation_mail_says_when_access_ends(site):
    who = "subscriber@demo.test"
    s, _ = sign_in(site, who)
    page = s.get(site.url + "/account/billing", timeout=10)
    r = s.post(site.url + "/account/billing", data={"csrf": csrf_of(page.text), "action": "cancel"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303
    _, period_end, _, cancel = sub_row(site, who)
    assert cancel == 1
    run("mail", "flush", data=site.data)
    got = [m for m in mails(site.data) if who in str(m["To"]) and "subscription" in str(m["Subject"])]
    assert got, [str(m["Subject"]) for m in mails(site.data)]
    subject = str(got[-1]["Subject"])
    end = datetime.datetime.fromtimestamp(period_end, datetime.timezone.utc)
    assert "is canceled" not in subject
    assert subject.endswith(f"will end on {end.day} {end:%B %Y}"), subject
    body = got[-1].get_body(preferencelist=("plain",)).get_content()
    assert f"{end.day} {end:%B %Y}" in body and "is canceled" not in body


def test_owing_members_see_the_card_first_and_the_overdue_invoice(tmp_path):
    # On 1 December the demo's past_due member's period ended on 30 November.
    srv = Server(["demo", "--port", "0"], tmp_path / "data", env={"MASTHEAD_CLOCK": "2026-12-01T08:00:00Z"})
    try:
        s, _ = sign_in(srv, "pastdue@demo.test")
        page = s.get(srv.url + "/account/billing", timeout=10).text
        facts = page.split('class="billing-facts"')[1].split("</dl>")[0]
        assert "Next charge" not in facts
        m = re.search(r"<dt>Payment overdue</dt><dd>(\$8\.00) overdue since 30 November 2026, next retry "
                      r"(\d+ December 2026)</dd>", facts)
        assert m, facts
        # The card comes first: saving one retries the open invoice.
        assert page.index(">Update your card</button>") < page.index(">Cancel subscription</button>")
        assert page.count(">Update your card</button>") == 1
        lapsed, _ = sign_in(srv, "lapsed@demo.test")
        page = lapsed.get(srv.url + "/account/billing", timeout=10).text
        assert "Next charge" not in page and "overdue since" in page
        assert page.index(">Update your card</button>") < page.index(">Resubscribe</a>")
        assert page.count(">Update your card</button>") == 1
        # An active subscriber's next charge is still in the future, card form below.
        sub, _ = sign_in(srv, "subscriber@demo.test")
        page = sub.get(srv.url + "/account/billing", timeout=10).text
        assert "<dt>Next charge</dt>" in page and "overdue" not in page
        assert page.index(">Cancel subscription</button>") < page.index(">Update your card</button>")
    finally:
        srv.stop()
        srv.check_clean()


def test_paywall_card_update_is_one_click_and_returns_to_the_article(site):
    s, _ = sign_in(site, "lapsed@demo.test")
    box = s.get(site.url + PAID, timeout=10).text.split('class="paywall"')[1].split("</aside>")[0]
    form = re.search(r'<form method="post" action="(/account/billing)"[^>]*>(.*?)</form>', box, re.S)
    assert form and ">Update your card</button>" in form.group(2)
    fields = dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', form.group(2)))
    # One click: the paywall's button lands on the card form.
    r = s.post(site.url + form.group(1), data=fields, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith("/checkout/")
    card = s.get(site.url + r.headers["Location"], timeout=10)
    assert "TEST MODE" in card.text and "Save card" in card.text
    r = s.post(site.url + r.headers["Location"], data={"csrf": csrf_of(card.text), "number": "4242424242424242",
                                                       "expiry": "12/34", "cvc": CVC, "name": "Lee"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == PAID
    assert full(s.get(site.url + PAID, timeout=10).text)


def test_subscribing_from_the_paywall_returns_to_the_article(site):
    from urllib.parse import quote
    s, _ = sign_in(site, "reader@demo.test")
    box = s.get(site.url + PAID, timeout=10).text.split('class="paywall"')[1].split("</aside>")[0]
    href = re.search(r'<a class="button" href="([^"]+)">Subscribe</a>', box).group(1)
    assert href == "/subscribe?next=" + PAID
    plans = s.get(site.url + href, timeout=10).text
    assert f'name="next" value="{PAID}"' in plans
    r = checkout(site, s, href, {"plan": "monthly", "next": PAID}, "4242424242424242")
    assert r.status_code == 303 and r.headers["Location"] == PAID
    assert full(s.get(site.url + PAID, timeout=10).text)
    # A new reader signs up first, and the article travels along.
    anon = requests.Session()
    page = anon.get(site.url + href, timeout=10)
    assert 'href="/signin?next=' + quote("/subscribe?next=" + quote(PAID, safe=""), safe="") + '"' in page.text
    r = anon.post(site.url + "/subscribe", data={"csrf": csrf_of(page.text), "plan": "monthly", "next": PAID},
                  allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"] == "/signup?next=" + quote("/subscribe?next=" + quote(PAID, safe=""), safe="")
    signup = anon.get(site.url + r.headers["Location"], timeout=10).text
    assert 'name="next" value="/subscribe?next=' + quote(PAID, safe="") + '"' in signup


@pytest.mark.parametrize("nxt", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/a//evil.example",
                                 "javascript:alert(1)", "evil.example"])
def test_return_after_checkout_stays_on_the_site(site, nxt):
    s, _ = sign_in(site, "editor@demo.test")
    r = checkout(site, s, "/subscribe?next=" + requests.utils.quote(nxt, safe=""), {"plan": "monthly", "next": nxt},
                 "4242424242424242")
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/account/billing?notice="), r.headers["Location"]
    r = checkout(site, s, "/account/billing", {"action": "card", "next": nxt}, "4242424242424242")
    assert r.headers["Location"].startswith("/account/billing?notice="), r.headers["Location"]
