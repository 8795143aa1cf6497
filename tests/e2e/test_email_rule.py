"""One e-mail rule for every door: the site and `masthead user add` accept
and refuse the same addresses, and an account made from the command line
signs in as the site spells the address."""
import requests

from conftest import Server, run
from members import form_post, sign_in


def test_cli_account_signs_in_whatever_the_case_typed(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    try:
        r = run("user", "add", "  Mixed.Case@Example.TEST ", "Mixed", data=tmp_path / "data",
                input="a-long-password\n")
        assert r.returncode == 0, r.stderr
        listed = run("user", "list", data=tmp_path / "data").stdout
        assert "mixed.case@example.test\treader" in listed
        _, resp = sign_in(srv, "MIXED.case@example.test", "a-long-password")
        assert resp.status_code == 303
    finally:
        srv.stop()


def test_the_same_addresses_are_refused_everywhere(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    try:
        for bad in ("a@b.c.", "a:b@c.d", "a@b..c", "nobody@", "x y@z.org"):
            r = run("user", "add", bad, data=tmp_path / "data", input="a-long-password\n")
            assert r.returncode == 2 and "is not an e-mail address" in r.stderr, (bad, r.stderr)
            resp = form_post(srv, requests.Session(), "/signup", "/signup",
                             {"email": bad, "name": "N", "password": "a-long-password"})
            assert resp.status_code in (400, 422), (bad, resp.status_code)
        assert run("mail", "test", "a@b..c", data=tmp_path / "data").returncode == 2
    finally:
        srv.stop()
