"""Helpers for tests that sign in: forms, CSRF tokens, mailed links."""
import email
import email.policy
import glob
import os
import re
import time

import requests

PASSWORD = "masthead-demo"


def csrf_of(html):
    m = re.search(r'name="csrf" value="([A-Za-z0-9_-]+)"', html)
    assert m, "no csrf field in page"
    return m.group(1)


def form_post(srv, session, page, action, fields, **kw):
    """Loads page (for the CSRF cookie and token), then posts fields to action."""
    r = session.get(srv.url + page, allow_redirects=False, timeout=10)
    data = dict(fields)
    data["csrf"] = csrf_of(r.text)
    return session.post(srv.url + action, data=data, allow_redirects=False, timeout=30, **kw)


def sign_in(srv, who, password=PASSWORD, next_path="/"):
    s = requests.Session()
    r = form_post(srv, s, "/signin", "/signin", {"email": who, "password": password, "next": next_path})
    return s, r


def mails(data_dir):
    """Every mail the file transport wrote, oldest first, parsed."""
    out = []
    for path in sorted(glob.glob(os.path.join(str(data_dir), "outbox", "*.eml")), key=os.path.getmtime):
        with open(path, "rb") as f:
            out.append(email.message_from_binary_file(f, policy=email.policy.default))
    return out


def wait_mail(data_dir, to, count_before=0, timeout=10):
    """The newest mail to `to`, waiting for the sender thread."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [m for m in mails(data_dir) if to in str(m["To"])]
        if len(found) > count_before:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to} after {timeout}s")


def mail_count(data_dir, to):
    return len([m for m in mails(data_dir) if to in str(m["To"])])


def link_in(msg, path_prefix):
    body = msg.get_body(preferencelist=("plain",)).get_content()
    m = re.search(r"https?://[^\s]+(" + re.escape(path_prefix) + r"[A-Za-z0-9_-]{43})", body)
    assert m, body
    return m.group(1)
