"""Stripe over HTTP: webhook events, signed by Stripe's own library
(stripe_sign.mjs, the `stripe` npm package), posted to the real binary;
and the outbound Checkout and Billing Portal calls against a stub of
Stripe's API on 127.0.0.1.

Events come from fixtures/stripe/*.json, shaped like Stripe's documented
events; each test sets the member id and the times it needs. The demo's
reader@demo.test (a free member) is the one who subscribes through
Stripe: subscriber@, pastdue@ and lapsed@ have test-provider rows."""
import copy
import datetime
import json
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from conftest import Server, run
from conftest import now as clock_now
from members import form_post, mail_count, sign_in, wait_mail
from storefix import Store

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures", "stripe")
SIGNER = os.path.join(HERE, "stripe_sign.mjs")
SECRET = "whsec_test_Xk8b2Jq9LmP4vR7tW1yZ3aC6dF0gH5nQ"
READER = "reader@demo.test"
PAID = "/articles/port-pier-9-overnight-cargo"
BANNER = "Your last payment did not go through"
DAY = 86400

# Signatures come from the official stripe package: installed by npm ci
# (scripts/install-deps). Missing, the tests fail rather than skip.
assert shutil.which("node"), "node is needed to sign test events"
assert os.path.isdir(os.path.join(ROOT, "node_modules", "stripe")), "run npm ci: the stripe package signs test events"


# --- events -----------------------------------------------------------------

def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def checkout_event(member_id, created, paid=True):
    ev = fixture("checkout.session.completed")
    ev["created"] = created
    o = ev["data"]["object"]
    o["client_reference_id"] = str(member_id)
    o["metadata"]["member"] = str(member_id)
    o["payment_status"] = "paid" if paid else "unpaid"
    return ev


def subscription_event(name, created, start, end):
    ev = fixture(name)
    ev["created"] = created
    o = ev["data"]["object"]
    item = o["items"]["data"][0]
    if "current_period_start" in item:  # API 2025-03-31 and later: the period is on the item
        item["current_period_start"], item["current_period_end"] = start, end
    else:
        o["current_period_start"], o["current_period_end"] = start, end
    return ev


def invoice_event(name, created, start, end):
    ev = fixture(name)
    ev["created"] = created
    o = ev["data"]["object"]
    o["created"] = created - 60
    o["lines"]["data"][0]["period"] = {"start": start, "end": end}
    return ev


class Stripe:
    """Sends events to one server the way Stripe does: signed, raw JSON."""

    def __init__(self, srv, tmp_path):
        self.srv = srv
        self.dir = tmp_path / "events"
        self.dir.mkdir(exist_ok=True)
        self.n = 0

    def sign(self, payload, secret=SECRET, timestamp=None):
        self.n += 1
        path = self.dir / f"event-{self.n}.json"
        path.write_bytes(payload)
        if timestamp is None:
            timestamp = int(clock_now())  # the server's clock, not today's
        args = ["node", SIGNER, str(path), secret, str(timestamp)]
        out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def post(self, event=None, body=None, secret=SECRET, timestamp=None, header=None):
        payload = body if body is not None else json.dumps(event, indent=2).encode()
        if header is None:
            header = self.sign(payload, secret, timestamp)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
        if header:
            headers["Stripe-Signature"] = header
        return self.srv.request("POST", "/webhooks/stripe", data=payload, headers=headers, timeout=30)


# --- the database and the reader's view ---------------------------------------

def db(srv):
    """The site's store, for what no page shows (member ids, the exact times
    and Stripe ids a webhook wrote); `with db(srv) as st:` closes it."""
    return Store.of_data(srv.data)


def member_id(srv, email):
    with db(srv) as st:
        return st.one("SELECT id FROM members WHERE email = ?", email)[0]


SUB_COLS = ("status", "period_start", "period_end", "grace_until", "cancel_at_period_end", "canceled_at",
            "provider", "provider_id", "provider_customer", "provider_updated", "plan_id")


def sub_row(srv, email=READER):
    with db(srv) as st:
        row = st.one("SELECT " + ", ".join("s." + k for k in SUB_COLS) + " FROM subscriptions s "
                     "JOIN members m ON m.id = s.member_id WHERE m.email = ?", email)
    return dict(zip(SUB_COLS, row)) if row else None


def recorded(srv, event_id):
    with db(srv) as st:
        return st.value("SELECT count(*) FROM billing_events WHERE provider = 'stripe' AND event_id = ?", event_id)


def full(text):
    return 'class="gated-body' in text


class Reader:
    def __init__(self, srv):
        self.srv = srv
        self.session, r = sign_in(srv, READER)
        assert r.status_code == 303

    def paid_article(self):
        r = self.session.get(self.srv.url + PAID, timeout=10)
        assert r.status_code == 200
        return r.text


@pytest.fixture
def site(fresh, tmp_path):
    srv = fresh(env={"MASTHEAD_STRIPE_WEBHOOK_SECRET": SECRET, "MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = tmp_path / "data"
    srv.stripe = Stripe(srv, tmp_path)
    return srv


def ok(r):
    assert (r.status_code, r.text) == (200, "ok\n"), r.text


# --- webhooks -----------------------------------------------------------------

def test_checkout_then_active_opens_the_paid_article(site):
    now = int(clock_now())
    t0 = now - 3600
    end = t0 + 30 * DAY
    reader = Reader(site)
    assert not full(reader.paid_article())

    # As with a payment method that settles later: the session completes
    # unpaid, and access waits for Stripe's word on the subscription.
    ok(site.stripe.post(checkout_event(member_id(site, READER), t0, paid=False)))
    row = sub_row(site)
    assert row["status"] == "incomplete"
    assert (row["provider"], row["provider_id"], row["provider_customer"]) == (
        "stripe", "sub_1QfXyULkdIwHu7ixK8mN9pQ0", "cus_RZx7kQ2mP4vN8a")
    assert not full(reader.paid_article())

    active = subscription_event("customer.subscription.updated", t0 + 10, t0, end)
    ok(site.stripe.post(active))
    row = sub_row(site)
    assert (row["status"], row["period_start"], row["period_end"], row["provider_updated"]) == (
        "active", t0, end, t0 + 10)
    text = reader.paid_article()
    assert full(text) and BANNER not in text

    # The same event id again, whatever it now says: 200, nothing changes.
    replay = copy.deepcopy(active)
    replay["data"]["object"]["status"] = "unpaid"
    ok(site.stripe.post(replay))
    ok(site.stripe.post(active))
    assert sub_row(site) == row
    assert recorded(site, active["id"]) == 1

    # An older event arriving late does not move it backwards.
    late = subscription_event("customer.subscription.updated.past_due", t0 + 5, t0, end)
    ok(site.stripe.post(late))
    assert sub_row(site) == row
    assert recorded(site, late["id"]) == 1
    text = reader.paid_article()
    assert full(text) and BANNER not in text

    # Deleted: canceled, and the teaser again.
    deleted = subscription_event("customer.subscription.deleted", t0 + 20, t0, end)
    deleted["data"]["object"]["canceled_at"] = deleted["data"]["object"]["ended_at"] = t0 + 20
    ok(site.stripe.post(deleted))
    row = sub_row(site)
    assert (row["status"], row["canceled_at"], row["period_end"]) == ("canceled", t0 + 20, t0 + 20)
    text = reader.paid_article()
    assert not full(text)
    assert 'class="paywall"' in text
    assert "Your subscription has ended" in text
    assert "stripe event ignored" in site.logs()


def test_payment_failed_keeps_access_with_a_banner_until_paid(site):
    now = int(clock_now())
    t0 = now - 3600
    ok(site.stripe.post(checkout_event(member_id(site, READER), t0)))
    assert sub_row(site)["status"] == "active"  # the session was paid
    ok(site.stripe.post(subscription_event("customer.subscription.updated", t0 + 10, t0, t0 + 30 * DAY)))
    reader = Reader(site)
    assert BANNER not in reader.paid_article()

    mails = mail_count(site.data, READER)
    ok(site.stripe.post(invoice_event("invoice.payment_failed", t0 + 20, t0 + 30 * DAY, t0 + 60 * DAY)))
    row = sub_row(site)
    assert row["status"] == "past_due"
    assert abs(row["grace_until"] - (now + 7 * DAY)) < 120
    text = reader.paid_article()
    assert full(text) and BANNER in text
    msg = wait_mail(site.data, READER, mails)
    assert "did not go through" in str(msg["Subject"])
    assert "$8.00" in msg.get_body(preferencelist=("plain",)).get_content()

    mails = mail_count(site.data, READER)
    ok(site.stripe.post(invoice_event("invoice.paid", t0 + 30, t0 + 30 * DAY, t0 + 60 * DAY)))
    row = sub_row(site)
    assert (row["status"], row["grace_until"], row["period_end"]) == ("active", 0, t0 + 60 * DAY)
    text = reader.paid_article()
    assert full(text) and BANNER not in text
    msg = wait_mail(site.data, READER, mails)
    assert "receipt" in str(msg["Subject"]).lower()


def test_newer_api_version_shapes(site):
    """Since API version 2025-03-31 the period sits on subscription items
    and an invoice names its subscription under parent."""
    now = int(clock_now())
    t0 = now - 3600
    ok(site.stripe.post(checkout_event(member_id(site, READER), t0, paid=False)))
    ok(site.stripe.post(subscription_event("customer.subscription.updated.basil", t0 + 10, t0, t0 + 30 * DAY)))
    row = sub_row(site)
    assert (row["status"], row["period_start"], row["period_end"]) == ("active", t0, t0 + 30 * DAY)
    ok(site.stripe.post(invoice_event("invoice.payment_failed", t0 + 20, t0 + 30 * DAY, t0 + 60 * DAY)))
    assert sub_row(site)["status"] == "past_due"
    ok(site.stripe.post(invoice_event("invoice.paid.basil", t0 + 30, t0 + 30 * DAY, t0 + 60 * DAY)))
    row = sub_row(site)
    assert (row["status"], row["period_end"]) == ("active", t0 + 60 * DAY)


def test_unknown_customer_answers_503_until_known(site):
    t0 = int(clock_now()) - 3600
    early = subscription_event("customer.subscription.updated", t0 + 10, t0, t0 + 30 * DAY)
    r = site.stripe.post(early)
    assert r.status_code == 503
    assert recorded(site, early["id"]) == 0  # unrecorded: Stripe's retry will apply it
    assert sub_row(site) is None

    other = copy.deepcopy(early)
    other["id"] = "evt_1QfZ9xLkdIwHu7ixUnknown1"
    other["data"]["object"]["id"] = "sub_1QfZ9wLkdIwHu7ixNobodyKnows"
    other["data"]["object"]["customer"] = "cus_Unknown0000000"
    assert site.stripe.post(other).status_code == 503

    # A checkout for a member that does not exist is retried as well.
    assert site.stripe.post(checkout_event(999999, t0)).status_code == 503

    # Once the checkout is in, Stripe's retry of the same event applies.
    ok(site.stripe.post(checkout_event(member_id(site, READER), t0, paid=False)))
    ok(site.stripe.post(early))
    row = sub_row(site)
    assert (row["status"], row["period_end"]) == ("active", t0 + 30 * DAY)
    assert recorded(site, early["id"]) == 1
    assert full(Reader(site).paid_article())


def test_bad_signatures_are_refused(site):
    now = int(clock_now())
    mid = member_id(site, READER)
    ev = checkout_event(mid, now - 60)
    payload = json.dumps(ev, indent=2).encode()

    cases = {
        "wrong secret": dict(header=site.stripe.sign(payload, "whsec_someone_else")),
        "stale": dict(header=site.stripe.sign(payload, SECRET, now - 400)),
        "future": dict(header=site.stripe.sign(payload, SECRET, now + 400)),
        "missing": dict(header=""),
        "garbage": dict(header="t=soon,v1=nope"),
        "huge": dict(header="t=%d,%s" % (now, ",".join(["v0=" + "a" * 64] * 80))),
    }
    for name, kw in cases.items():
        r = site.stripe.post(body=payload, **kw)
        assert r.status_code == 400, name
        assert r.text.count("\n") == 1, name

    # Signed, then changed by one byte.
    header = site.stripe.sign(payload)
    r = site.stripe.post(body=payload.replace(b'"paid"', b'"pai"'), header=header)
    assert r.status_code == 400
    assert "Stripe-Signature" in r.text

    # A signature from Stripe's rolled secret next to the current one passes;
    # so does one a little old.
    other = site.stripe.sign(payload, "whsec_rolled_away", now - 200).split(",")[1]
    good = site.stripe.sign(payload, SECRET, now - 200)
    assert recorded(site, ev["id"]) == 0 and sub_row(site) is None
    ok(site.stripe.post(body=payload, header=good.split(",")[0] + "," + other + "," + good.split(",")[1]))
    assert sub_row(site)["status"] == "active"


def test_malformed_and_unhandled_events(site):
    assert site.stripe.post(body=b"this is not json").status_code == 400
    assert site.stripe.post(body=b'{"id": "evt_1", "type": "invoice.paid"}').status_code == 400
    unhandled = {"id": "evt_1QfZAbLkdIwHu7ixCustomer", "object": "event", "api_version": "2024-06-20",
                 "created": int(clock_now()), "type": "customer.created",
                 "data": {"object": {"id": "cus_RZx7kQ2mP4vN8a", "object": "customer", "email": READER}},
                 "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}}
    ok(site.stripe.post(unhandled))
    assert recorded(site, unhandled["id"]) == 1
    ok(site.stripe.post(unhandled))


def test_trial_will_end_mails_once(site):
    now = int(clock_now())
    t0 = now - 3600
    ok(site.stripe.post(checkout_event(member_id(site, READER), t0, paid=False)))
    trialing = subscription_event("customer.subscription.updated", t0 + 10, t0, t0 + 14 * DAY)
    trialing["data"]["object"].update(status="trialing", trial_start=t0, trial_end=t0 + 14 * DAY)
    ok(site.stripe.post(trialing))
    assert sub_row(site)["status"] == "trialing"
    mails = mail_count(site.data, READER)
    ev = fixture("customer.subscription.trial_will_end")
    ev["created"] = t0 + 20
    ev["data"]["object"]["trial_end"] = t0 + 14 * DAY
    ok(site.stripe.post(ev))
    msg = wait_mail(site.data, READER, mails)
    assert "trial" in str(msg["Subject"]).lower()
    again = copy.deepcopy(ev)
    again["id"] = "evt_1QfZBcLkdIwHu7ixAgain000"
    ok(site.stripe.post(again))
    time.sleep(1.5)
    assert mail_count(site.data, READER) == mails + 1


def test_not_configured_and_size_limits(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "plain")
    try:
        r = srv.request("POST", "/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
        assert (r.status_code, r.text) == (503, "Stripe webhooks are not configured\n")
    finally:
        srv.stop()
    srv.check_clean()

    # Over 1 MiB: the HTTP layer refuses it at the default max-body (413);
    # with a larger max-body the webhook itself does (400).
    big = b'{"id":"evt_big","pad":"' + b"x" * (1 << 20) + b'"}'
    srv = Server(["demo", "--port", "0"], tmp_path / "big",
                 env={"MASTHEAD_STRIPE_WEBHOOK_SECRET": SECRET, "MASTHEAD_MAX_BODY": str(4 << 20)})
    try:
        stripe = Stripe(srv, tmp_path)
        r = stripe.post(body=big)
        assert r.status_code == 400
        assert "too large" in r.text
    finally:
        srv.stop()
    srv.check_clean()
    srv = Server(["demo", "--port", "0"], tmp_path / "default", env={"MASTHEAD_STRIPE_WEBHOOK_SECRET": SECRET})
    try:
        r = Stripe(srv, tmp_path).post(body=big, header="t=1,v1=00")
        assert r.status_code == 413
    finally:
        srv.stop()
    srv.check_clean()


# --- outbound: Checkout and the Billing Portal, against a stub of Stripe's API ---

class StubStripe:
    """Stripe's API as far as masthead uses it: records every request and
    answers with Stripe-shaped JSON."""

    CHECKOUT_URL = "https://checkout.stripe.com/c/pay/cs_test_a1Stub0Checkout#fidkdWxOYHwnPyd1blpxYHZxWjA0"
    PORTAL_URL = "https://billing.stripe.com/p/session/test_YWNjdF8xUWZXdnVMa2RJd0h1N2l4"

    def __init__(self):
        self.requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                stub.requests.append({"path": self.path, "headers": self.headers, "body": body,
                                      "form": {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}})
                status, answer = stub.answer(self.path)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_stub")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path):
        if path == "/v1/checkout/sessions":
            return 200, {"id": "cs_test_a1Stub0Checkout", "object": "checkout.session", "mode": "subscription",
                         "status": "open", "payment_status": "unpaid", "livemode": False, "url": self.CHECKOUT_URL}
        if path == "/v1/billing_portal/sessions":
            return 200, {"id": "bps_1QfZCdLkdIwHu7ixStub", "object": "billing_portal.session",
                         "customer": "cus_RZx7kQ2mP4vN8a", "livemode": False, "url": self.PORTAL_URL}
        return 404, {"error": {"message": "Unrecognized request URL (POST: %s)." % path,
                               "type": "invalid_request_error"}}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_checkout_and_portal_call_stripe(tmp_path):
    """Through /subscribe and /account/billing in stripe mode."""
    stub = StubStripe()
    key = "sk_test_51QfWvuLkdIwHu7ixStubKeyNeverLogged"
    data = tmp_path / "data"
    srv = Server(["demo", "--port", "0"], data,
                 env={"MASTHEAD_BILLING_PROVIDER": "stripe", "MASTHEAD_STRIPE_SECRET_KEY": key,
                      "MASTHEAD_STRIPE_API_BASE": stub.url, "MASTHEAD_STRIPE_WEBHOOK_SECRET": SECRET,
                      "MASTHEAD_RATE_LIMIT": "1000"})
    srv.data = data
    try:
        assert run("plan", "price", "monthly", "price_1QfXwALkdIwHu7ixMonthly", data=data).returncode == 0
        mid = member_id(srv, READER)
        s, r = sign_in(srv, READER)
        r = form_post(srv, s, "/subscribe", "/subscribe", {"plan": "monthly", "next": PAID})
        assert r.status_code == 303, r.text
        assert r.headers["Location"] == stub.CHECKOUT_URL
        req = stub.requests[-1]
        assert req["path"] == "/v1/checkout/sessions"
        assert req["headers"]["Authorization"] == "Bearer " + key
        assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        assert len(req["headers"]["Idempotency-Key"]) >= 16
        form = req["form"]
        assert form["mode"] == "subscription"
        assert form["line_items[0][price]"] == "price_1QfXwALkdIwHu7ixMonthly"
        assert form["line_items[0][quantity]"] == "1"
        assert form["client_reference_id"] == str(mid)
        assert form["customer_email"] == READER
        assert "customer" not in form
        assert form["success_url"].endswith(PAID)
        assert form["cancel_url"].endswith("/subscribe")
        assert form["metadata[plan]"] == "monthly"
        assert "+" not in req["body"] and "@" not in req["body"]  # percent-encoded

        # Stripe reports the checkout; the billing page's card button opens the portal.
        stripe = Stripe(srv, tmp_path)
        t0 = int(clock_now()) - 60
        ok(stripe.post(checkout_event(mid, t0)))
        ok(stripe.post(subscription_event("customer.subscription.updated", t0 + 1, t0, t0 + 30 * DAY)))
        r = form_post(srv, s, "/account/billing", "/account/billing", {"action": "card"})
        assert r.status_code == 303, r.text
        assert r.headers["Location"] == stub.PORTAL_URL
        req = stub.requests[-1]
        assert req["path"] == "/v1/billing_portal/sessions"
        assert req["headers"]["Authorization"] == "Bearer " + key
        assert req["form"]["customer"] == "cus_RZx7kQ2mP4vN8a"
        assert req["form"]["return_url"].endswith("/account/billing")
        assert req["headers"]["Idempotency-Key"] != stub.requests[0]["headers"]["Idempotency-Key"]
    finally:
        srv.stop()
        stub.close()
    srv.check_clean()
    with open(srv.log_path) as f:
        assert key not in f.read()


def test_billing_run_leaves_stripe_rows_to_stripe(site):
    """A Stripe subscription whose period ended is Stripe's to renew: the
    built-in scheduler must not charge it (it has no card) or mark it past_due."""
    now = int(clock_now())
    t0 = now - 3600
    ok(site.stripe.post(checkout_event(member_id(site, READER), t0)))
    ok(site.stripe.post(subscription_event("customer.subscription.updated", t0 + 10, t0, t0 + 30 * DAY)))
    before = sub_row(site)
    at = datetime.datetime.fromtimestamp(t0 + 40 * DAY, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = run("billing", "run", "--at", at, data=site.data)
    assert r.returncode == 0, r.stderr
    assert sub_row(site) == before
    with db(site) as st:
        assert st.value("SELECT count(*) FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id "
                        "WHERE s.provider = 'stripe'") == 0
