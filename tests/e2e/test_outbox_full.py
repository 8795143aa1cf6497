"""A full disk under the outbox (DATA/outbox/, the file transport): mail
queued while it is full waits in the store and is written once space
returns, never lost and never twice; the site keeps answering; a disk
that stays full costs no file descriptor and leaves no half-written file.

Two ways to fill it: the fault build's outbox-full point (a write there
stops half way with ENOSPC while DATA/outbox/.full exists: portable), and,
where this process may mount one (root with CAP_SYS_ADMIN, as in CI), a
real 256 KiB tmpfs on DATA/outbox filled to the last byte."""
import os
import subprocess
import time

import pytest
import requests

from conftest import Server
from members import csrf_of, mails
from storefix import Store

WHO = [f"full{i}@example.test" for i in range(5)]


def open_in(pid, folder):
    """The process's open files under folder (a leaked one shows "(deleted)")."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            out.append(target)
    return out


class FaultFull:
    env = {"MASTHEAD_FAULTS": "outbox-full"}

    def __init__(self, outbox):
        self.flag = outbox / ".full"

    def fill(self):
        self.flag.parent.mkdir(parents=True, exist_ok=True)
        self.flag.write_text("")

    def free(self):
        self.flag.unlink()

    def release(self):
        pass


class TmpfsFull:
    env = {}

    def __init__(self, outbox):
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0750", "tmpfs", str(outbox)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}): the fault build's variant covers it")
        self.filler = outbox / "filler"

    def fill(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        st = os.statvfs(self.outbox)
        assert st.f_bavail == 0, st

    def free(self):
        self.filler.unlink()

    def release(self):
        subprocess.run(["umount", "-l", str(self.outbox)], check=False)


@pytest.mark.parametrize("how", [FaultFull, TmpfsFull], ids=["fault-build", "tmpfs"])
def test_full_outbox_disk_delays_mail_and_loses_none(tmp_path, how):
    data = tmp_path / "data"
    outbox = data / "outbox"
    disk = how(outbox)
    srv = None
    try:
        srv = Server(["demo", "--port", "0", "--billing-interval", "0"], data,
                     env={"MASTHEAD_RATE_LIMIT": "100000", "MASTHEAD_MAIL_RETRY_BASE": "1", **disk.env})
        disk.fill()
        s = requests.Session()
        csrf = csrf_of(s.get(srv.url + "/signup", timeout=10).text)
        for who in WHO:
            r = s.post(srv.url + "/signup", data={"name": "Full Disk", "email": who, "csrf": csrf},
                       allow_redirects=False, timeout=10)
            assert r.status_code == 200 and "Check your e-mail" in r.text, r.text[:300]
        # The sender tries, and tries again (backoff from 1 s), while the
        # site keeps answering.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert srv.get("/").status_code == 200
            assert srv.get("/healthz").status_code == 200
            time.sleep(0.2)
        log = srv.logs()
        assert log.count("No space left on device") >= len(WHO), log[-3000:]
        assert not [m for m in mails(data) if "full" in str(m["To"])]
        leftovers = [n for n in os.listdir(outbox) if n.startswith(".tmp-")]
        assert leftovers == [], leftovers
        # Every failed attempt closed its file.
        assert open_in(srv.proc.pid, outbox) == []
        with Store.of_data(data) as st:
            waiting = st.value("SELECT count(*) FROM mail_outbox WHERE to_addr LIKE 'full%' AND sent_at = 0 "
                               "AND last_error LIKE '%No space left%'")
        assert waiting == len(WHO)

        # Space returns: each mail is written once, by the next attempt.
        disk.free()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = [str(m["To"]) for m in mails(data) if "full" in str(m["To"])]
            if len(got) >= len(WHO):
                break
            time.sleep(0.2)
        assert sorted(got) == sorted(WHO), got
        with Store.of_data(data) as st:
            rows = st.all("SELECT to_addr, sent_at, attempts FROM mail_outbox WHERE to_addr LIKE 'full%'")
        assert sorted(r[0] for r in rows) == sorted(WHO)
        assert all(r[1] > 0 and r[2] >= 2 for r in rows), rows
        assert [n for n in os.listdir(outbox) if n.startswith(".tmp-")] == []
        srv.stop()
        srv.check_clean()
    finally:
        if srv:
            srv.stop()
        disk.release()
