"""kill -9 at seeded random points of sign-ups, renewal runs and newsletter
sends, then integrity checks: nothing acknowledged lost, nothing charged
twice, nobody mailed twice.

The point is a store call: the fault build's store-kill-at=N (core/fault.h)
raises SIGKILL at the process's Nth store call, on whatever thread makes it
(a request, the outbox sender, a delivery thread). N comes from a fixed
list of seeds, as a fraction of the calls a clean run of the same work
makes (measured first with store-count), so the points fall all over the
work and each seed's point is the same part of it on every run. Which request or row
that call belongs to may differ from run to run for a server, whose
sender thread runs beside the requests: the invariants hold either way.
-rP prints the points and what each kill interrupted."""
import datetime
import random
import re
import signal
import socket
import threading
import time

import aiosmtpd.controller as aiosmtpd_controller  # Debian: python3-aiosmtpd
import pytest
import requests

from conftest import _CLOCK_OFFSET, Server, run
from members import csrf_of, mails, sign_in
from storefix import Store
from test_store_faults import ARTICLE, PUBLISHED, add_member, integrity, money_of, pay, start_checkout

KILLED = "fault: killed at a store call"
SEEDS = [11, 23, 37, 41, 59, 67]
# billing.c: how long a run's claim on an invoice lasts.
CLAIM_LEASE = 300


def points(seed_base, lo, hi):
    """One N a seed: the k-th seed's N falls at a seeded place in the k-th
    of len(SEEDS) equal slices, so the points spread over the whole work
    and are the same fractions on every run. Only the first three quarters
    of [lo, hi]: a run with threads (the server's sender) makes a few calls
    more or fewer from run to run."""
    span = 0.75 * (hi - lo) / len(SEEDS)
    return [lo + int((k + random.Random(seed_base * 1000 + s).random()) * span) for k, s in enumerate(SEEDS)]


def store_calls(stderr):
    m = re.findall(r'msg="fault: store calls" count=(\d+)', stderr)
    assert m, stderr[-2000:]
    return int(m[-1])


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def killed(proc_or_result):
    return proc_or_result.returncode == -signal.SIGKILL


# --- sign-ups -------------------------------------------------------------------------------------

def sign_up_stream(srv, prefix, count):
    """Signs up prefix0..prefixN one after the other until the server dies
    or count is reached; returns the addresses whose sign-up was answered."""
    acked = []
    s = requests.Session()
    try:
        page = s.get(srv.url + "/signup", timeout=10)
        csrf = csrf_of(page.text)
        for i in range(count):
            who = f"{prefix}{i}@example.test"
            r = s.post(srv.url + "/signup", data={"name": f"Kill {i}", "email": who, "csrf": csrf},
                       allow_redirects=False, timeout=10)
            if r.status_code == 200 and "Check your e-mail" in r.text:
                acked.append(who)
            else:
                assert r.status_code >= 500, (r.status_code, r.text[:300])
    except requests.ConnectionError:
        pass  # the server died under this request: it was never answered
    return acked


SERVE = ["demo", "--port", "0", "--billing-interval", "0"]
ENV = {"MASTHEAD_RATE_LIMIT": "100000"}


def test_sign_ups_killed_at_random_points(tmp_path):
    data = tmp_path / "data"
    # The demo made once; every start after this one finds it seeded.
    srv = Server(SERVE, data, env=ENV)
    srv.stop()
    # How many store calls a start, and a start with 12 sign-ups and their mails, make.
    srv = Server(SERVE, data, env={**ENV, "MASTHEAD_FAULTS": "store-count"}, log_name="count0.log")
    srv.stop()
    start = store_calls(srv.logs() if not srv.log.closed else open(srv.log_path).read())
    srv = Server(SERVE, data, env={**ENV, "MASTHEAD_FAULTS": "store-count"}, log_name="count1.log")
    acked = sign_up_stream(srv, "calib", 12)
    assert len(acked) == 12
    for who in acked:
        wait_for_mail(data, who)
    srv.stop()
    total = store_calls(open(srv.log_path).read())
    assert total > start + 12, (start, total)
    report = []
    for k, n in enumerate(points(1, start + 1, total)):
        # Each start a little later on the clock than the last: a mail the
        # killed sender had claimed is sent again once its claim lapses.
        clock = {"MASTHEAD_CLOCK_OFFSET": str(_CLOCK_OFFSET + 600 * k)}
        srv = Server(SERVE, data, env={**ENV, **clock, "MASTHEAD_FAULTS": f"store-kill-at={n}"},
                     log_name=f"kill{k}.log")
        acked = sign_up_stream(srv, f"kill{k}-", 12)
        if srv.proc.poll() is None:
            # All answered before the point came: the sender may still reach it.
            try:
                srv.proc.wait(timeout=3)
            except Exception:
                pass
        died = srv.proc.poll() is not None
        if died:
            assert killed(srv.proc), (srv.proc.returncode, open(srv.log_path).read()[-2000:])
            assert KILLED in open(srv.log_path).read()
        srv.stop()
        # After a restart (the plain build): every answered sign-up has its
        # account and its one link, and nothing is half written.
        later = {"MASTHEAD_CLOCK_OFFSET": str(_CLOCK_OFFSET + 600 * k + 300)}
        again = Server(SERVE, data, env={**ENV, **later}, log_name=f"after{k}.log")
        for who in acked:
            wait_for_mail(data, who)
        again.stop()
        again.check_clean()
        integrity(data)
        with Store.of_data(data) as st:
            for who in acked:
                assert st.value("SELECT count(*) FROM members WHERE email = ?", who) == 1
                assert st.value("SELECT count(*) FROM mail_outbox WHERE to_addr = ? AND sent_at > 0", who) >= 1
        per_address = {}
        for m in mails(data):
            to = str(m["To"])
            if to.startswith(f"kill{k}-"):
                per_address[to] = per_address.get(to, 0) + 1
        assert set(per_address.values()) <= {1}, per_address
        report.append(f"N={n}: {'killed' if died else 'not reached'} after {len(acked)} answered sign-ups")
    print(f"sign-ups, store calls {start + 1}..{total}:", "; ".join(report))
    assert sum("killed" in r for r in report) >= len(SEEDS) - 1


def wait_for_mail(data, who, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(who in str(m["To"]) for m in mails(data)):
            return
        time.sleep(0.05)
    raise AssertionError(f"no mail to {who}")


# --- renewal runs --------------------------------------------------------------------------------

MEMBERS = [f"kill-renew{i}@example.test" for i in range(4)]


def test_renewal_runs_killed_at_random_points(tmp_path):
    data = tmp_path / "data"
    srv = Server(SERVE, data, env=ENV)
    for who in MEMBERS:
        add_member(data, who)
        s, _ = sign_in(srv, who)
        r = pay(srv, s, start_checkout(srv, s).headers["Location"])
        assert r.status_code == 303
        assert money_of(data, who) == ("active", 1, 1, 1)
    srv.stop()

    def due():
        with Store.of_data(data) as st:
            return max(st.value("SELECT s.period_end FROM subscriptions s JOIN members m ON m.id = s.member_id "
                                "WHERE m.email = ?", who) for who in MEMBERS) + 60

    # A clean month, counted.
    r = run("billing", "run", "--at", iso(due()), data=data, env={"MASTHEAD_FAULTS": "store-count"})
    assert r.returncode == 0, r.stderr[-2000:]
    total = store_calls(r.stderr)
    months = 2
    report = []
    for n in points(2, 1, total):
        due_at = due()
        at = iso(due_at)
        r = run("billing", "run", "--at", at, data=data, env={"MASTHEAD_FAULTS": f"store-kill-at={n}"})
        died = killed(r)
        assert died or r.returncode == 0, (r.returncode, r.stderr[-2000:])
        integrity(data)
        for who in MEMBERS:
            _, paid, ok, ledger = money_of(data, who)
            assert paid == ok and ledger in (paid, paid + 1), (who, paid, ok, ledger)
        # The next run (cron's, once the dead run's claims have lapsed)
        # finishes the month: each member billed once.
        r = run("billing", "run", "--at", iso(due_at + CLAIM_LEASE + 60), data=data)
        assert r.returncode == 0, r.stderr[-2000:]
        months += 1
        for who in MEMBERS:
            assert money_of(data, who) == ("active", months, months, months), (n, who)
        integrity(data)
        report.append(f"N={n}: {'killed' if died else 'not reached'}")
    print(f"renewal runs of {len(MEMBERS)} members, store calls 1..{total}:", "; ".join(report))
    assert all("killed" in x for x in report)


# --- newsletter sends ------------------------------------------------------------------------------

class Sink:
    def __init__(self):
        self.by_rcpt = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for rc in envelope.rcpt_tos:
                self.by_rcpt.setdefault(rc, []).append(envelope.content)
        return "250 OK"

    def copies(self, slug):
        with self.lock:
            return {rc: n for rc, n in ((rc, sum(slug.encode() in m for m in msgs))
                                        for rc, msgs in self.by_rcpt.items()) if n}


@pytest.fixture
def smtp():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    sink = Sink()
    c = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port)
    c.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    yield sink
    c.stop()


def test_newsletter_sends_killed_at_random_points(tmp_path, smtp):
    data = tmp_path / "data"
    Server(SERVE, data, env=ENV).stop()
    with Store.of_data(data) as st:
        for i in range(30):
            st.execute("INSERT INTO members (email, name, password_hash, role, created_at) "
                       "VALUES (?, ?, '', 'reader', 1796000000)", f"kill-nl{i:02d}@example.test", f"Reader {i}")
    slugs = [f"kill-nl-send{k}" for k in range(len(SEEDS) + 2)]
    paths = []
    for slug in slugs:
        p = tmp_path / f"{slug}.md"
        p.write_text(ARTICLE.format(slug=slug, access="paid", tag="kill", published=PUBLISHED))
        paths.append(str(p))
    assert run("import", *paths, data=data).returncode == 0
    # One connection: a send's calls then do not depend on how its threads
    # interleave (with more, an idle one polls), so N falls inside the work.
    env = {"MASTHEAD_MAIL_RETRY_BASE": "1", "MASTHEAD_NEWSLETTER_CONNECTIONS": "1"}
    # The first send makes the site's newsletter too: the second is counted.
    assert run("newsletter", "send", slugs[0], "--smtp-url", smtp.url, data=data, env=env).returncode == 0
    r = run("newsletter", "send", slugs[1], "--smtp-url", smtp.url, data=data,
            env={**env, "MASTHEAD_FAULTS": "store-count"}, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    total = store_calls(r.stderr)
    recipients = len(smtp.copies(slugs[1]))
    assert recipients >= 36 and set(smtp.copies(slugs[1]).values()) == {1}
    report = []
    for slug, n in zip(slugs[2:], points(3, 1, total)):
        r = run("newsletter", "send", slug, "--smtp-url", smtp.url, data=data,
                env={**env, "MASTHEAD_FAULTS": f"store-kill-at={n}"}, timeout=120)
        died = killed(r)
        assert died or r.returncode == 0, (r.returncode, r.stderr[-2000:])
        before = smtp.copies(slug)
        assert set(before.values()) <= {1}, before
        integrity(data)
        r = run("newsletter", "send", slug, "--smtp-url", smtp.url, data=data, env=env, timeout=120)
        assert r.returncode == 0 or "already" in r.stderr, r.stderr[-2000:]
        got = smtp.copies(slug)
        with Store.of_data(data) as st:
            states = dict(st.all("SELECT r.state, count(*) FROM newsletter_recipients r JOIN newsletter_sends s "
                                 "ON s.id = r.send_id JOIN articles a ON a.id = s.article_id WHERE a.slug = ? "
                                 "GROUP BY r.state", slug))
        # Nobody twice; nobody left queued; whoever lacks a copy is one
        # the killed sender had claimed (unconfirmed: at most once).
        assert set(got.values()) == {1}, got
        assert sum(states.values()) == recipients and not states.get("queued") and not states.get("claimed"), states
        assert recipients - len(got) <= states.get("unconfirmed", 0), (states, len(got))
        integrity(data)
        report.append(f"N={n}: {'killed' if died else 'not reached'} with {len(before)} of {recipients} mailed, "
                      f"{states.get('unconfirmed', 0)} unconfirmed")
    print(f"newsletter sends to {recipients}, store calls 1..{total}:", "; ".join(report))
    assert all("killed" in x for x in report)
