"""Several schedulers at once: two `masthead billing run --at T` over a few
hundred due renewals, trial reminders and expiring cards charge each invoice
once and mail each reminder once; a cancellation made while a run works is
never overwritten by it."""
import datetime
import subprocess

import requests

from conftest import BIN, Server, clock_env, db_env, now, run
from members import form_post, sign_in
from storefix import Store

DAY = 86400
RENEWALS, TRIALS, CARDS = 240, 80, 80


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(db, at):
    """Members whose renewal, trial reminder or card reminder is due at `at`."""
    plan = db.value("SELECT id FROM plans WHERE code = 'monthly'")
    t = datetime.datetime.fromtimestamp(at, datetime.timezone.utc)
    # A card that stops working within 30 days of `at`: the month before the one 30 days on.
    soon = t + datetime.timedelta(days=30)
    exp_m, exp_y = (12, soon.year - 1) if soon.month == 1 else (soon.month - 1, soon.year)
    if (exp_y, exp_m) < (t.year, t.month):  # on the 1st, no unexpired card is that close: use a later `at`
        raise AssertionError("seed() needs an `at` after the 1st")
    kinds = []
    for i in range(RENEWALS + TRIALS + CARDS):
        kind = "renew" if i < RENEWALS else "trial" if i < RENEWALS + TRIALS else "card"
        mid = db.insert("INSERT INTO members (email, name, created_at) VALUES (?, ?, ?)",
                        f"{kind}{i}@load.test", f"Load {i}", at - 90 * DAY)
        if kind == "card":
            pm = (exp_m, exp_y)
        else:
            pm = (12, t.year + 5)
        db.insert("INSERT INTO payment_methods (member_id, brand, last4, exp_month, exp_year, behavior, "
                  "is_default, created_at) VALUES (?, 'Visa', '4242', ?, ?, 'ok', 1, ?)",
                  mid, pm[0], pm[1], at - 90 * DAY)
        if kind == "renew":
            status, start, end, trial_end = "active", at - 31 * DAY, at - 3600, 0
        elif kind == "trial":
            status, start, end, trial_end = "trialing", at - 12 * DAY, at + 2 * DAY, at + 2 * DAY
        else:
            status, start, end, trial_end = "active", at - 10 * DAY, at + 20 * DAY, 0
        db.insert("INSERT INTO subscriptions (member_id, plan_id, status, period_start, period_end, trial_end, "
                  "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  mid, plan, status, start, end, trial_end, at - 90 * DAY, at - 90 * DAY)
        kinds.append((kind, mid))
    db.commit()
    return kinds


def test_two_billing_runs_do_everything_once(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    srv.stop()
    data = tmp_path / "data"
    db = Store.of_data(data)
    at = int(now()) + 40 * DAY
    if datetime.datetime.fromtimestamp(at, datetime.timezone.utc).day == 1:
        at += DAY
    seed(db, at)
    env = {**{k: v for k, v in __import__("os").environ.items() if not k.startswith("MASTHEAD_")}, **clock_env(), **db_env(data)}
    procs = [subprocess.Popen([BIN, "billing", "run", "--at", iso(at), "--data", str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    # And a third run after both: nothing left to do.
    assert run("billing", "run", "--at", iso(at), data=data).returncode == 0

    # Every due renewal: one invoice for the period, paid, charged by the provider once.
    rows = db.all("SELECT m.email, i.id, i.status, i.idempotency_key FROM invoices i "
                  "JOIN subscriptions s ON s.id = i.subscription_id JOIN members m ON m.id = s.member_id "
                  "WHERE m.email LIKE 'renew%@load.test'")
    assert len(rows) == RENEWALS
    assert {r[2] for r in rows} == {"paid"}
    assert len({r[0] for r in rows}) == RENEWALS
    charged = db.all("SELECT c.invoice_id, count(*) FROM charges c JOIN test_provider_charges t "
                     "ON t.idempotency_key = c.idempotency_key WHERE c.status = 'succeeded' GROUP BY c.invoice_id")
    per_invoice = dict(charged)
    assert all(per_invoice.get(r[1]) == 1 for r in rows)
    assert db.value("SELECT count(*) FROM test_provider_charges t JOIN charges c "
                    "ON c.idempotency_key = t.idempotency_key JOIN invoices i ON i.id = c.invoice_id "
                    "JOIN subscriptions s ON s.id = i.subscription_id JOIN members m ON m.id = s.member_id "
                    "WHERE m.email LIKE '%@load.test'") == RENEWALS

    # Every reminder mailed once, to the member it is for.
    def mailed(subject_part):
        return db.all("SELECT to_addr, count(*) FROM mail_outbox WHERE to_addr LIKE '%@load.test' "
                      "AND subject LIKE ? GROUP BY to_addr", f"%{subject_part}%")
    trials = mailed("trial")
    assert len(trials) == TRIALS and {n for _, n in trials} == {1}
    assert all(a.startswith("trial") for a, _ in trials)
    cards = mailed("expires soon")
    assert len(cards) == CARDS and {n for _, n in cards} == {1}
    assert all(a.startswith("card") for a, _ in cards)
    receipts = mailed("receipt")
    assert len(receipts) == RENEWALS and {n for _, n in receipts} == {1}
    db.close()


def test_cancel_during_a_run_is_kept(tmp_path):
    # Members cancel on the site while a billing run renews them: each
    # cancellation survives the run's writes (it re-reads under its claim,
    # and a save over a changed row fails instead of overwriting it).
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    data = tmp_path / "data"
    db = Store.of_data(data)
    at = int(now())
    kinds = seed(db, at if datetime.datetime.fromtimestamp(at, datetime.timezone.utc).day != 1 else at + DAY)
    # Passwords for the first 20 renewing members, through the CLI.
    who = [f"renew{i}@load.test" for i in range(20)]
    for w in who:
        r = run("user", "passwd", w, data=data, input="masthead-demo\n")
        assert r.returncode == 0, r.stderr
    sessions = [sign_in(srv, w)[0] for w in who]
    env = {**{k: v for k, v in __import__("os").environ.items() if not k.startswith("MASTHEAD_")}, **clock_env(), **db_env(data)}
    proc = subprocess.Popen([BIN, "billing", "run", "--at", iso(at + DAY), "--data", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    codes = []
    for s in sessions:
        r = form_post(srv, s, "/account/billing", "/account/billing", {"action": "cancel"})
        codes.append(r.status_code)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert all(c in (200, 303) for c in codes), codes
    for w in who:
        cancel, status = db.one("SELECT s.cancel_at_period_end, s.status FROM subscriptions s "
                                "JOIN members m ON m.id = s.member_id WHERE m.email = ?", w)
        assert cancel == 1, (w, status)
    srv.stop()
    db.close()
    assert len(kinds) == RENEWALS + TRIALS + CARDS
