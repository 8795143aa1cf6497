"""Mail: the outbox, the file transport and SMTP against a real SMTP server
(aiosmtpd) on 127.0.0.1. A mail stays queued while the server is down and
goes out exactly once when it is back."""
import email
import email.policy
import email.utils
import os
import re
import socket
import time

import aiosmtpd.controller as aiosmtpd_controller  # Debian: python3-aiosmtpd (scripts/install-deps)
import pytest

from conftest import Server, run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """Collects every envelope the SMTP server accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    """Starts an SMTP sink on a free port; returns a function to (re)start it."""
    state = {"controller": None, "sink": Sink(), "port": free_port()}

    def start():
        c = aiosmtpd_controller.Controller(state["sink"], hostname="127.0.0.1", port=state["port"])
        c.start()
        state["controller"] = c
        return state["sink"]
    state["start"] = start
    yield state
    if state["controller"]:
        state["controller"].stop()


def parse(raw):
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF in the message"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998
    return email.message_from_bytes(raw, policy=email.policy.default)


def check_message(msg, to, subject):
    assert msg["To"] == to
    assert msg["Subject"] == subject
    assert msg["From"].addresses[0].addr_spec == "no-reply@localhost"
    assert email.utils.parsedate_to_datetime(msg["Date"]).timestamp() > 0
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msg["Message-ID"].strip())
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for p in parts:
        assert p.get_content_charset() == "utf-8"
        assert p["Content-Transfer-Encoding"] == "quoted-printable"
    text, html = parts[0].get_content(), parts[1].get_content()
    assert "test message" in text and "<p" not in text
    assert "<p" in html and "test message" in html
    return text, html


def test_smtp_delivers_multipart(smtp, tmp_path):
    sink = smtp["start"]()
    url = f"smtp://127.0.0.1:{smtp['port']}"
    r = run("mail", "test", "someone@example.test", "--smtp-url", url, "--site-name", "Ærø Tidende",
            data=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "sent"
    assert len(sink.envelopes) == 1
    env = sink.envelopes[0]
    assert env.mail_from == "no-reply@localhost"
    assert env.rcpt_tos == ["someone@example.test"]
    msg = parse(env.content)
    text, _ = check_message(msg, "someone@example.test", "Test mail from Ærø Tidende")
    assert "Ærø Tidende" in text
    # Sent mail is listed as sent, not queued, and nothing is written to files.
    r = run("mail", "list", data=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert "\tsent " in lines[0] and "attempts=1" in lines[0]
    assert not os.path.exists(tmp_path / "outbox")


def test_server_down_then_up_delivers_once(smtp, tmp_path):
    url = f"smtp://127.0.0.1:{smtp['port']}"
    opts = ["--smtp-url", url, "--mail-retry-base", "0"]
    r = run("mail", "test", "someone@example.test", *opts, data=tmp_path)
    assert r.returncode == 1
    assert "not sent" in r.stderr and "smtp" in r.stderr
    r = run("mail", "list", data=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    fields = lines[0].split("\t")
    assert fields[1] == "someone@example.test"
    assert fields[3].startswith("queued")
    assert fields[4] == "attempts=1"
    assert fields[5] not in ("", "-")

    sink = smtp["start"]()
    r = run("mail", "flush", *opts, data=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "flush: 1 sent, 0 failed"
    r = run("mail", "flush", *opts, data=tmp_path)
    assert r.returncode == 0
    assert r.stdout.strip() == "flush: 0 sent, 0 failed"
    assert len(sink.envelopes) == 1
    check_message(parse(sink.envelopes[0].content), "someone@example.test",
                  "Test mail from masthead")
    r = run("mail", "list", data=tmp_path)
    assert "\tsent " in r.stdout and "attempts=2" in r.stdout


def test_server_thread_sends_queued_mail(smtp, tmp_path):
    """A mail queued while SMTP was down goes out from a running server's sender thread."""
    url = f"smtp://127.0.0.1:{smtp['port']}"
    data = tmp_path / "data"
    r = run("mail", "test", "later@example.test", "--smtp-url", url, "--mail-retry-base", "0", data=data)
    assert r.returncode == 1
    sink = smtp["start"]()
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--smtp-url", url, "--mail-retry-base", "0"], data)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not sink.envelopes:
            time.sleep(0.05)
        assert len(sink.envelopes) == 1, srv.logs()
        assert sink.envelopes[0].rcpt_tos == ["later@example.test"]
    finally:
        srv.stop()
    srv.check_clean()
    assert len(sink.envelopes) == 1
    assert "\tsent " in run("mail", "list", data=data).stdout


def test_file_transport_writes_eml(tmp_path):
    r = run("mail", "test", "reader@example.test", data=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "sent"
    files = os.listdir(tmp_path / "outbox")
    assert len(files) == 1 and re.fullmatch(r"\d+-1\.eml", files[0]), files
    path = tmp_path / "outbox" / files[0]
    assert (os.stat(path).st_mode & 0o777) == 0o600
    check_message(parse(path.read_bytes()), "reader@example.test", "Test mail from masthead")
    r = run("mail", "flush", data=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "flush: 0 sent, 0 failed"
    assert len(os.listdir(tmp_path / "outbox")) == 1


@pytest.mark.parametrize("args", [
    [], ["test"], ["test", "not-an-address"], ["test", "a@b.test", "extra"], ["list", "x"], ["flush", "x"],
    ["send"],
])
def test_bad_usage_exits_2(tmp_path, args):
    r = run("mail", *args, data=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1


def test_list_empty_outbox(tmp_path):
    r = run("mail", "list", data=tmp_path)
    assert r.returncode == 0 and r.stdout == ""
