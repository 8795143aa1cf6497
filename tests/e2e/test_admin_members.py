"""The newsroom's members (/admin/members, docs/newsroom.md "Members"):
who may reach them, CSRF on every form, search, a member's page, comp,
role, sign-in link, delete with their data, and CSV out and in (bad rows
reported by line with nothing imported; a round trip through a fresh site)."""
import calendar
import re
import urllib.parse

import pytest
import requests

from conftest import Server, eventually, run
from members import csrf_of, mails, sign_in
from storefix import Store

GETS = ["/admin/members", "/admin/members.csv", "/admin/members/import", "/admin/members/1",
        "/admin/members/1/delete"]
POSTS = ["/admin/members/import", "/admin/members/1/comp", "/admin/members/1/role", "/admin/members/1/link",
         "/admin/members/1/delete"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("admin-members")
    srv = Server(["demo", "--port", "0"], data)
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


@pytest.fixture(scope="module")
def admin(site):
    s, r = sign_in(site, "admin@demo.test")
    assert r.status_code == 303
    return s


def member_id(site, email):
    with Store.of_data(site.data) as st:
        return st.value("SELECT id FROM members WHERE email = ?", email)


def post(site, s, page, action, fields, csrf=True):
    token = csrf_of(s.get(site.url + page, timeout=10).text)
    data = dict(fields)
    if csrf:
        data["csrf"] = token
    return s.post(site.url + action, data=data, allow_redirects=False, timeout=30)


def audit(admin, site):
    page = admin.get(site.url + "/admin/audit", timeout=10).text
    return re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", page)


# ---- Who may enter ------------------------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in_and_cannot_post(site):
    for path in GETS:
        r = site.get(path)
        assert r.status_code == 303, path
        assert r.headers["Location"] == "/signin?next=" + urllib.parse.quote(path, safe=""), path
    for path in POSTS:
        assert site.request("POST", path, data={"csrf": "x"}).status_code == 401, path


@pytest.mark.parametrize("who", ["reader@demo.test", "subscriber@demo.test", "editor@demo.test"])
def test_readers_and_editors_get_403_everywhere(site, who):
    s, r = sign_in(site, who)
    assert r.status_code == 303
    token = csrf_of(s.get(site.url + "/account", timeout=10).text)
    for path in GETS:
        got = s.get(site.url + path, allow_redirects=False, timeout=10)
        assert got.status_code == 403, (who, path)
        assert "reader@demo.test" not in got.text
    for path in POSTS:
        got = s.post(site.url + path, data={"csrf": token, "role": "admin", "confirm": "reader@demo.test",
                                            "csv": "email\nx@y.test\n"}, allow_redirects=False, timeout=10)
        assert got.status_code == 403, (who, path)
    assert member_id(site, "reader@demo.test") and member_id(site, "x@y.test") is None


def test_every_form_needs_its_csrf_token(site, admin):
    rid = member_id(site, "reader@demo.test")
    page = f"/admin/members/{rid}"
    for action, fields in ((f"{page}/comp", {"until": "2099-01-01"}), (f"{page}/role", {"role": "editor"}),
                           (f"{page}/link", {}), (f"{page}/delete", {"confirm": "reader@demo.test"}),
                           ("/admin/members/import", {"csv": "email\ncsrf@demo.test\n"})):
        r = post(site, admin, page, action, fields, csrf=False)
        assert r.status_code == 403, action
        assert "form has expired" in r.text
        r = admin.post(site.url + action, data={**fields, "csrf": "A" * 43}, allow_redirects=False, timeout=10)
        assert r.status_code == 403, action
    with Store.of_data(site.data) as st:
        assert st.one("SELECT role, comped_until FROM members WHERE id = ?", rid) == ("reader", 0)
        assert st.value("SELECT count(*) FROM members WHERE email = 'csrf@demo.test'") == 0


# ---- Search and a member's page -----------------------------------------------------------------

def listed(html):
    return re.findall(r'<td><a href="/admin/members/\d+">([^<]+)</a></td>', html)


def test_search_by_email_or_name_any_case(site, admin):
    assert listed(admin.get(site.url + "/admin/members?q=PASTDUE", timeout=10).text) == ["pastdue@demo.test"]
    assert listed(admin.get(site.url + "/admin/members?q=riley", timeout=10).text) == ["reader@demo.test"]
    assert len(listed(admin.get(site.url + "/admin/members", timeout=10).text)) >= 6
    # LIKE's own characters are taken literally.
    for q in ("%", "_", "\\"):
        r = admin.get(site.url + "/admin/members", params={"q": q}, timeout=10)
        assert r.status_code == 200 and listed(r.text) == [], q
        assert "No member matches." in r.text
    assert admin.get(site.url + "/admin/members", params={"q": "x" * 201}, timeout=10).status_code == 400
    for page in ("0", "-1", "x", "100001"):
        assert admin.get(site.url + "/admin/members", params={"page": page}, timeout=10).status_code == 400
    assert admin.get(site.url + "/admin/members/999999", timeout=10).status_code == 404
    assert admin.get(site.url + "/admin/members/abc", timeout=10).status_code == 404


def test_a_members_page_shows_billing_and_sessions_never_secrets(site, admin):
    ps, r = sign_in(site, "pastdue@demo.test")
    assert r.status_code == 303
    pid = member_id(site, "pastdue@demo.test")
    page = admin.get(site.url + f"/admin/members/{pid}", timeout=10).text
    assert re.search(r'<p id="member-card">Visa ending 0341, expires 12/\d{4}</p>', page)
    sub = page[page.index('id="member-subscription"'):]
    assert "<dt>Status</dt><dd>past_due</dd>" in sub and "<dt>Plan</dt><dd>Monthly</dd>" in sub
    invoices = page[page.index('id="member-invoices"'):page.index("</table>", page.index('id="member-invoices"'))]
    assert re.findall(r"<td>\$8\.00</td><td>(open|paid)</td>", invoices) == ["open", "paid"]
    sessions = page[page.index('id="member-session-list"'):]
    assert "<td>127.0.0.1</td>" in sessions and "python-requests" in sessions
    with Store.of_data(site.data) as st:
        secrets = [st.value("SELECT password_hash FROM members WHERE id = ?", pid)]
        secrets += [row[0] for row in st.all("SELECT token_hash FROM sessions WHERE member_id = ?", pid)]
    assert secrets[0].startswith("$argon2")
    for secret in secrets:
        assert secret not in page
    assert "argon2" not in page and ps.cookies.get("masthead_session") not in page


# ---- Actions ------------------------------------------------------------------------------------

def test_comp_access_until_a_day_with_errors_next_to_the_field(site, admin):
    rid = member_id(site, "reader@demo.test")
    page = f"/admin/members/{rid}"
    for bad, message in (("31/12/2099", "Give a date as YYYY-MM-DD"), ("2000-01-01", "Choose a day after today"),
                         ("2099-13-45", "Give a date as YYYY-MM-DD")):
        r = post(site, admin, page, f"{page}/comp", {"until": bad})
        assert r.status_code == 422, bad
        assert re.search(r'<p class="field-error" id="comp-until-error">' + message, r.text), bad
        assert f'value="{bad}"' in r.text and 'aria-invalid="true"' in r.text
    r = post(site, admin, page, f"{page}/comp", {"until": "2099-03-31"})
    assert r.status_code == 303 and r.headers["Location"] == f"{page}?done=comp"
    shown = admin.get(site.url + page, timeout=10).text
    assert '<dd id="member-comped">until 2099-04-01 00:00 UTC</dd>' in shown
    with Store.of_data(site.data) as st:
        assert st.value("SELECT comped_until FROM members WHERE id = ?", rid) == calendar.timegm((2099, 4, 1, 0, 0, 0))
    # A comped reader reads a paid article in full.
    rs, _ = sign_in(site, "reader@demo.test")
    assert 'class="gated-body' in rs.get(site.url + "/articles/port-pier-9-overnight-cargo", timeout=10).text
    assert post(site, admin, page, f"{page}/comp", {"until": ""}).status_code == 303
    assert '<dd id="member-comped">none</dd>' in admin.get(site.url + page, timeout=10).text
    assert audit(admin, site)[:2] == [("admin@demo.test", "member.comp", "reader@demo.test", "ended"),
                                      ("admin@demo.test", "member.comp", "reader@demo.test", "until 2099-03-31")]


def test_change_role_but_not_ones_own(site, admin):
    rid = member_id(site, "reader@demo.test")
    page = f"/admin/members/{rid}"
    r = post(site, admin, page, f"{page}/role", {"role": "owner"})
    assert r.status_code == 422 and 'id="member-role-error">Choose reader, editor or admin.' in r.text
    r = post(site, admin, page, f"{page}/role", {"role": "editor"})
    assert r.status_code == 303
    assert '<dd id="member-role">editor</dd>' in admin.get(site.url + page, timeout=10).text
    assert audit(admin, site)[0] == ("admin@demo.test", "member.role", "reader@demo.test", "editor")
    assert post(site, admin, page, f"{page}/role", {"role": "reader"}).status_code == 303
    me = f"/admin/members/{member_id(site, 'admin@demo.test')}"
    r = post(site, admin, me, f"{me}/role", {"role": "reader"})
    assert r.status_code == 422 and "You cannot change your own role" in r.text
    with Store.of_data(site.data) as st:
        assert st.value("SELECT role FROM members WHERE email = 'admin@demo.test'") == "admin"


def test_send_a_sign_in_link(site, admin):
    before = len(mails(site.data))
    rid = member_id(site, "reader@demo.test")
    page = f"/admin/members/{rid}"
    r = post(site, admin, page, f"{page}/link", {})
    assert r.status_code == 303 and r.headers["Location"] == f"{page}?done=link"
    assert "A sign-in link is on its way" in admin.get(site.url + r.headers["Location"], timeout=10).text
    got = eventually(lambda: mails(site.data), lambda m: len(m) > before)
    mail = got[-1]
    assert mail["To"] == "reader@demo.test"
    link = re.search(r"http://[^\s]+/signin/link/([A-Za-z0-9_-]+)", mail.get_body(("plain",)).get_content())
    assert link, mail
    assert requests.get(site.url + "/signin/link/" + link.group(1), timeout=10).status_code == 200
    assert audit(admin, site)[0] == ("admin@demo.test", "member.signin_link", "reader@demo.test", "")


# ---- CSV ----------------------------------------------------------------------------------------

def import_csv(site, s, text):
    return post(site, s, "/admin/members/import", "/admin/members/import", {"csv": text})


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(site, admin):
    text = ("email,name,role\r\n"
            "good@import.test,Good Row,reader\r\n"              # line 2: fine
            "not-an-address,Bad Mail,reader\r\n"                # line 3
            "\"multi@import.test\",\"Two\nLines\",editor\r\n"   # lines 4-5: a line break in a name
            "good@import.test,Twice,reader\r\n"                 # line 6: twice in the file
            "READER@demo.test,Already,reader\r\n"               # line 7: a member already
            "role@import.test,Bad Role,owner\r\n"               # line 8
            "short@import.test\r\n")                            # line 9: one field
    r = import_csv(site, admin, text)
    assert r.status_code == 422
    assert "Nothing was imported: 6 rows need fixing." in r.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", r.text)
    assert [int(n) for n, _ in rows] == [3, 4, 6, 7, 8, 9], rows
    assert "not an e-mail address" in rows[0][1] and "control characters" in rows[1][1]
    assert "on line 2 already" in rows[2][1] and "reader@demo.test is a member already" == rows[3][1]
    assert "reader, editor or admin" in rows[4][1] and "has 1 field, the header 3" == rows[5][1]
    # The text comes back in the form, to fix and send again.
    assert "not-an-address,Bad Mail" in r.text
    with Store.of_data(site.data) as st:
        assert st.value("SELECT count(*) FROM members WHERE email LIKE '%@import.test'") == 0
    r = import_csv(site, admin, "mail,name\nx@import.test,X\n")
    assert r.status_code == 422 and re.search(r"<tr><td>1</td><td>unknown column &quot;mail&quot;", r.text)
    assert import_csv(site, admin, "").status_code == 422
    assert import_csv(site, admin, "email\n").status_code == 422


def test_export_quotes_and_guards_formulas(site, admin):
    text = ("email,name\n"
            "formula@import.test,\"=HYPERLINK(\"\"http://x\"\"), ok\"\n"
            "plus@import.test,+1 555\n"
            "dash@import.test,-dash\n"
            "at@import.test,@at\n"
            "comma@import.test,\"Doe, Jane\"\n")
    r = import_csv(site, admin, text)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/members?done=imported"
    assert audit(admin, site)[0] == ("admin@demo.test", "members.import", "", "5 members")
    r = admin.get(site.url + "/admin/members.csv", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "no-store" in r.headers["Cache-Control"] and "attachment" in r.headers["Content-Disposition"]
    lines = r.text.split("\r\n")
    assert lines[0] == "email,name,role,signed_up,comped_until,email_verified"
    assert lines[-1] == ""
    body = {line.split(",")[0]: line for line in lines[1:-1]}
    assert body["formula@import.test"].startswith('formula@import.test,"\'=HYPERLINK(""http://x""), ok",reader,')
    assert body["plus@import.test"].startswith('plus@import.test,"\'+1 555",reader,')
    assert body["dash@import.test"].startswith('dash@import.test,"\'-dash",')
    assert body["at@import.test"].startswith('at@import.test,"\'@at",')
    assert body["comma@import.test"].startswith('comma@import.test,"Doe, Jane",reader,')
    assert "argon2" not in r.text
    # The name is stored as given, without the guard.
    with Store.of_data(site.data) as st:
        assert st.value("SELECT name FROM members WHERE email = 'plus@import.test'") == "+1 555"


def test_round_trip_through_a_fresh_site(site, admin, tmp_path):
    first = admin.get(site.url + "/admin/members.csv", timeout=10).text
    data = tmp_path / "fresh"
    assert run("migrate", data=data).returncode == 0
    r = run("user", "add", "staff@fresh.test", "Staff", "admin", data=data, input="fresh-password\n")
    assert r.returncode == 0, r.stderr
    # Staff confirm a new device by a mailed code on a real site (tested in
    # test_admin_settings.py); this site's admin signs in straight away.
    fresh = Server(["serve", "--listen", "127.0.0.1:0", "--staff-device-check", "false"], data)
    try:
        s, r = sign_in(fresh, "staff@fresh.test", password="fresh-password")
        assert r.status_code == 303
        r = import_csv(fresh, s, first)
        assert r.status_code == 303, r.text
        again = s.get(fresh.url + "/admin/members.csv", timeout=10).text
    finally:
        fresh.stop()
    fresh.check_clean()
    # Equal, but for the fresh site's own admin, who had to exist to import.
    lines = again.split("\r\n")
    assert lines[1].startswith("staff@fresh.test,Staff,admin,")
    assert "\r\n".join(lines[:1] + lines[2:]) == first


# ---- Delete -------------------------------------------------------------------------------------

def test_delete_needs_the_address_typed_and_ends_the_subscription_first(site, admin):
    sid = member_id(site, "subscriber@demo.test")
    page = f"/admin/members/{sid}"
    confirm = admin.get(site.url + f"{page}/delete", timeout=10)
    assert confirm.status_code == 200 and "A live subscription is canceled first" in confirm.text
    r = post(site, admin, f"{page}/delete", f"{page}/delete", {"confirm": "someone@else.test"})
    assert r.status_code == 422 and 'id="delete-error">Type the member' in r.text
    with Store.of_data(site.data) as st:
        sub = st.value("SELECT id FROM subscriptions WHERE member_id = ?", sid)
        assert st.value("SELECT status FROM subscriptions WHERE id = ?", sub) == "active"
        assert st.value("SELECT count(*) FROM invoices WHERE subscription_id = ?", sub) > 0
    ss, _ = sign_in(site, "subscriber@demo.test")
    r = post(site, admin, f"{page}/delete", f"{page}/delete", {"confirm": " Subscriber@Demo.test "})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/members?done=deleted"
    assert admin.get(site.url + page, timeout=10).status_code == 404
    with Store.of_data(site.data) as st:
        assert st.value("SELECT count(*) FROM members WHERE id = ?", sid) == 0
        for table in ("sessions", "subscriptions", "payment_methods", "auth_tokens", "newsletter_members"):
            assert st.value(f"SELECT count(*) FROM {table} WHERE member_id = ?", sid) == 0, table
        assert st.value("SELECT count(*) FROM invoices WHERE subscription_id = ?", sub) == 0
        assert st.value("SELECT count(*) FROM mail_outbox WHERE to_addr = 'subscriber@demo.test'") == 0
    # Their session is gone with them.
    assert ss.get(site.url + "/account", allow_redirects=False, timeout=10).status_code == 303
    assert audit(admin, site)[0] == ("admin@demo.test", "member.delete", "subscriber@demo.test", "with their data")


def test_a_member_paying_through_stripe_is_not_deleted_here(site, admin):
    pid = member_id(site, "pastdue@demo.test")
    with Store.of_data(site.data) as st:
        st.execute("UPDATE subscriptions SET provider = 'stripe' WHERE member_id = ?", pid)
    page = f"/admin/members/{pid}"
    r = post(site, admin, f"{page}/delete", f"{page}/delete", {"confirm": "pastdue@demo.test"})
    assert r.status_code == 409 and "cancel their subscription in Stripe" in r.text
    assert member_id(site, "pastdue@demo.test") == pid


def test_an_admin_cannot_delete_themselves(site, admin):
    me = f"/admin/members/{member_id(site, 'admin@demo.test')}"
    r = post(site, admin, f"{me}/delete", f"{me}/delete", {"confirm": "admin@demo.test"})
    assert r.status_code == 422 and "cannot delete your own account" in r.text
