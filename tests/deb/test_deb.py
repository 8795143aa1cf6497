"""make deb: the package's contents and control fields, and (as root only:
CI runs as root) installing it on this machine, running the binary from
/usr/bin as the package's user the way the unit does, probing /healthz on
127.0.0.1, then removing and purging it and checking nothing is left.

systemd need not run here: the unit's command line is run by hand with the
unit's user, environment and config."""
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.abspath(os.environ.get("MASTHEAD_BIN") or os.path.join(ROOT, "build", "masthead"))
FILES = ["./usr/bin/masthead", "./lib/systemd/system/masthead.service", "./etc/masthead/masthead.ini",
         "./etc/logrotate.d/masthead", "./usr/share/doc/masthead/copyright",
         "./usr/share/doc/masthead/changelog.Debian.gz"]


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    r = subprocess.run([os.path.join(ROOT, "scripts", "build-deb"), BIN, str(out)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    path = r.stdout.strip()
    assert os.path.isfile(path) and path.endswith(".deb")
    return path


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True, check=True).stdout.strip()


def member(deb, path, tmp_path):
    subprocess.run(["dpkg-deb", "-x", deb, str(tmp_path / "x")], check=True)
    return (tmp_path / "x" / path.lstrip("./")).read_text()


def test_control_fields(deb):
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[1]
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert field(deb, "Package") == "masthead"
    assert field(deb, "Version") == version
    assert field(deb, "Architecture") == arch
    assert os.path.basename(deb) == f"masthead_{version}_{arch}.deb"
    depends = [d.strip() for d in field(deb, "Depends").split(",")]
    for lib in ("libc6", "libsqlite3-0", "libsodium23", "libmicrohttpd12", "libpq5", "libarchive13", "passwd"):
        assert lib in depends, depends
    info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True, text=True, check=True).stdout
    for script in ("postinst", "prerm", "postrm", "conffiles", "md5sums"):
        assert re.search(rf"\b{script}\b", info), info


def test_contents_and_hardened_unit(deb, tmp_path):
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    for f in FILES:
        assert re.search(rf" {re.escape(f)}$", listing, re.M), f
    # Owned by root, nothing writable by others.
    for line in listing.splitlines():
        mode, owner = line.split()[:2]
        assert owner == "root/root" and mode[8] != "w", line
    unit = member(deb, "./lib/systemd/system/masthead.service", tmp_path)
    for line in ("ExecStart=/usr/bin/masthead serve --config /etc/masthead/masthead.ini", "User=masthead",
                 "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes", "StateDirectory=masthead",
                 "LogsDirectory=masthead", "StandardError=append:/var/log/masthead/masthead.log",
                 "Environment=MASTHEAD_DATA=/var/lib/masthead"):
        assert re.search(rf"^{re.escape(line)}$", unit, re.M), line
    rotate = member(deb, "./etc/logrotate.d/masthead", tmp_path)
    assert "/var/log/masthead/masthead.log" in rotate and "copytruncate" in rotate
    conffiles = subprocess.run(["dpkg-deb", "--ctrl-tarfile", deb], capture_output=True, check=True).stdout
    assert b"/etc/masthead/masthead.ini" in conffiles
    # The default config is one the binary reads.
    ini = tmp_path / "x" / "etc" / "masthead" / "masthead.ini"
    r = subprocess.run([BIN, "serve", "--help", "--config", str(ini)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian is not installed")
def test_lintian_finds_no_error(deb):
    r = subprocess.run(["lintian", "--fail-on", "error", deb], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def installed():
    return subprocess.run(["dpkg-query", "-W", "-f", "${Status}", "masthead"], capture_output=True,
                          text=True).stdout.strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="installs a package on this machine: runs as root only (CI is root)")
def test_install_run_remove_purge(deb):
    if installed() or os.path.exists("/usr/bin/masthead") or os.path.exists("/var/lib/masthead"):
        pytest.skip("a masthead is already installed on this machine: not touching it")
    try:
        r = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert installed() == "install ok installed"
        user = pwd.getpwnam("masthead")
        assert user.pw_dir == "/var/lib/masthead" and user.pw_shell == "/usr/sbin/nologin"
        st = os.stat("/var/lib/masthead")
        assert (st.st_uid, st.st_mode & 0o777) == (user.pw_uid, 0o750)
        st = os.stat("/etc/masthead/masthead.ini")
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, grp.getgrnam("masthead").gr_gid, 0o640)

        # As the unit runs it: its user, its environment, its config; only the
        # port is the test's own (0: any free one on 127.0.0.1).
        env = {"PATH": "/usr/bin:/bin", "MASTHEAD_DATA": "/var/lib/masthead"}
        proc = subprocess.Popen(["/usr/bin/masthead", "serve", "--config", "/etc/masthead/masthead.ini",
                                 "--listen", "127.0.0.1:0"], user="masthead", group="masthead", extra_groups=[],
                                umask=0o027, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                cwd="/")
        try:
            port = None
            for line in proc.stdout:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port, proc.stderr.read() if proc.poll() is not None else "no banner"
            r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
            assert os.stat("/var/lib/masthead/masthead.db").st_uid == user.pw_uid
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0

        r = subprocess.run(["dpkg", "-r", "masthead"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert not os.path.exists("/usr/bin/masthead")
        assert not os.path.exists("/lib/systemd/system/masthead.service")
        # Removed, not purged: the site and its settings stay.
        assert os.path.exists("/var/lib/masthead/masthead.db") and os.path.exists("/etc/masthead/masthead.ini")

        r = subprocess.run(["dpkg", "-P", "masthead"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert installed() in ("", "unknown ok not-installed")
        for path in ("/var/lib/masthead", "/var/log/masthead", "/etc/masthead", "/etc/logrotate.d/masthead"):
            assert not os.path.exists(path), path
        with pytest.raises(KeyError):
            pwd.getpwnam("masthead")
        with pytest.raises(KeyError):
            grp.getgrnam("masthead")
    finally:
        if installed():
            subprocess.run(["dpkg", "-P", "masthead"], capture_output=True, timeout=300)
