"""masthead import-site: a whole publication moving in from Ghost, WordPress
or Substack, checked as readers see it (anonymous, member, subscriber),
with no gated text in any public channel, dry runs that write nothing, a
kill -9 in the middle that leaves the site as it was, old addresses that
answer 301, and imported members who sign in by magic link."""
import hashlib
import json
import os
import re

import requests

import storefix
from conftest import ENGINE, Server, run
from members import csrf_of, form_post, link_in, mail_count, sign_in, wait_mail
from test_leak import api_urls, crawl

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "import-site")
GHOST = os.path.join(FIX, "ghost", "export.json")
GHOST_BARE = os.path.join(FIX, "ghost", "bare.json")
MEMBERS = os.path.join(FIX, "ghost", "members.csv")
WXR = os.path.join(FIX, "wordpress", "export.xml")
SUBSTACK_ZIP = os.path.join(FIX, "substack", "export.zip")
SUBSTACK_DIR = os.path.join(FIX, "substack", "export")
GATED = ["GATEDGHOST1", "GATEDGHOST2", "GATEDGHOST3", "GATEDGHOST4", "GATEDWP1", "GATEDWP2", "GATEDSUB1",
         "GATEDSUB2"]
DRAFTS = ["DRAFTGHOST", "DRAFTWP", "DRAFTSUB"]


def db_checksum(data):
    """Every row of every table, hashed: what a dry run must leave alone."""
    st = storefix.Store.of_data(data)
    if ENGINE == "sqlite":
        tables = [r[0] for r in st.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    else:
        tables = [r[0] for r in st.all("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'public' ORDER BY table_name")]
    h = hashlib.sha256()
    for t in tables:
        if t.startswith("search_") and ENGINE == "sqlite" and t != "search_pending":
            continue  # FTS5 shadow tables: derived from the rows below
        rows = sorted(repr(r) for r in st.all(f"SELECT * FROM {t}"))
        h.update(f"{t}:{len(rows)}:".encode())
        for r in rows:
            h.update(r.encode())
    return h.hexdigest()


def import_site(data, *args):
    return run("import-site", *args, data=data, timeout=300)


def test_ghost_round_trip_as_readers_see_it(tmp_path, fresh):
    srv = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    data = tmp_path / "data"
    r = import_site(data, "ghost", GHOST, "--members", MEMBERS)
    assert r.returncode == 0, r.stderr
    assert "articles: 7 created, 0 updated (posts 5, pages 1, drafts 1)" in r.stdout
    assert "members: 4 created, 0 updated; comped 1, newsletter consent 3, Stripe customers 2" in r.stdout
    assert "visibility 'filter:segment' has no masthead access level" in r.stdout
    assert "members.csv:7: 'not-an-email' fails the e-mail rule" in r.stdout
    assert "members.csv:5: comped@moving.test is the same address as" in r.stdout
    assert "members.csv:8: malformed row" in r.stdout
    assert "members.csv:9: 3 fields where the header has 11" in r.stdout

    anon = srv.get("/articles/harbour-night-window")
    assert anon.status_code == 200
    assert "The harbour board met on Monday" in anon.text
    assert "<li>Pier 9\n<ul>\n<li>berths 1–4</li>" in anon.text  # the nested list survived
    assert 'alt="Pier 9 at dusk"' in anon.text and "/content/images/2025/11/pier.jpg" in anon.text
    assert "__GHOST_URL__" not in anon.text and "javascript:" not in anon.text
    assert '<a href="/ferries-resume/">loudly</a>' in anon.text
    assert "GATEDGHOST1" not in anon.text and "Already a subscriber?" in anon.text
    assert "The board votes next week." in anon.text  # custom_excerpt as the dek
    assert 'href="/authors/mara-ellison"' in anon.text and 'href="/tags/harbour"' in anon.text
    assert "#internal" not in anon.text

    sub, _ = sign_in(srv, "subscriber@demo.test")
    full = sub.get(srv.url + "/articles/harbour-night-window", timeout=10).text
    assert "GATEDGHOST1" in full
    assert '<figure class="quote">' in full and 'href="/people/ines-okafor"' in full
    assert "<script>alert" not in full

    # A paid post without a paywall point: the first two paragraphs are the teaser.
    anon = srv.get("/articles/budget-talks-stall").text
    assert "Both sides blamed the other." in anon and "GATEDGHOST2" not in anon
    assert "GATEDGHOST2" in sub.get(srv.url + "/articles/budget-talks-stall", timeout=10).text
    # mobiledoc only, members-only, its only gated text in a card after the paywall card.
    anon = srv.get("/articles/council-budget-brief").text
    assert "<strong>Budget</strong>" in anon and "GATEDGHOST3" not in anon
    reader, _ = sign_in(srv, "reader@demo.test")
    assert "GATEDGHOST3" in reader.get(srv.url + "/articles/council-budget-brief", timeout=10).text
    # lexical only, "tiers" visibility as paid.
    anon = srv.get("/articles/ferries-resume").text
    assert "Ferries resume at dawn." in anon and "<strong>06:00 north pier</strong>" in anon
    assert "GATEDGHOST4" not in anon
    assert "GATEDGHOST4" not in reader.get(srv.url + "/articles/ferries-resume", timeout=10).text
    assert "GATEDGHOST4" in sub.get(srv.url + "/articles/ferries-resume", timeout=10).text
    # Unicode titles, drafts kept unpublished, pages as articles.
    assert "Zoë’s café reopens — Ωmega street 東京" in srv.get("/articles/zoe-cafe-reopens").text
    assert srv.get("/articles/dredging-plan-draft").status_code == 404
    assert srv.get("/articles/about").status_code == 200

    # Old addresses answer 301 with the new one; unknown ones still 404.
    for old, new in (("/harbour-night-window/", "/articles/harbour-night-window"),
                     ("/about/", "/articles/about"), ("/ferries-resume", "/articles/ferries-resume"),
                     ("/tag/harbour/", "/tags/harbour"), ("/author/mara/", "/authors/mara-ellison")):
        r = srv.get(old)
        assert r.status_code == 301 and r.headers["Location"] == new, old
    assert srv.get("/no-such-post/").status_code == 404
    assert srv.get("/dredging-plan-draft/").status_code == 404
    assert srv.get("/tag/hash-internal/").status_code == 404  # internal tags are not listings
    r = run("redirects", data=data)
    assert r.returncode == 0 and "/harbour-night-window/\t/articles/harbour-night-window\tghost" in r.stdout

    # Members: Stripe customers attached through the provider, comp, consent.
    st = storefix.Store.of_data(data)
    rows = dict((e, (s, c)) for e, s, c in st.all(
        "SELECT m.email, s.status, s.provider_customer FROM subscriptions s JOIN members m ON m.id = s.member_id "
        "WHERE s.provider = 'stripe'"))
    assert rows == {"paying@moving.test": ("active", "cus_PAYING1"), "lapsed@moving.test": ("canceled", "cus_LAPSED1")}
    assert st.value("SELECT comped_until FROM members WHERE email = 'comped@moving.test'") > 4e9
    consent = dict(st.all("SELECT m.email, c.newsletter FROM member_consents c JOIN members m ON m.id = c.member_id"))
    assert consent == {"paying@moving.test": 1, "noname@moving.test": 0, "comped@moving.test": 1,
                       "lapsed@moving.test": 1}
    assert st.value("SELECT name FROM members WHERE email = 'noname@moving.test'") == ""
    # The consent decides who is on the site's newsletter (the demo's, which
    # subscribes new members): the one who declined is not mailed.
    on_list = set(e for (e,) in st.all(
        "SELECT m.email FROM newsletter_members nm JOIN members m ON m.id = nm.member_id "
        "WHERE m.email LIKE '%@moving.test'"))
    assert on_list == {"paying@moving.test", "comped@moving.test", "lapsed@moving.test"}
    # A comped member reads paid articles.
    comped = magic_link_session(srv, data, "comped@moving.test")
    assert "GATEDGHOST1" in comped.get(srv.url + "/articles/harbour-night-window", timeout=10).text

    # Running it again updates rather than duplicates.
    before = st.value("SELECT COUNT(*) FROM articles"), st.value("SELECT COUNT(*) FROM members")
    r = import_site(data, "ghost", GHOST, "--members", MEMBERS)
    assert r.returncode == 0, r.stderr
    assert "articles: 0 created, 7 updated" in r.stdout and "members: 0 created, 4 updated" in r.stdout
    st = storefix.Store.of_data(data)
    assert (st.value("SELECT COUNT(*) FROM articles"), st.value("SELECT COUNT(*) FROM members")) == before
    assert st.value("SELECT COUNT(*) FROM subscriptions WHERE provider_customer = 'cus_PAYING1'") == 1


def magic_link_session(srv, data, who):
    before = mail_count(data, who)
    s = requests.Session()
    r = form_post(srv, s, "/signin", "/signin/link", {"email": who, "next": "/account"})
    assert r.status_code == 200
    path = link_in(wait_mail(data, who, before), "/signin/link/")
    page = s.get(srv.url + path, timeout=10)
    r = s.post(srv.url + path, data={"csrf": csrf_of(page.text)}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    return s


def test_imported_members_sign_in_by_magic_link(tmp_path, fresh):
    srv = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    data = tmp_path / "data"
    assert import_site(data, "ghost", GHOST, "--members", MEMBERS).returncode == 0
    # The address was written in another case in the export; the rule lower-cases it.
    s = magic_link_session(srv, data, "COMPED@moving.test".lower())
    assert "comped@moving.test" in s.get(srv.url + "/account", timeout=10).text
    s = magic_link_session(srv, data, "noname@moving.test")
    assert "noname@moving.test" in s.get(srv.url + "/account", timeout=10).text


def test_no_gated_text_in_any_public_channel(tmp_path, fresh):
    srv = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    data = tmp_path / "data"
    assert import_site(data, "ghost", GHOST, "--members", MEMBERS).returncode == 0
    assert import_site(data, "wordpress", WXR, "--paywall-at-more", "--access", "paid").returncode == 0
    assert import_site(data, "substack", SUBSTACK_ZIP).returncode == 0
    slugs = ["harbour-night-window", "budget-talks-stall", "council-budget-brief", "ferries-resume",
             "pier-9-night-shift", "market-prize", "dock-strike-ledger", "members-notes"]
    extra = [f"/articles/{s}" for s in slugs] + [f"/search?q={m}" for m in GATED + DRAFTS]
    extra += ["/tags/harbour", "/tags/port", "/feed.xml", "/sitemap.xml", "/people/ines-okafor",
              "/people/dara-quinn"] + [f"/api/v1/articles/{s}" for s in slugs]
    bodies = crawl(srv, extra=extra + api_urls(data))
    assert len(bodies) > 40
    for s in slugs:
        assert bodies[f"/articles/{s}"][0] == 200, s
    for path, (status, text, headers) in bodies.items():
        for m in GATED + DRAFTS:
            assert m not in text.replace(f"q={m}", ""), (path, m)
            assert m not in str(headers), (path, m)


def test_wordpress_and_substack(tmp_path, fresh):
    srv = fresh(env={"MASTHEAD_RATE_LIMIT": "1000"})
    data = tmp_path / "data"
    r = import_site(data, "wordpress", WXR, "--paywall-at-more", "--access", "paid")
    assert r.returncode == 0, r.stderr
    assert "articles: 4 created, 0 updated (posts 2, pages 1, drafts 1)" in r.stdout
    assert "post type 'wpcf7_contact_form' is not imported" in r.stdout
    anon = srv.get("/articles/pier-9-night-shift").text
    assert "The harbour board approved a night shift at Pier 9." in anon
    assert "<li>Dock workers\n<ul>\n<li>for the overtime</li>" in anon
    assert "/wp-content/uploads/2025/11/pier.jpg" in anon  # the attachment as feature image
    assert "Night work starts in December." in anon and "GATEDWP1" not in anon
    assert 'href="/authors/mara-ellison"' in anon
    sub, _ = sign_in(srv, "subscriber@demo.test")
    full = sub.get(srv.url + "/articles/pier-9-night-shift", timeout=10).text
    assert "GATEDWP1" in full and 'href="/people/ines-okafor"' in full
    assert "Crème brûlée stall wins the market prize — 市場" in srv.get("/articles/market-prize").text
    assert srv.get("/articles/about").text.count("since 1998") >= 1  # pages stay public
    for old, new in (("/2025/11/04/pier-9-night-shift/", "/articles/pier-9-night-shift"),
                     ("/?p=101", "/articles/pier-9-night-shift"), ("/?page_id=104", "/articles/about"),
                     ("/category/port/", "/tags/port"), ("/tag/night-work/", "/tags/night-work")):
        r = srv.get(old)
        assert r.status_code == 301 and r.headers["Location"] == new, old
    assert srv.get("/?p=999").status_code == 200  # an unknown id is just the front page

    r = import_site(data, "substack", SUBSTACK_ZIP)
    assert r.returncode == 0, r.stderr
    assert "articles: 4 created, 0 updated (posts 3, pages 0, drafts 1)" in r.stdout
    assert "posts.csv:7: malformed row" in r.stdout
    assert "email_list.harbour-notes.csv:4: payer@tides.test is the same address" in r.stdout
    anon = srv.get("/articles/dock-strike-ledger").text
    assert "Here is what each side put on the table." in anon and "GATEDSUB1" not in anon
    assert "GATEDSUB1" in sub.get(srv.url + "/articles/dock-strike-ledger", timeout=10).text
    assert "GATEDSUB2" not in srv.get("/articles/members-notes").text
    r = srv.get("/p/dock-strike-ledger")
    assert r.status_code == 301 and r.headers["Location"] == "/articles/dock-strike-ledger"
    st = storefix.Store.of_data(data)
    assert st.value("SELECT comped_until FROM members WHERE email = 'comp@tides.test'") > 4e9
    assert st.value("SELECT c.newsletter FROM member_consents c JOIN members m ON m.id = c.member_id "
                    "WHERE m.email = 'quiet@tides.test'") == 0
    # The unpacked folder is the same export: a second run only updates.
    r = import_site(data, "substack", SUBSTACK_DIR)
    assert r.returncode == 0 and "articles: 0 created, 4 updated" in r.stdout, r.stdout


def test_dry_runs_write_nothing(tmp_path, fresh):
    data = tmp_path / "data"
    srv = fresh()
    srv.stop()
    before = db_checksum(data)
    for args in (("ghost", GHOST, "--members", MEMBERS), ("wordpress", WXR, "--paywall-at-more"),
                 ("substack", SUBSTACK_ZIP)):
        r = import_site(data, *args, "--dry-run")
        assert r.returncode == 0, r.stderr
        assert "dry run, nothing written" in r.stdout
        assert re.search(r"articles: \d+ to create", r.stdout)
    assert "members.csv:7: 'not-an-email' fails the e-mail rule" in import_site(
        data, "ghost", GHOST, "--members", MEMBERS, "--dry-run").stdout
    assert db_checksum(data) == before


def test_kill_9_in_the_middle_leaves_the_site_as_it_was(tmp_path, fresh):
    data = tmp_path / "data"
    srv = fresh()
    srv.stop()
    before = db_checksum(data)
    r = run("import-site", "ghost", GHOST, "--members", MEMBERS, data=data,
            env={"MASTHEAD_FAULTS": "import-site-kill-after=4"})
    assert r.returncode == -9, (r.returncode, r.stdout, r.stderr)
    assert db_checksum(data) == before
    # And the next run does it all.
    r = import_site(data, "ghost", GHOST, "--members", MEMBERS)
    assert r.returncode == 0 and "articles: 7 created" in r.stdout, r.stderr


def test_bad_input_is_refused_with_one_line(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "not.json").write_text("{ not json")
    (tmp_path / "other.json").write_text(json.dumps({"hello": "world"}))
    (tmp_path / "bad.xml").write_text("<rss><channel><item></channel>")
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    cases = [(("ghost", str(tmp_path / "not.json")), "not JSON"),
             (("ghost", str(tmp_path / "other.json")), "not a Ghost export"),
             (("wordpress", str(tmp_path / "bad.xml")), "not well-formed XML"),
             (("substack", str(tmp_path / "bad.zip")), "not a zip file"),
             (("ghost", str(tmp_path / "missing.json")), "cannot read")]
    for args, msg in cases:
        r = import_site(data, *args)
        assert r.returncode == 3, (args, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
        assert "nothing was written" in r.stderr
    r = import_site(data, "medium", GHOST)
    assert r.returncode == 2 and "is not ghost, wordpress or substack" in r.stderr
    r = import_site(data, "ghost", GHOST, "--paywall-at-more")
    assert r.returncode == 2
    r = import_site(data, "wordpress", WXR, "--access", "gold")
    assert r.returncode == 2 and "--access must be public, members or paid" in r.stderr


def test_bare_export_without_users_or_tags(tmp_path):
    data = tmp_path / "data"
    r = import_site(data, "ghost", GHOST_BARE)
    assert r.returncode == 0, r.stderr
    assert "articles: 1 created" in r.stdout
    assert "no users table: posts get the default author (Staff)" in r.stdout
    srv = Server(["serve", "--listen", "127.0.0.1:0"], data)
    try:
        page = srv.get("/articles/bare-export-post").text
        assert "From a bare export without users or tags." in page and 'href="/authors/staff"' in page
    finally:
        srv.stop()


def test_stripe_recognises_imported_customers_at_the_next_webhook(tmp_path, fresh):
    from test_stripe import SECRET, Stripe, subscription_event
    from conftest import now as clock_now
    srv = fresh(env={"MASTHEAD_STRIPE_WEBHOOK_SECRET": SECRET, "MASTHEAD_RATE_LIMIT": "1000"})
    data = tmp_path / "data"
    assert import_site(data, "ghost", GHOST, "--members", MEMBERS).returncode == 0
    # Leo's Ghost subscription had lapsed; he renews on Stripe, which says so.
    t = int(clock_now())
    ev = subscription_event("customer.subscription.updated", t - 60, t - 60, t + 30 * 86400)
    ev["data"]["object"]["customer"] = "cus_LAPSED1"
    ev["data"]["object"]["id"] = "sub_LAPSED1"
    r = Stripe(srv, tmp_path).post(ev)
    assert (r.status_code, r.text) == (200, "ok\n"), r.text
    st = storefix.Store.of_data(data)
    assert st.one("SELECT s.status, s.provider_id FROM subscriptions s JOIN members m ON m.id = s.member_id "
                  "WHERE m.email = 'lapsed@moving.test'") == ("active", "sub_LAPSED1")
    leo = magic_link_session(srv, data, "lapsed@moving.test")
    assert "GATEDGHOST1" in leo.get(srv.url + "/articles/harbour-night-window", timeout=10).text
