"""Most read this week: the server counts the article pages it serves (from
the page cache too, signed in or not, without a cookie), writes the counts by
the hour, and the front page lists the most read of the last seven days."""
import re

import pytest

from conftest import Server
from members import sign_in

ENV = {"MASTHEAD_READS_FLUSH_SECONDS": "3600"}  # written at stop, in these tests


def most_read(page):
    m = re.search(r'<ol class="most-read-list">(.*?)</ol>', page, re.S)
    return re.findall(r'<li><a href="/articles/([^"]+)">', m.group(1)) if m else []


def test_reads_rank_the_front_page(tmp_path):
    data = tmp_path / "data"
    srv = Server(["demo", "--port", "0"], data, env=ENV)
    try:
        assert "Most read this week" not in srv.get("/").text  # nothing read yet
        for _ in range(4):  # the first renders, the rest come from the page cache
            r = srv.get("/articles/tidewater-route-14-hourly")
            assert r.status_code == 200 and "Set-Cookie" not in r.headers
        for _ in range(2):
            srv.get("/articles/council-eastshore-rezoning-hearing")
        s, _ = sign_in(srv, "subscriber@demo.test")
        for _ in range(3):  # a subscriber's reads of a paid article count too
            assert s.get(srv.url + "/articles/port-pier-9-overnight-cargo", timeout=10).status_code == 200
        for _ in range(9):  # an address that is no article counts nothing
            assert srv.get("/articles/no-such-article").status_code == 404
    finally:
        srv.stop()  # the counts are written as the server stops
        srv.check_clean()
    srv = Server(["demo", "--port", "0"], data, env=ENV)
    try:
        page = srv.get("/").text
        assert "Most read this week" in page
        assert most_read(page) == ["tidewater-route-14-hourly", "port-pier-9-overnight-cargo",
                                   "council-eastshore-rezoning-hearing"]
        # The paid one carries its badge in the list.
        m = re.search(r'port-pier-9-overnight-cargo">[^<]+</a> <span class="badge badge-paid">', page)
        assert m, page
        # Counts add up across runs (and across nodes: each adds its own).
        for _ in range(3):
            srv.get("/articles/council-eastshore-rezoning-hearing")
    finally:
        srv.stop()
        srv.check_clean()
    srv = Server(["demo", "--port", "0"], data, env=ENV)
    try:
        assert most_read(srv.get("/").text)[0] == "council-eastshore-rezoning-hearing"  # 2 + 3 = 5 > 4
    finally:
        srv.stop()
        srv.check_clean()


def test_counting_off_counts_nothing(tmp_path):
    data = tmp_path / "data"
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_READS_FLUSH_SECONDS": "0"})
    try:
        srv.get("/articles/tidewater-route-14-hourly")
    finally:
        srv.stop()
        srv.check_clean()
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_READS_FLUSH_SECONDS": "0"})
    try:
        assert "Most read this week" not in srv.get("/").text
    finally:
        srv.stop()
        srv.check_clean()
