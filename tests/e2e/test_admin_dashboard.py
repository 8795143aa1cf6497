"""The publisher's dashboard (/admin, docs/newsroom.md "Dashboard"): its
figures and its two charts' tables, checked to the cent against a billing
history seeded month by month around the tests' clock (whatever day of the
month that clock says: tests/dates moves it)."""
import calendar
import datetime
import re

import pytest

from conftest import Server, now, run
from members import sign_in
from storefix import Store

STAFF = "boss@dash.test"
PASSWORD = "dashboard-password"


def month_start(back):
    """The first instant (UTC) of the month `back` months before the tests' clock's."""
    d = datetime.datetime.fromtimestamp(now(), datetime.timezone.utc)
    m = d.year * 12 + d.month - 1 - back
    return calendar.timegm((m // 12, m % 12 + 1, 1, 0, 0, 0))


def label(back):
    return datetime.datetime.fromtimestamp(month_start(back), datetime.timezone.utc).strftime("%B %Y")


class History:
    """Members, subscriptions, invoices and charges written straight into the store."""

    def __init__(self, st, t):
        self.st, self.t, self.n = st, t, 0
        self.monthly = st.insert("INSERT INTO plans (code, name, amount, currency, interval_months, created_at) "
                                 "VALUES ('m', 'Monthly', 1000, 'usd', 1, ?)", t)
        self.yearly = st.insert("INSERT INTO plans (code, name, amount, currency, interval_months, created_at) "
                                "VALUES ('y', 'Yearly', 9000, 'usd', 12, ?)", t)

    def member(self, email, status, plan=None, period_end=None, grace_until=0):
        mid = self.st.insert("INSERT INTO members (email, name, role, created_at, email_verified) "
                             "VALUES (?, ?, 'reader', ?, 1)", email, email.split("@")[0].title(), self.t - 400 * 86400)
        sid = self.st.insert(
            "INSERT INTO subscriptions (member_id, plan_id, status, period_start, period_end, grace_until, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            mid, plan or self.monthly, status, 0, period_end or self.t + 86400, grace_until,
            self.t - 400 * 86400, self.t)
        return mid, sid

    def invoice(self, sid, start, end, status="paid", amount=1000, paid_at=None, charges=()):
        self.n += 1
        iid = self.st.insert(
            "INSERT INTO invoices (subscription_id, amount, currency, status, period_start, period_end, attempts, "
            "idempotency_key, paid_at, created_at) VALUES (?, ?, 'usd', ?, ?, ?, ?, ?, ?, ?)",
            sid, amount, status, start, end, max(1, len(charges)), f"dash-inv-{self.n}",
            (paid_at or start) if status == "paid" else 0, start)
        for k, (pm, outcome) in enumerate(charges):
            self.st.insert("INSERT INTO charges (invoice_id, idempotency_key, payment_method_id, status, created_at) "
                           "VALUES (?, ?, ?, ?, ?)", iid, f"dash-chg-{self.n}-{k}", pm, outcome, start + k)
        return iid

    def months(self, sid, backs, amount=1000):
        for b in backs:
            self.invoice(sid, month_start(b), month_start(b - 1), amount=amount)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("dashboard")
    r = run("migrate", data=data)
    assert r.returncode == 0, r.stderr
    r = run("user", "add", STAFF, "Boss", "admin", data=data, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    t = int(now())
    ids = {}
    with Store.of_data(data) as st:
        h = History(st, t)
        # A: monthly, paid for the last six months, this one included.
        _, a = h.member("a@dash.test", "active", period_end=month_start(-1))
        h.months(a, range(5, -1, -1))
        # B: yearly (9000 a year: 750 a month), paid three months ago for a year.
        _, b = h.member("b@dash.test", "active", plan=h.yearly)
        h.invoice(b, month_start(3), month_start(3) + 365 * 86400, amount=9000)
        # C: paid from eight months ago to two months ago, then canceled.
        _, c = h.member("c@dash.test", "canceled", period_end=month_start(1))
        h.months(c, range(8, 1, -1))
        # D: paid three months, canceled at this month's first instant: churned this month.
        _, d = h.member("d@dash.test", "canceled", period_end=month_start(0))
        h.months(d, (3, 2, 1))
        # E: paid last month; this month's charge failed and waits on a card.
        ids["e"], e = h.member("e@dash.test", "past_due", grace_until=t + 5 * 86400)
        h.months(e, (1,))
        h.invoice(e, month_start(0), month_start(-1), status="open", charges=((0, "failed"),))
        # F: this month's renewal failed on one card and was paid by the next: recovered.
        ids["f"], f = h.member("f@dash.test", "active", period_end=month_start(-1))
        h.months(f, (1,))
        old = st.insert("INSERT INTO payment_methods (member_id, brand, last4, exp_month, exp_year, created_at) "
                        "VALUES (?, 'Visa', '0341', 1, 2020, ?)", ids["f"], t)
        new = st.insert("INSERT INTO payment_methods (member_id, brand, last4, exp_month, exp_year, is_default, "
                        "created_at) VALUES (?, 'Visa', '4242', 12, 2040, 1, ?)", ids["f"], t)
        h.invoice(f, month_start(0), month_start(-1), paid_at=t - 60, charges=((old, "failed"), (new, "succeeded")))
        # G: first paid this month: new this month.
        _, g = h.member("g@dash.test", "active", period_end=month_start(-1))
        h.invoice(g, month_start(0), month_start(-1), paid_at=t - 120)
        # H: in a free trial, nothing paid.
        h.member("h@dash.test", "trialing")
        # U: paid two months ago; unpaid since its grace ended this month.
        ids["u"], u = h.member("u@dash.test", "unpaid", grace_until=t - 60)
        h.months(u, (2,))
        h.invoice(u, month_start(1), month_start(0), status="open", charges=((0, "failed"), (0, "failed")))
    # Staff confirm a new device by a mailed code on a real site (tested in
    # test_admin_settings.py); this site's admin signs in straight away.
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--staff-device-check", "false"], data)
    srv.data, srv.ids = data, ids
    yield srv
    srv.stop()
    srv.check_clean()


@pytest.fixture(scope="module")
def page(site):
    s, r = sign_in(site, STAFF, password=PASSWORD)
    assert r.status_code == 303, r.text
    got = s.get(site.url + "/admin", allow_redirects=False, timeout=10)
    assert got.status_code == 200, got.text
    return got.text


def figure(page, name):
    m = re.search(r"<dt>" + re.escape(name) + r"</dt><dd>([^<]*)</dd>", page)
    assert m, name
    return m.group(1)


def test_figures_match_the_seeded_history(page):
    assert figure(page, "Members") == "10"  # nine seeded and the admin
    assert figure(page, "Paying subscribers") == "4"  # A, B, F, G
    assert figure(page, "Monthly recurring revenue") == "$37.50"  # 10 + 7.50 + 10 + 10
    assert figure(page, "New this month") == "1"  # G
    assert figure(page, "Churned this month") == "2"  # D canceled, U unpaid
    assert figure(page, "In a free trial") == "1"  # H
    assert figure(page, "Failed payments waiting") == "2"  # E, U
    assert figure(page, "Recovered by card updates") == "$10.00"  # F


def test_each_failed_payment_links_to_its_member(site, page):
    table = page[page.index('id="failing"'):]
    table = table[:table.index("</table>")]
    links = re.findall(r'<a href="(/admin/members/\d+)">([^<]+)</a>', table)
    assert links == [(f"/admin/members/{site.ids['u']}", "u@dash.test"),
                     (f"/admin/members/{site.ids['e']}", "e@dash.test")], links


def chart_rows(page, chart):
    table = page[page.index(f'id="{chart}-table"'):]
    table = table[:table.index("</table>")]
    return re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', table)


def test_the_charts_tables_hold_twelve_months_of_history(page):
    subs = {11: 0, 10: 0, 9: 0, 8: 1, 7: 1, 6: 1, 5: 2, 4: 2, 3: 4, 2: 5, 1: 5, 0: 4}
    mrr = {11: 0, 10: 0, 9: 0, 8: 1000, 7: 1000, 6: 1000, 5: 2000, 4: 2000, 3: 3750, 2: 4750, 1: 4750, 0: 3750}
    assert chart_rows(page, "chart-subs") == [(label(b), str(subs[b])) for b in range(11, -1, -1)]
    assert chart_rows(page, "chart-mrr") == [(label(b), "$%d.%02d" % divmod(mrr[b], 100)) for b in range(11, -1, -1)]


def test_the_charts_are_accessible_svg(page):
    for chart in ("chart-subs", "chart-mrr"):
        m = re.search(r'<svg role="img" aria-labelledby="' + chart + r'-title ' + chart + r'-desc"[^>]*>\s*'
                      r'<title id="' + chart + r'-title">[^<]+</title>\s*<desc id="' + chart + r'-desc">[^<]+</desc>',
                      page)
        assert m, chart
        svg = page[m.start():page.index("</svg>", m.start())]
        assert len(re.findall(r"<rect ", svg)) == 12
        # The tallest bar is the largest month's, and it fills the plot.
        heights = [int(x) for x in re.findall(r'<rect x="\d+" y="\d+" width="\d+" height="(\d+)"', svg)]
        assert max(heights) == heights[-2] and heights[:3] == [0, 0, 0]
    assert "<script" not in page[page.index('id="dash-figures"'):page.index("</main>")]
