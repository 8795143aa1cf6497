"""The cluster on loopback: a throwaway PostgreSQL (scripts/pg-cluster),
`masthead migrate` once, two `masthead serve --no-migrate` nodes on fixed
free ports, HAProxy from Debian in front with deploy/haproxy.cfg as it is
checked in, and an SMTP sink (aiosmtpd) both nodes send their mail to.

Everything runs on the e2e suite's fixed clock, and everything is stopped
and removed at the end of the session, also when a test fails."""
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import aiosmtpd.controller as aiosmtpd_controller  # Debian: python3-aiosmtpd
import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from storefix import Store  # noqa: E402 (the e2e suite's store fixture)

BIN = os.path.abspath(os.environ.get("MASTHEAD_BIN") or os.path.join(ROOT, "build", "masthead"))
HAPROXY_CFG = os.path.join(ROOT, "deploy", "haproxy.cfg")

# The e2e suite's clock (tests/e2e/conftest.py): every process starts at
# MASTHEAD_TEST_CLOCK, whatever today's date is, and runs on at the real rate.
TEST_CLOCK = os.environ.get("MASTHEAD_TEST_CLOCK", "2026-12-09T10:00:00Z")
CLOCK_OFFSET = round(datetime.datetime.fromisoformat(TEST_CLOCK.replace("Z", "+00:00")).timestamp()
                     - time.time())

# Generous: the machine is shared and may be slow; nothing asserts a latency.
START_TIMEOUT = 60
WAIT = 180


def now():
    return time.time() + CLOCK_OFFSET


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(db_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    env.update({"MASTHEAD_CLOCK_OFFSET": str(CLOCK_OFFSET), "MASTHEAD_DB": db_url})
    return env


def eventually(check, what, within=WAIT):
    """Calls check() until it returns something true; fails naming `what`."""
    deadline = time.monotonic() + within
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.1)


class Sink:
    """Every message the SMTP server accepted: (recipients, subject)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        m = re.search(rb"^Subject: (.*)$", envelope.content, re.M | re.I)
        subject = m.group(1).decode("utf-8", "replace").strip() if m else ""
        with self.lock:
            self.messages.append((tuple(a.lower() for a in envelope.rcpt_tos), subject))
        return "250 OK"

    def to(self, suffix):
        with self.lock:
            return [(r, s) for rs, s in self.messages for r in rs if r.endswith(suffix)]


class Node:
    """One `masthead serve --no-migrate` on a fixed port (so a restarted node
    comes back at the address the balancer knows)."""

    def __init__(self, name, data, db_url, args):
        self.name, self.data, self.db_url, self.args = name, data, db_url, args
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.log_path = None

    def start(self):
        self.starts += 1
        os.makedirs(self.data, exist_ok=True)
        self.log_path = os.path.join(self.data, f"{self.name}-{self.starts}.log")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--no-migrate", "--listen", f"127.0.0.1:{self.port}", "--data", self.data, *self.args],
            stdout=subprocess.PIPE, stderr=log, text=True, env=base_env(self.db_url))
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if f"listening on http://127.0.0.1:{self.port}/" in line:
                return
        self.stop()
        raise RuntimeError(f"{self.name} did not start:\n{self.logs()[-3000:]}")

    def logs(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def requests_for(self, path):
        """This run's access-log lines for `path`."""
        return [ln for ln in self.logs().splitlines() if 'msg="request"' in ln and f'path="{path}"' in ln]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode


class Balancer:
    """HAProxy with deploy/haproxy.cfg, the addresses in its environment."""

    def __init__(self, nodes, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MASTHEAD_LB_LISTEN=f"127.0.0.1:{self.port}")
        for i, n in enumerate(nodes, 1):
            env[f"MASTHEAD_NODE{i}"] = f"127.0.0.1:{n.port}"
        self.log_path = log_path
        log = open(log_path, "w")
        # -db: in the foreground, no daemon; -W: master-worker, as systemd runs it.
        self.proc = subprocess.Popen(["haproxy", "-W", "-db", "-f", HAPROXY_CFG], stdout=log,
                                     stderr=subprocess.STDOUT, env=env)
        log.close()

    def logs(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Cluster:
    def __init__(self, db_url, base, smtp_port):
        self.db_url = db_url
        self.base = base
        args = ["--smtp-url", f"smtp://127.0.0.1:{smtp_port}", "--mail-retry-base", "1",
                # The scheduler every second, so both nodes take on seeded work at once.
                "--billing-interval", "1",
                # Every test client is 127.0.0.1: the sign-up limit per address is not under test.
                "--rate-limit", "1000000",
                "--threads", "4"]
        self.nodes = [Node(f"node{i}", os.path.join(base, f"node{i}"), db_url, args) for i in (1, 2)]
        self.lb = None

    def url(self, path=""):
        return self.lb.url + path

    def store(self):
        return Store(self.db_url)

    def checked_by_balancer(self, node):
        """True once HAProxy's health checks reached `node` twice since its
        last start (rise 2), so it is in rotation."""
        if len(node.requests_for("/healthz")) < 2:
            return False
        moves = re.findall(rf"Server masthead/{node.name} is (UP|DOWN)", self.lb.logs())
        return not moves or moves[-1] == "UP"

    def ensure_up(self):
        """Both nodes running and in rotation."""
        for n in self.nodes:
            if not n.alive():
                n.start()
        for n in self.nodes:
            eventually(lambda n=n: self.checked_by_balancer(n), f"{n.name} checked healthy by HAProxy", 60)
        eventually(lambda: requests.get(self.url("/healthz"), timeout=10).status_code == 200,
                   "the balancer answers", 60)


def pytest_configure(config):
    """SIGTERM (a CI timeout) unwinds like Ctrl-C, so the session's
    fixtures still stop the nodes, HAProxy and PostgreSQL."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)


def _pg_start(envfile):
    r = subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster"), "start", envfile],
                       capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise RuntimeError("scripts/pg-cluster start failed: " + r.stderr)
    return r.stdout.strip()


@pytest.fixture(scope="session")
def smtp():
    sink = Sink()
    port = free_port()
    c = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port)
    c.start()
    yield sink, port
    c.stop()


@pytest.fixture(scope="session")
def cluster(smtp, tmp_path_factory):
    base = str(tmp_path_factory.mktemp("cluster"))
    envfile = os.path.join(base, "pg.env")
    pg_url = _pg_start(envfile)
    c = None
    try:
        import psycopg2
        conn = psycopg2.connect(pg_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE masthead")
        conn.close()
        db_url = pg_url.rsplit("/", 1)[0] + "/masthead"
        c = Cluster(db_url, base, smtp[1])
        env = base_env(db_url)
        # The schema once, as an operator would, before any node starts.
        r = subprocess.run([BIN, "migrate", "--data", os.path.join(base, "admin")], capture_output=True,
                           text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        # The demo site's articles, plans and accounts: `masthead demo` seeds
        # them (and finds nothing to migrate), then stops.
        demo = subprocess.Popen([BIN, "demo", "--port", "0", "--data", os.path.join(base, "admin")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = demo.stdout.readline()
            assert "listening on" in line, line + demo.stderr.read()
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(timeout=60)
        for n in c.nodes:
            n.start()
        c.lb = Balancer(c.nodes, os.path.join(base, "haproxy.log"))
        c.ensure_up()
        yield c
    finally:
        if c:
            if c.lb:
                c.lb.stop()
            for n in c.nodes:
                n.stop()
        subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster"), "stop", envfile], timeout=120)


@pytest.fixture
def up(cluster):
    cluster.ensure_up()
    return cluster
