"""The paywall's and the billing page's words are the theme's: a theme
rewords them without touching the server, and one message never bleeds
into another's place."""
import os
import shutil

import requests

from conftest import Server
from members import sign_in

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PAID = "/articles/port-pier-9-overnight-cargo"


def test_a_theme_rewords_the_paywall_and_the_billing_page(tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(os.path.join(ROOT, "themes", "default"), theme)
    art = theme / "templates" / "article.mustache"
    art.write_text(art.read_text().replace("This article is for subscribers", "For Ledger readers who pay")
                   .replace("Already a subscriber?", "Paid up already?"))
    bill = theme / "templates" / "billing.mustache"
    bill.write_text(bill.read_text().replace("Your subscription continues.", "Glad you are staying."))
    srv = Server(["demo", "--port", "0", "--theme", str(theme)], tmp_path / "data")
    try:
        page = requests.get(srv.url + PAID, timeout=10).text
        assert "For Ledger readers who pay" in page and "Paid up already?" in page
        assert "This article is for subscribers" not in page
        s, _ = sign_in(srv, "subscriber@demo.test")
        assert "Glad you are staying." in s.get(srv.url + "/account/billing?notice=resumed", timeout=10).text
    finally:
        srv.stop()


def test_one_notice_at_a_time(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    try:
        s, _ = sign_in(srv, "subscriber@demo.test")  # has a card on file
        page = s.get(srv.url + "/account/billing?notice=paid", timeout=10).text
        assert "Thank you: your payment went through" in page
        assert "Your card was saved" not in page and "Your free trial" not in page
        page = s.get(srv.url + "/account/billing?notice=nonsense", timeout=10).text
        assert 'class="notice"' not in page
        assert ">Active<" in page
    finally:
        srv.stop()


def test_a_theme_rewords_the_feed_note_and_an_older_copy_gets_the_built_in_one(tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(os.path.join(ROOT, "themes", "default"), theme)
    note = theme / "templates" / "feed-note.mustache"
    note.write_text(note.read_text().replace("This article is for subscribers.", "Ledger readers who pay read on."))
    srv = Server(["demo", "--port", "0", "--theme", str(theme)], tmp_path / "data")
    try:
        feed = requests.get(srv.url + "/feed.xml", timeout=10).text
        assert "Ledger readers who pay read on." in feed and "This article is for subscribers." not in feed
    finally:
        srv.stop()
    # A theme copied before the feed note existed: the built-in words.
    note.unlink()
    srv = Server(["demo", "--port", "0", "--theme", str(theme)], tmp_path / "data2")
    try:
        feed = requests.get(srv.url + "/feed.xml", timeout=10).text
        assert "This article is for subscribers. Subscribe to read the whole story" in feed
    finally:
        srv.stop()
