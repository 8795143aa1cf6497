"""End-to-end fixtures: the real masthead binary on a free port with a
temporary data dir, spoken to over HTTP."""
import datetime
import glob
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest
import requests

import storefix
from storefix import ENGINE, db_env  # noqa: F401 (tests import them from here)


@pytest.fixture(autouse=True)
def _drop_test_databases():
    """On PostgreSQL, each test's databases go when it ends (after its
    servers stopped); those made before it (the session's demo) stay."""
    before = storefix.created()
    yield
    if ENGINE == "postgres":
        storefix.drop_databases(keep=before)

BIN = os.environ.get("MASTHEAD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "masthead")
BIN = os.path.abspath(BIN)

# The same sources built with fault points (make faults: BUILD-faults/),
# for the tests that make masthead crash or stall on purpose: a process
# whose environment names MASTHEAD_FAULTS runs this binary.
FAULT_BIN = os.path.abspath(os.environ.get("MASTHEAD_FAULT_BIN") or os.path.join(
    os.path.dirname(BIN) + "-faults", "masthead"))


def binary_for(env):
    if env and "MASTHEAD_FAULTS" in env:
        assert os.path.exists(FAULT_BIN), f"{FAULT_BIN} is missing: build it with make faults"
        return FAULT_BIN
    return BIN

# Every test runs on a fixed clock: the binary's clock (MASTHEAD_CLOCK) and the
# tests' now() start at MASTHEAD_TEST_CLOCK, whatever today's date is, and run
# forward from there at the real rate. tests/dates runs the suite at the
# awkward dates (the 1st, the 28th to 31st, 29 February, 31 December).
TEST_CLOCK = os.environ.get("MASTHEAD_TEST_CLOCK", "2026-12-09T10:00:00Z")
# Whole seconds, the same for every process: a server and the commands run
# beside it share one clock exactly, and so do the tests.
_CLOCK_OFFSET = round(datetime.datetime.fromisoformat(TEST_CLOCK.replace("Z", "+00:00")).timestamp()
                      - time.time())


def now():
    """Seconds since the epoch on the tests' clock."""
    return time.time() + _CLOCK_OFFSET


def now_dt():
    return datetime.datetime.fromtimestamp(now(), datetime.timezone.utc)


def clock_env():
    """The binary's clock: the tests' clock."""
    return {"MASTHEAD_CLOCK_OFFSET": str(_CLOCK_OFFSET)}


def run(*args, data=None, env=None, input=None, timeout=60):
    """Runs a masthead command; returns the CompletedProcess."""
    cmd = [binary_for(env), *args]
    if data is not None:
        cmd += ["--data", str(data)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    full_env.update(clock_env())
    if data is not None:
        full_env.update(db_env(data))
    full_env.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout)


def exported_articles(data):
    """Every article the store of `data` holds, {slug: title}, as `masthead
    export` writes them out (it reads every row of the articles table); the
    command's own count must agree with the files it wrote."""
    with tempfile.TemporaryDirectory() as out:
        r = run("export", out, data=data)
        assert r.returncode == 0, r.stderr
        m = re.search(r"^export: (\d+) articles and \d+ members written to ", r.stdout, re.M)
        assert m, r.stdout
        got = {}
        for path in glob.glob(os.path.join(out, "articles", "*.md")):
            with open(path, encoding="utf-8") as f:
                line = next(ln for ln in f if ln.startswith("title: "))
            # Export writes the title double-quoted, which is also JSON.
            got[os.path.basename(path)[:-len(".md")]] = json.loads(line[len("title: "):])
        assert len(got) == int(m.group(1)), (r.stdout, sorted(got))
        return got


# A server reads the store's versions at most once a second, so a change made
# by another process (a command, another node) shows within that bound.
OTHER_PROCESS_DELAY = 1.0


def eventually(fetch, ok, within=OTHER_PROCESS_DELAY + 2.0):
    """Calls fetch() until ok(result) holds or `within` seconds pass; returns
    the last result (the caller asserts on it)."""
    deadline = time.monotonic() + within
    while True:
        got = fetch()
        if ok(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


class Server:
    def __init__(self, args, data, env=None, log_name="server.log"):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
        full_env.update(clock_env())
        full_env.update(db_env(data))
        full_env.update(env or {})
        self.log_path = os.path.join(str(data), log_name)
        os.makedirs(str(data), exist_ok=True)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary_for(env), *args, "--data", str(data)], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=full_env)
        self.banner = []
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.banner.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            self.stop()
            raise RuntimeError("server did not start: " + "".join(self.banner) + self.logs())
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path, **kw)

    def request(self, method, path, **kw):
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 10)
        return requests.request(method, self.url + path, **kw)

    def logs(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def check_clean(self):
        """After stop(): a clean exit and nothing from the sanitizers."""
        log = open(self.log_path).read()
        for bad in ("Sanitizer", "runtime error:", "level=error"):
            assert bad not in log, log[-3000:]
        assert self.proc.returncode == 0, log[-3000:]

    def stop(self, sig=signal.SIGTERM):
        if self.log.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """One demo server for the read-only tests of a session."""
    data = tmp_path_factory.mktemp("demo")
    srv = Server(["demo", "--port", "0"], data, env={"MASTHEAD_ACCESS_LOG": "true", "MASTHEAD_PAGE_SIZE": "5"})
    yield srv
    srv.stop()
    srv.check_clean()


@pytest.fixture
def fresh(tmp_path):
    """Starts servers on their own data dir; stops them after the test."""
    servers = []

    def start(*args, env=None):
        srv = Server(list(args) or ["demo", "--port", "0"], tmp_path / "data", env=env)
        servers.append(srv)
        return srv
    yield start
    for s in servers:
        s.stop()
        s.check_clean()
