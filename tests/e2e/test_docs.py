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


def test_architecture_names_only_what_exists():
    """docs/architecture.md is the map: every path, file and symbol it names
    must exist, so the map cannot drift from the code."""
    text = open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8").read()
    sources = ""
    for top in ("src", "tests"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith((".c", ".h", ".py", ".mjs", ".sql")):
                    sources += open(os.path.join(dirpath, f), encoding="utf-8", errors="replace").read()
    paths = set(re.findall(r"\b((?:src|tests|themes|bench|docs|demo)/[\w./-]*\w/?)", text))
    assert len(paths) > 20
    for p in paths:
        assert os.path.exists(os.path.join(ROOT, p)), f"architecture.md names {p}, which does not exist"
    # Files named in the map beside their folder: "src/auth/ ... (email.c)".
    current = None
    named = 0
    for line in text.split("\n"):
        m = re.match(r"\s{4}(src/[\w/]+/)", line)
        if m:
            current = m.group(1)
        elif not line.startswith("    "):
            current = None
        if current:
            for f in re.findall(r"(?<![\w/])([\w/]+\.[ch])\b", line):
                if not f.startswith("src/"):
                    assert os.path.exists(os.path.join(ROOT, current, f)), f"{current}{f} does not exist"
                    named += 1
    assert named > 5
    symbols = set(re.findall(r"`(?:struct )?([a-z_][a-z0-9_]+)\(\)`", text))
    assert len(symbols) > 5
    for sym in symbols:
        assert re.search(r"\b" + sym + r"\(", sources), f"architecture.md names {sym}(), which no source defines"
    for st in set(re.findall(r"`struct ([a-z_]+)`", text)):
        assert re.search(r"struct " + st + r" \{", sources), f"struct {st} is not defined"
    for env in set(re.findall(r"`(MASTHEAD_[A-Z_]+)`", text)):
        assert env in sources, f"{env} is read nowhere"
