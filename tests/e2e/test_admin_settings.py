"""The newsroom's settings (/admin/settings), the Content API's keys and the
new-device check of staff sign-ins (docs/newsroom.md, "Settings" and
"Staff security")."""
import html as htmllib
import re
import sqlite3

import pytest

from conftest import ENGINE, Server, eventually
from members import csrf_of, form_post, mail_count, sign_in, wait_mail

PAGES = ("/admin/settings", "/admin/settings/keys")
FORMS = (("/admin/settings", "/admin/settings"), ("/admin/settings/keys", "/admin/settings/keys"),
         ("/admin/settings/keys", "/admin/settings/keys/revoke"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("settings")
    srv = Server(["demo", "--port", "0"], data)
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def admin(site):
    s, r = sign_in(site, "admin@demo.test")
    assert r.status_code == 303, r.text
    return s


def form_fields(html):
    """The settings form as a browser would post it (checkboxes only when checked)."""
    form = html[html.index('action="/admin/settings"'):]
    form = form[:form.index("</form>")]
    out = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or " disabled" in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                out[name.group(1)] = value.group(1) if value else "on"
            continue
        out[name.group(1)] = htmllib.unescape(value.group(1)) if value else ""
    for sel in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', sel.group(2))
        out[sel.group(1)] = htmllib.unescape(chosen.group(1))
    return out


def save(site, s, **changes):
    page = s.get(site.url + "/admin/settings", timeout=10)
    assert page.status_code == 200
    data = form_fields(page.text)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return s.post(site.url + "/admin/settings", data=data, allow_redirects=False, timeout=30)


def test_anonymous_is_sent_to_sign_in(site):
    for path in PAGES:
        r = site.get(path)
        assert r.status_code == 303 and r.headers["Location"].startswith("/signin?next="), path
    for _, action in FORMS:
        assert site.request("POST", action, data={"x": "1"}).status_code in (401, 403), action


@pytest.mark.parametrize("who", ["reader@demo.test", "editor@demo.test"])
def test_readers_and_editors_get_403(site, who):
    s, r = sign_in(site, who)
    assert r.status_code == 303
    for path in PAGES:
        got = s.get(site.url + path, allow_redirects=False, timeout=10)
        assert got.status_code == 403, path
    # Even with a good CSRF token, the role is checked first.
    token = csrf_of(s.get(site.url + "/account", timeout=10).text)
    for _, action in FORMS:
        got = s.post(site.url + action, data={"csrf": token, "name": "x", "site-name": "Taken"},
                     allow_redirects=False, timeout=10)
        assert got.status_code == 403, action
    assert "Taken" not in site.get("/").text


def test_every_form_needs_its_csrf_token(site):
    s = admin(site)
    for page, action in FORMS:
        assert 'name="csrf"' in s.get(site.url + page, timeout=10).text, page
        r = s.post(site.url + action, data={"name": "no-token", "site-name": "No Token"}, allow_redirects=False,
                   timeout=10)
        assert r.status_code == 403, action
        assert "expired or came from another site" in r.text
    assert "No Token" not in site.get("/").text


def test_a_saved_setting_shows_at_once_and_is_audited(site):
    s = admin(site)
    r = save(site, s, **{"site-name": "The Coast Courier", "meter-articles": "3", "plan-1-price": "9.50"})
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/admin/settings?notice=saved"
    page = s.get(site.url + r.headers["Location"], timeout=10).text
    assert "Settings saved" in page and 'value="The Coast Courier"' in page and 'value="9.50"' in page
    # The sender, derived from the name and saved as shown, follows the new name.
    assert re.search(r'id="s-mail-from"[^>]*value="The Coast Courier &lt;no-reply@', page), page
    front = site.get("/")
    assert "The Coast Courier" in front.text and "Harbor Vale Ledger" not in front.text
    assert "9.50" in site.get("/subscribe").text
    audit = s.get(site.url + "/admin/audit", timeout=10).text
    assert "settings.update" in audit and "site-name" in audit and "plan monthly" in audit


def test_bad_values_are_refused_next_to_their_field_and_nothing_is_saved(site):
    s = admin(site)
    before = s.get(site.url + "/admin/settings", timeout=10).text
    r = save(site, s, **{"site-name": "Half Saved", "public-url": "ftp://nope", "grace-days": "999",
                         "teaser-paragraphs": "two", "plan-1-price": "8,00", "billing-provider": "paypal"})
    assert r.status_code == 422
    assert "nothing was saved" in r.text
    for key, message in (("public-url", "starting with http://"), ("grace-days", "from 0 to 60"),
                         ("teaser-paragraphs", "whole number"), ("billing-provider", "Choose one")):
        m = re.search(r'<p class="field-error" id="s-' + key + r'-error">([^<]*)</p>', r.text)
        assert m and message in m.group(1), key
        assert re.search(r'id="s-' + key + r'"[^>]*aria-invalid="true"', r.text), key
    assert re.search(r'id="plan-1-error">Enter a price', r.text)
    # The form keeps what was typed, and nothing went in.
    assert 'value="Half Saved"' in r.text
    assert "Half Saved" not in site.get("/").text
    assert s.get(site.url + "/admin/settings", timeout=10).text.count("Half Saved") == 0
    assert before.count('value="The Coast Courier"') <= 1
    # Stripe without its keys is refused too.
    r = save(site, s, **{"billing-provider": "stripe"})
    assert r.status_code == 422 and "Stripe needs its secret key" in r.text


def test_secrets_are_never_sent_back(site):
    s = admin(site)
    key, hook, smtp_pw = "sk_test_Zq81SECRETkeyVALUE", "whsec_HookSECRET4477", "pw-SMTP-SECRET-993"
    r = save(site, s, **{"stripe-secret-key": key, "stripe-webhook-secret": hook,
                         "smtp-url": f"smtp://news:{smtp_pw}@127.0.0.1:1"})
    assert r.status_code == 303, r.text
    responses = [r, s.get(site.url + "/admin/settings", timeout=10), s.get(site.url + "/admin/audit", timeout=10)]
    page = responses[1].text
    assert page.count("A value is set; it is never shown") == 3
    # A failed save does not echo what was typed either.
    responses.append(save(site, s, **{"stripe-secret-key": key, "grace-days": "x"}))
    assert responses[-1].status_code == 422
    for resp in responses:
        for secret in (key, hook, smtp_pw, "Zq81SECRET"):
            assert secret not in resp.text, (resp.url, secret)
            assert all(secret not in v for v in resp.headers.values())
    if ENGINE == "sqlite":
        db = sqlite3.connect(str(site.data / "masthead.db"))
        stored = " ".join(v for (v,) in db.execute("SELECT value FROM settings WHERE secret = 1"))
        db.close()
        assert stored and key not in stored and smtp_pw not in stored
    # Removing them takes the box, not a value.
    r = save(site, s, **{"smtp-url-clear": "1", "stripe-secret-key-clear": "1", "stripe-webhook-secret-clear": "1"})
    assert r.status_code == 303
    assert s.get(site.url + "/admin/settings", timeout=10).text.count("Not set.") == 3


def test_api_keys_are_shown_once_and_revoked(site):
    s = admin(site)
    r = form_post(site, s, "/admin/settings/keys", "/admin/settings/keys", {"name": "Mobile app"})
    assert r.status_code == 200
    key = re.search(r'<code class="admin-key">([A-Za-z0-9]+)</code>', r.text).group(1)
    assert site.get(f"/ghost/api/content/posts/?key={key}").status_code == 200
    listing = s.get(site.url + "/admin/settings/keys", timeout=10).text
    assert "Mobile app" in listing and key not in listing
    r = form_post(site, s, "/admin/settings/keys", "/admin/settings/keys", {"name": "Mobile app"})
    assert r.status_code == 422 and "exists already" in r.text
    r = form_post(site, s, "/admin/settings/keys", "/admin/settings/keys", {"name": "tab\there"})
    assert r.status_code == 422 and 'id="key-name-error"' in r.text
    r = form_post(site, s, "/admin/settings/keys", "/admin/settings/keys/revoke", {"name": "Mobile app"})
    assert r.status_code == 303
    # A key found valid is believed for up to a second (docs/api.md).
    got = eventually(lambda: site.get(f"/ghost/api/content/posts/?key={key}").status_code, lambda c: c == 401)
    assert got == 401
    audit = s.get(site.url + "/admin/audit", timeout=10).text
    assert "key.add" in audit and "key.revoke" in audit


def test_a_second_node_follows_a_saved_setting_without_restart(site):
    other = Server(["serve", "--listen", "127.0.0.1:0"], site.data, log_name="node2.log")
    try:
        s = admin(site)
        r = save(site, s, **{"site-name": "Two Node Gazette"})
        assert r.status_code == 303
        got = eventually(lambda: other.get("/").text, lambda t: "Two Node Gazette" in t)
        assert "Two Node Gazette" in got
    finally:
        other.stop()
    other.check_clean()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A demo whose operator turned the new-device check on."""
    data = tmp_path_factory.mktemp("device")
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_STAFF_DEVICE_CHECK": "true"})
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def code_of(msg):
    body = msg.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"Your code: (\d{8})", body).group(1)


def test_a_reader_is_never_asked_for_a_code(guarded):
    s, r = sign_in(guarded, "reader@demo.test")
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert "masthead_session" in s.cookies


def test_a_new_device_confirms_by_mailed_code(guarded):
    before = mail_count(guarded.data, "editor@demo.test")
    s, r = sign_in(guarded, "editor@demo.test", next_path="/admin")
    assert r.status_code == 303 and r.headers["Location"].startswith("/signin/device")
    assert "masthead_session" not in s.cookies
    assert s.get(guarded.url + "/admin", allow_redirects=False, timeout=10).status_code == 303
    code = code_of(wait_mail(guarded.data, "editor@demo.test", before))
    page = s.get(guarded.url + r.headers["Location"], timeout=10)
    assert page.status_code == 200 and "Confirm this device" in page.text
    wrong = "00000000" if code != "00000000" else "11111111"
    r = s.post(guarded.url + "/signin/device", data={"csrf": csrf_of(page.text), "code": wrong, "next": "/admin"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 422 and "not right" in r.text
    assert "masthead_session" not in s.cookies
    # No CSRF token: refused before the code is looked at.
    assert s.post(guarded.url + "/signin/device", data={"code": code}, allow_redirects=False,
                  timeout=10).status_code == 403
    r = s.post(guarded.url + "/signin/device", data={"csrf": csrf_of(page.text), "code": code, "next": "/admin"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/admin"
    assert s.get(guarded.url + "/admin/articles", allow_redirects=False, timeout=10).status_code != 303
    # The code works once.
    r = s.post(guarded.url + "/signin/device", data={"csrf": csrf_of(page.text), "code": code},
               allow_redirects=False, timeout=10)
    assert r.status_code in (400, 429)
    # The device is remembered: signing in again on it asks for nothing.
    s.post(guarded.url + "/signout", data={"csrf": csrf_of(s.get(guarded.url + "/account", timeout=10).text)},
           timeout=10)
    count = mail_count(guarded.data, "editor@demo.test")
    r = form_post(guarded, s, "/signin", "/signin",
                  {"email": "editor@demo.test", "password": "masthead-demo", "next": "/"})
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert mail_count(guarded.data, "editor@demo.test") == count
    # Another browser is a new device.
    s2, r = sign_in(guarded, "editor@demo.test")
    assert r.headers["Location"].startswith("/signin/device")
    # The device cookie does not travel to another browser.
    s3, _ = sign_in(guarded, "admin@demo.test")
    s3.cookies.set("masthead_device", s.cookies.get("masthead_device"))
    r = form_post(guarded, s3, "/signin", "/signin", {"email": "editor@demo.test", "password": "masthead-demo"})
    assert r.headers["Location"].startswith("/signin/device")


def test_codes_allow_few_attempts(guarded):
    before = mail_count(guarded.data, "admin@demo.test")
    s, r = sign_in(guarded, "admin@demo.test")
    assert r.headers["Location"].startswith("/signin/device")
    code = code_of(wait_mail(guarded.data, "admin@demo.test", before))
    token = csrf_of(s.get(guarded.url + r.headers["Location"], timeout=10).text)
    wrong = "12345678" if code != "12345678" else "87654321"
    statuses = [s.post(guarded.url + "/signin/device", data={"csrf": token, "code": wrong},
                       allow_redirects=False, timeout=10).status_code for _ in range(5)]
    assert statuses == [422] * 5
    # Past the limit even the right code is refused.
    r = s.post(guarded.url + "/signin/device", data={"csrf": token, "code": code}, allow_redirects=False,
               timeout=10)
    assert r.status_code == 429 and "masthead_session" not in s.cookies
    audit = confirmed_admin(guarded).get(guarded.url + "/admin/audit", timeout=10).text
    assert "device.wrong_code" in audit and "device.confirmed" in audit and "device.refused" in audit


def confirmed_admin(srv):
    """The admin signed in on a new browser, its device confirmed by the mailed code."""
    before = mail_count(srv.data, "admin@demo.test")
    s, r = sign_in(srv, "admin@demo.test")
    assert r.headers["Location"].startswith("/signin/device")
    code = code_of(wait_mail(srv.data, "admin@demo.test", before))
    token = csrf_of(s.get(srv.url + r.headers["Location"], timeout=10).text)
    r = s.post(srv.url + "/signin/device", data={"csrf": token, "code": code}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    return s


def test_the_operators_check_is_shown_as_fixed(guarded):
    s = confirmed_admin(guarded)
    page = s.get(guarded.url + "/admin/settings", timeout=10).text
    assert re.search(r'id="s-staff-device-check"[^>]*checked disabled', page)
    assert "Fixed by the operator" in page
