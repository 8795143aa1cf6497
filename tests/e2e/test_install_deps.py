"""scripts/install-deps waits for another package manager's lock instead of
failing, and still fails on any other apt error. apt-get and dpkg-query are
stand-ins on PATH here: nothing is installed."""
import os
import shutil
import stat
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def tool(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def layout(tmp_path, apt_body):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "scripts", "install-deps"), repo / "scripts" / "install-deps")
    (repo / "package-lock.json").write_text("{}")
    (repo / "node_modules").mkdir()
    os.utime(repo / "package-lock.json", (1, 1))  # older than node_modules: no npm ci
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # Every package reads as missing, so apt-get is asked.
    tool(bin_dir / "dpkg-query", "exit 1\n")
    tool(bin_dir / "apt-get", apt_body)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", INSTALL_DEPS_LOCK_SLEEP="0",
               CALLS=str(tmp_path / "calls"))
    return repo, env


def test_waits_for_the_lock(tmp_path):
    # Held twice, then free.
    repo, env = layout(tmp_path, """echo "$*" >> "$CALLS"
n=$(wc -l < "$CALLS")
if [ "$n" -le 2 ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 42 (apt-get)" >&2
  exit 100
fi
exit 0
""")
    r = subprocess.run(["sh", str(repo / "scripts" / "install-deps")], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("holds its lock; waiting") == 2
    calls = (tmp_path / "calls").read_text().splitlines()
    assert [c.split()[2] for c in calls] == ["update", "update", "update", "install"]
    assert all("DPkg::Lock::Timeout=600" in c for c in calls)


def test_other_errors_fail_at_once(tmp_path):
    repo, env = layout(tmp_path, """echo "$*" >> "$CALLS"
echo "E: Unable to locate package nonsense" >&2
exit 100
""")
    r = subprocess.run(["sh", str(repo / "scripts" / "install-deps")], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "Unable to locate package" in r.stderr and "waiting" not in r.stderr
    assert len((tmp_path / "calls").read_text().splitlines()) == 1
