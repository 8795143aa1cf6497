"""The docs name every command, setting and route the code has."""
import os
import re

from conftest import run

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DOC = open(os.path.join(ROOT, "docs", "reference.md"), encoding="utf-8").read()


def test_every_command_is_documented():
    out = run("--help").stdout
    commands = re.findall(r"^  (\w+) ", out, re.M)
    assert len(commands) >= 7
    for c in commands:
        assert f"`masthead {c}" in DOC, c


def test_every_setting_is_documented():
    keys = set()
    for c in re.findall(r"^  (\w+) ", run("--help").stdout, re.M):
        keys |= set(re.findall(r"^  --([a-z-]+)", run(c, "--help").stdout, re.M))
    assert {"listen", "db", "data", "page-size"} <= keys
    for k in keys:
        assert f"`--{k}`" in DOC, k
        assert "`MASTHEAD_" + k.upper().replace("-", "_") + "`" in DOC, k


def test_every_route_is_documented():
    routes = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "src", "web")):
        for f in files:
            if f.endswith(".c"):
                text = open(os.path.join(dirpath, f), encoding="utf-8").read()
                routes += re.findall(r'\{ HTTP_[A-Z_| ]+, "([^"]+)", h_', text)
    assert "/" in routes and "/articles/:slug" in routes
    for r in routes:
        assert f" {r}`" in DOC, r
