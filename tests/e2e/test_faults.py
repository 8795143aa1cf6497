"""Fault points exist only in the build made for tests: the binary that is
installed ignores MASTHEAD_FAULTS, so no setting makes it crash or stall."""
import subprocess

from conftest import BIN, FAULT_BIN, Server, clock_env, db_env
from members import sign_in


def test_the_installed_binary_has_no_fault_points(tmp_path):
    srv = Server(["demo", "--port", "0"], tmp_path / "data")
    s, _ = sign_in(srv, "reader@demo.test")
    srv.stop()
    env = {**clock_env(), **db_env(tmp_path / "data"), "MASTHEAD_FAULTS": "crash-after-charge,password-delay-ms=99999"}
    for binary, code in ((BIN, 0), (FAULT_BIN, 0)):
        r = subprocess.run([binary, "billing", "run", "--data", str(tmp_path / "data")], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == code, r.stderr
    # The strings a fault build reacts to are not in the installed binary at all.
    data = open(BIN, "rb").read()
    assert b"crash-after-charge" not in data and b"password-delay-ms" not in data
    assert b"crash-after-charge" in open(FAULT_BIN, "rb").read()
    # Nor the store's faults, the kill point, the full disk or the header.
    faults = open(FAULT_BIN, "rb").read()
    for name in (b"store-fail-at", b"store-kill-at", b"outbox-full", b"Masthead-Fault-Store-Nth"):
        assert name not in data and name in faults, name
