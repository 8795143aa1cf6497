"""Operator rough edges (issue 11): passwords on a terminal, the public URL
every command links to, Stripe plans without a price, import's refusals, a new
site's identity, bad option values and what export is."""
import os
import select
import shlex
import subprocess
import time

from conftest import BIN, clock_env, db_env, exported_articles, run
from storefix import Store

PASSWORD = "correct-horse-battery"


def on_terminal(args, typed, data, env=None, step_timeout=5):
    """Runs masthead under script(1), so its standard input is a terminal.
    typed holds (prompt, text) pairs: text and Enter are typed once prompt
    shows. Returns (exit code or None, everything the terminal showed)."""
    cmd = " ".join(shlex.quote(a) for a in [BIN, *args, "--data", str(data)])
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    full_env.update(clock_env())
    full_env.update(db_env(data))
    full_env.update(env or {})
    p = subprocess.Popen(["script", "-qec", cmd, "/dev/null"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env)
    out = b""

    def read_until(done, timeout):
        nonlocal out
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    return
                out += chunk
    try:
        for prompt, text in typed:
            seen = len(out)
            read_until(lambda: prompt.encode() in out[seen:] or p.poll() is not None, step_timeout)
            if p.poll() is not None:
                break
            p.stdin.write(text.encode() + b"\n")
            p.stdin.flush()
        read_until(lambda: p.poll() is not None, step_timeout)
        read_until(lambda: False, 0.2)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()
    return p.returncode, out.decode(errors="replace")


def members(data):
    """Every member's e-mail and password hash: no command shows the hash."""
    with Store.of_data(data) as st:
        return st.all("SELECT email, password_hash FROM members ORDER BY email")


# --- 1. passwords typed on a terminal are not echoed --------------------------

def test_user_add_on_a_terminal_hides_the_password(tmp_path):
    data = tmp_path / "data"
    code, shown = on_terminal(["user", "add", "t@example.test", "Tess"],
                              [("password: ", PASSWORD), ("again: ", PASSWORD)], data)
    assert code == 0, shown
    assert "password: " in shown and "again: " in shown
    assert PASSWORD not in shown
    assert "user add: done" in shown
    r = run("user", "list", data=data)
    assert "t@example.test\treader\tTess" in r.stdout


def test_user_passwd_on_a_terminal_refuses_a_mismatch(tmp_path):
    data = tmp_path / "data"
    assert run("user", "add", "t@example.test", data=data, input=PASSWORD + "\n").returncode == 0
    before = members(data)
    code, shown = on_terminal(["user", "passwd", "t@example.test"],
                              [("password: ", "first-new-password"), ("again: ", "second-new-password")], data)
    assert code == 2, shown
    assert "first-new-password" not in shown and "second-new-password" not in shown
    assert "differ" in shown
    assert members(data) == before
    code, shown = on_terminal(["user", "passwd", "t@example.test"],
                              [("password: ", "first-new-password"), ("again: ", "first-new-password")], data)
    assert code == 0, shown
    assert "first-new-password" not in shown
    assert members(data) != before


def test_user_add_from_a_pipe_reads_one_line(tmp_path):
    data = tmp_path / "data"
    r = run("user", "add", "p@example.test", data=data, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "password" not in r.stderr


# --- 4. import: empty folders, byte order marks, sizes, a second marker ------

ARTICLE = """---
title: {title}
access: paid
published_at: 2026-11-01T08:00:00Z
---
First paragraph of {title}.

<!-- paywall -->

Gated paragraph of {title}.
"""


def article_titles(data):
    """The titles of every article the store holds, sorted, as `masthead
    export` writes them out (a store not made yet holds none)."""
    return sorted(exported_articles(data).values())


def test_import_of_a_folder_without_markdown_fails_in_one_line(tmp_path):
    src = tmp_path / "notes"
    (src / "sub").mkdir(parents=True)
    (src / "readme.txt").write_text("not markdown\n")
    (src / "sub" / "draft.markdown").write_text(ARTICLE.format(title="Wrong extension"))
    data = tmp_path / "data"
    assert run("init", data=data).returncode == 0  # so no migration is logged below
    r = run("import", str(src), data=data)
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and str(src) in r.stderr and "no .md files" in r.stderr, r.stderr
    # With another folder that has files, the empty one still stops the import.
    good = tmp_path / "good"
    good.mkdir()
    (good / "a.md").write_text(ARTICLE.format(title="Good story"))
    r = run("import", str(good), str(src), data=data)
    assert r.returncode == 3 and str(src) in r.stderr
    assert article_titles(data) == []


def test_import_skips_a_byte_order_mark(tmp_path):
    src = tmp_path / "bom.md"
    src.write_bytes(b"\xef\xbb\xbf" + ARTICLE.format(title="Saved on Windows").encode())
    data = tmp_path / "data"
    r = run("import", str(src), data=data)
    assert r.returncode == 0, r.stderr
    assert "1 created" in r.stdout
    assert article_titles(data) == ["Saved on Windows"]


def test_import_gives_an_oversized_file_its_real_size(tmp_path):
    src = tmp_path / "huge.md"
    text = ARTICLE.format(title="Huge") + ("word " * ((5 << 20) // 5))
    src.write_text(text)
    size = os.path.getsize(src)
    assert size > 5 << 20
    r = run("import", str(src), data=tmp_path / "data")
    assert r.returncode == 3
    assert f"huge.md:1: file is {size} bytes, over the limit of 1048576" in r.stderr, r.stderr
    assert "1048577" not in r.stderr
    r = run("import", str(src), "--max-import-bytes", "4096", data=tmp_path / "data")
    assert r.returncode == 3 and f"file is {size} bytes, over the limit of 4096" in r.stderr, r.stderr
    assert article_titles(tmp_path / "data") == []


SECOND_MARKER = """---
title: Two markers
access: paid
---
Teaser.

<!-- paywall -->

Gated.

<!-- paywall -->

More gated.
"""


def test_import_refuses_a_second_paywall_marker(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a-good.md").write_text(ARTICLE.format(title="Good story"))
    bad = src / "b-two.md"
    bad.write_text(SECOND_MARKER)
    data = tmp_path / "data"
    r = run("import", str(src), data=data)
    assert r.returncode == 3, r.stdout + r.stderr
    assert f"{bad}:11: a second <!-- paywall --> line (the first is on line 7)" in r.stderr, r.stderr
    assert "nothing was written" in r.stderr
    assert article_titles(data) == []


def test_a_marker_shown_in_a_code_block_is_not_a_second_marker(tmp_path):
    src = tmp_path / "code.md"
    src.write_text(SECOND_MARKER.replace("<!-- paywall -->\n\nMore gated.",
                                         "```\n<!-- paywall -->\n```\n\nMore gated."))
    data = tmp_path / "data"
    r = run("import", str(src), data=data)
    assert r.returncode == 0, r.stderr
    assert article_titles(data) == ["Two markers"]


# --- 7. export says what it is -------------------------------------------------

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_export_is_not_called_a_backup(tmp_path):
    summary = [line for line in run("--help").stdout.splitlines() if line.startswith("  export ")]
    assert summary and "not a backup" in summary[0], summary
    h = run("export", "--help").stdout
    assert "not a backup" in h and "cannot be imported back" in h, h
    assert "backups" not in run("init", "--help").stdout  # --data holds none
    reference = open(os.path.join(ROOT, "docs", "reference.md"), encoding="utf-8").read()
    row = [line for line in reference.splitlines() if line.startswith("| `masthead export DIR`")]
    assert row and "not a backup" in row[0]
    assert "### Backups" in reference and ".backup" in reference
    guide = open(os.path.join(ROOT, "docs", "import.md"), encoding="utf-8").read()
    assert "not a backup" in guide
    # What the help says is left out is indeed left out.
    data = tmp_path / "data"
    assert run("user", "add", "w@example.test", "Wanda", data=data, input=PASSWORD + "\n").returncode == 0
    r = run("export", str(tmp_path / "out"), data=data)
    assert r.returncode == 0, r.stderr
    csv = (tmp_path / "out" / "members.csv").read_text()
    assert csv.splitlines()[0] == "email,name,role,created_at"
    assert "argon2" not in csv and "$" not in csv


# --- 3. a Stripe plan without a price -----------------------------------------

def test_stripe_plan_without_a_price_says_it_cannot_be_bought(tmp_path, fresh):
    from members import form_post, sign_in
    data = tmp_path / "data"
    srv = fresh("demo", "--port", "0", env={"MASTHEAD_BILLING_PROVIDER": "stripe",
                                            "MASTHEAD_STRIPE_SECRET_KEY": "sk_test_never_called",
                                            "MASTHEAD_STRIPE_API_BASE": "http://127.0.0.1:9",
                                            "MASTHEAD_RATE_LIMIT": "1000"})
    lines = run("plan", "list", data=data).stdout.splitlines()
    assert [line.split("\t")[-1] for line in lines] == ["no Stripe price", "no Stripe price"], lines
    assert run("plan", "price", "monthly", "price_1QfXwALkdIwHu7ixMonthly", data=data).returncode == 0
    lines = run("plan", "list", data=data).stdout.splitlines()
    assert lines[0].startswith("monthly\t") and lines[0].endswith("\tStripe price price_1QfXwALkdIwHu7ixMonthly")
    assert lines[1].startswith("yearly\t") and lines[1].endswith("\tno Stripe price")

    s, r = sign_in(srv, "reader@demo.test")
    assert r.status_code == 303
    r = form_post(srv, s, "/subscribe", "/subscribe", {"plan": "yearly", "next": "/"})
    assert r.status_code == 503, r.text
    assert "This plan cannot be bought yet" in r.text
    assert "did not answer" not in r.text
    logs = srv.logs()
    assert "masthead plan price yearly" in logs
    assert "billing price" not in logs


# --- 6. a bad option value is bad usage: exit 2, one line naming it -----------

BAD_VALUES = [
    ("serve", "listen", "nonsense"),
    ("serve", "listen", "127.0.0.1:99999"),
    ("serve", "listen", "news.example:80"),
    ("serve", "public-url", "news.example"),
    ("serve", "billing-provider", "paypal"),
    ("serve", "smtp-url", "ftp://mail.example"),
    ("serve", "retry-days", "1,,3"),
    ("serve", "secret", "too-short"),
    ("serve", "threads", "100000"),
    ("serve", "max-connections", "0"),
    ("serve", "stripe-api-base", "api.stripe.com"),
    ("serve", "theme", "/nonexistent/theme"),
    ("billing", "public-url", "ftp://news.example"),
    ("mail", "smtp-url", "mail.example:25"),
    ("import", "max-import-bytes", "0"),
]


def test_bad_option_values_exit_2_naming_the_option(tmp_path):
    for i, (cmd, name, value) in enumerate(BAD_VALUES):
        args = {"billing": ["billing", "run"], "mail": ["mail", "list"], "import": ["import", str(tmp_path)]}
        for how in ("flag", "env"):
            data = tmp_path / f"d{i}{how}"
            if how == "flag":
                r = run(*args.get(cmd, [cmd]), "--" + name, value, data=data, timeout=10)
            else:
                var = "MASTHEAD_" + name.upper().replace("-", "_")
                r = run(*args.get(cmd, [cmd]), data=data, env={var: value}, timeout=10)
            where = f"{cmd} {how} --{name} {value!r}"
            assert r.returncode == 2, (where, r.stdout, r.stderr)
            assert len(r.stderr.splitlines()) == 1, (where, r.stderr)
            assert name in r.stderr, (where, r.stderr)
            assert not os.path.exists(data / "masthead.db"), where  # nothing was started
    # The secret is never echoed back.
    r = run("serve", "--secret", "hunter2-short", data=tmp_path / "s")
    assert r.returncode == 2 and "hunter2" not in r.stderr


def test_good_option_values_still_pass(tmp_path):
    for value in ("[::1]:0", "localhost:0", "0.0.0.0:8080"):
        r = run("billing", "run", data=tmp_path / "d", env={"MASTHEAD_LISTEN": value})
        assert r.returncode == 0, (value, r.stderr)
    r = run("billing", "run", "--public-url", "https://news.example.org/", "--retry-days", "2,4,8",
            "--billing-provider", "stripe", data=tmp_path / "d")
    assert r.returncode == 0, r.stderr


# --- 2. one public URL for every command --------------------------------------

def outbox(data, after=0):
    """The queued mails after id `after`, with their text: `mail list` shows
    no body."""
    with Store.of_data(data) as st:
        return st.all("SELECT id, subject, body_text FROM mail_outbox WHERE id > ? ORDER BY id", after)


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def billing_mails(data, *args, days=40):
    """The mails a billing run `days` on queues, by the command's own settings."""
    from conftest import now
    last = max([m[0] for m in outbox(data)] or [0])
    r = run("billing", "run", "--at", iso(now() + days * 86400), *args, data=data)
    assert r.returncode == 0, r.stderr
    mails = outbox(data, last)
    assert mails, "the run queued no mail"
    return mails


def test_billing_run_links_to_the_public_url_the_server_uses(tmp_path, fresh):
    data = tmp_path / "data"
    srv = fresh("demo", "--port", "0", "--public-url", "https://news.example.test/")
    srv.stop()
    mails = billing_mails(data)
    assert any("https://news.example.test/account/billing" in m[2] for m in mails), mails
    assert not any("127.0.0.1" in m[2] for m in mails), mails
    # The demo's name came along too.
    assert all("The Harbor Vale Ledger" in m[2] for m in mails)
    # A command told otherwise follows what it is told.
    mails = billing_mails(data, "--public-url", "https://other.example.test", days=75)
    assert any("https://other.example.test/account/billing" in m[2] for m in mails), mails
    assert not any("https://news.example.test" in m[2] for m in mails), mails


def test_billing_run_links_to_the_port_a_server_without_public_url_listens_on(tmp_path, fresh):
    data = tmp_path / "data"
    srv = fresh("demo", "--port", "0")
    port = srv.port
    srv.stop()
    assert f"public-url = http://127.0.0.1:{port}\n" in (data / "site.ini").read_text()
    mails = billing_mails(data)
    assert any(f"http://127.0.0.1:{port}/account/billing" in m[2] for m in mails), mails
    assert not any("127.0.0.1:8080" in m[2] for m in mails) or port == 8080


# --- 5. a new site is not the demo paper --------------------------------------

def test_a_new_site_has_neutral_defaults(tmp_path, fresh):
    srv = fresh("serve", "--listen", "127.0.0.1:0")
    page = srv.get("/").text
    assert "Harbor Vale" not in page
    assert "<title>masthead</title>" in page or ">masthead<" in page, page[:800]
    for cmd in ("serve", "init", "billing", "mail"):
        assert "Harbor Vale" not in run(cmd, "--help").stdout, cmd
    data = tmp_path / "mail"
    r = run("mail", "test", "reader@example.test", data=data)
    assert r.returncode == 0, r.stderr
    eml = open(os.path.join(data, "outbox", os.listdir(data / "outbox")[0]), "rb").read()
    assert b"From: masthead <no-reply@localhost>\r\n" in eml
    assert b"\r\nSubject: Test mail from masthead\r\n" in eml
    # The sender's domain follows a public URL with a host name.
    data = tmp_path / "mail2"
    r = run("mail", "test", "reader@example.test", "--public-url", "https://news.example.org",
            "--site-name", "The Bay Post", data=data)
    assert r.returncode == 0, r.stderr
    eml = open(os.path.join(data, "outbox", os.listdir(data / "outbox")[0]), "rb").read()
    assert b"From: The Bay Post <no-reply@news.example.org>\r\n" in eml


def test_the_demo_keeps_the_demo_papers_identity(tmp_path, fresh):
    srv = fresh("demo", "--port", "0")
    page = srv.get("/").text
    assert "The Harbor Vale Ledger" in page and "Independent news for Harbor Vale and the coast" in page
    srv.stop()
    srv = fresh("demo", "--port", "0", "--site-name", "Test Gazette")
    page = srv.get("/").text
    assert "Test Gazette" in page and "The Harbor Vale Ledger" not in page
