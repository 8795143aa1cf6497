"""docs/deploy.md shows the files in deploy/ byte for byte, the cluster test
uses deploy/haproxy.cfg itself, and each config is accepted by the tool
that reads it: systemd-analyze verify, nginx -t, caddy adapt, haproxy -c."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
DOC = open(os.path.join(ROOT, "docs", "deploy.md"), encoding="utf-8").read()
FILES = ["masthead.service", "nginx.conf", "Caddyfile", "haproxy.cfg"]
# ```LANG deploy/FILE ... ``` in the doc: a file shown as it is.
SHOWN = dict((path, body) for path, body in re.findall(r"^```\w+ (deploy/[\w.]+)\n(.*?)^```$", DOC, re.M | re.S))


def read(name):
    with open(os.path.join(DEPLOY, name), encoding="utf-8") as f:
        return f.read()


def need(tool):
    if not shutil.which(tool):
        pytest.skip(f"{tool} is not installed (scripts/install-deps installs it)")


def test_the_doc_shows_every_deploy_file_as_it_is():
    assert sorted(os.listdir(DEPLOY)) == sorted(FILES)
    assert sorted(SHOWN) == sorted("deploy/" + f for f in FILES)
    for name in FILES:
        assert SHOWN["deploy/" + name] == read(name), f"docs/deploy.md and deploy/{name} differ"


def test_the_cluster_test_runs_the_shown_haproxy_config():
    conftest = open(os.path.join(ROOT, "tests", "cluster", "conftest.py"), encoding="utf-8").read()
    assert 'HAPROXY_CFG = os.path.join(ROOT, "deploy", "haproxy.cfg")' in conftest
    assert '"-f", HAPROXY_CFG' in conftest
    # The nodes are what the doc says they are.
    assert '"serve", "--no-migrate"' in conftest and "masthead serve --no-migrate" in DOC
    # Every address the config reads from the environment, the test sets.
    config = "\n".join(ln for ln in read("haproxy.cfg").splitlines() if not ln.lstrip().startswith("#"))
    names = set(re.findall(r"\$\{(\w+)\}", config))
    assert names == {"MASTHEAD_LB_LISTEN", "MASTHEAD_NODE1", "MASTHEAD_NODE2"}
    assert "MASTHEAD_LB_LISTEN=" in conftest and 'f"MASTHEAD_NODE{i}"' in conftest


def test_haproxy_accepts_the_config():
    need("haproxy")
    env = dict(os.environ, MASTHEAD_LB_LISTEN="127.0.0.1:8000", MASTHEAD_NODE1="127.0.0.1:8001",
               MASTHEAD_NODE2="127.0.0.1:8002")
    r = subprocess.run(["haproxy", "-c", "-f", os.path.join(DEPLOY, "haproxy.cfg")], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0 and "Configuration file is valid" in r.stdout, r.stdout + r.stderr
    assert "[WARNING]" not in r.stdout + r.stderr, r.stdout + r.stderr
    # A config with a mistake is refused: the check can fail.
    bad = subprocess.run(["haproxy", "-c", "-f", "/dev/stdin"], input="backend x\n\tbalance nosuch\n",
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0


def test_nginx_accepts_the_site(tmp_path):
    need("nginx")
    need("openssl")
    # A throwaway certificate where the site names Let's Encrypt's; the rest as it is.
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=news.example.com", "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    site = read("nginx.conf")
    live = "/etc/letsencrypt/live/news.example.com/"
    assert site.count(live) == 2
    (tmp_path / "site.conf").write_text(site.replace(live + "fullchain.pem", str(cert))
                                        .replace(live + "privkey.pem", str(key)))
    (tmp_path / "logs").mkdir()
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
                    f"http {{\n\taccess_log off;\n\tinclude {tmp_path}/site.conf;\n}}\n")
    r = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "test is successful" in r.stderr, r.stderr
    assert "[warn]" not in r.stderr, r.stderr
    # The upstream block the doc offers instead of HAProxy, in the same site.
    upstream = re.search(r"^```nginx\n(upstream masthead \{.*?)^```$", DOC, re.M | re.S)
    assert upstream, "the nginx upstream for several nodes is not in docs/deploy.md"
    (tmp_path / "site.conf").write_text(re.sub(r"upstream masthead \{.*?\n\}\n", lambda _: upstream.group(1),
                                               (tmp_path / "site.conf").read_text(), flags=re.S))
    r = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "[warn]" not in r.stderr, r.stderr


def test_caddy_accepts_the_caddyfile():
    need("caddy")
    r = subprocess.run(["caddy", "adapt", "--adapter", "caddyfile", "--config", os.path.join(DEPLOY, "Caddyfile")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # Buffered both ways, to 127.0.0.1:8080.
    assert '"dial":"127.0.0.1:8080"' in r.stdout.replace(" ", "")
    assert '"buffer_requests":true' in r.stdout.replace(" ", "")
    assert '"buffer_responses":true' in r.stdout.replace(" ", "")


def unit_settings():
    section, out = None, {}
    for line in read("masthead.service").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
            continue
        key, eq, value = line.partition("=")
        assert eq and section, f"not a unit file line: {line}"
        out.setdefault((section, key), []).append(value)
    return out


def test_the_unit_is_hardened_and_names_real_settings():
    u = unit_settings()
    for key, value in [("User", "masthead"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                       ("ReadWritePaths", "/var/lib/masthead"), ("StateDirectory", "masthead"),
                       ("NoNewPrivileges", "yes"), ("ProtectHome", "yes"), ("CapabilityBoundingSet", ""),
                       ("KillSignal", "SIGTERM")]:
        assert u.get(("Service", key)) == [value], key
    assert u[("Service", "ExecStart")] == ["/usr/local/bin/masthead serve --config /etc/masthead/masthead.ini"]
    # Every MASTHEAD_* the unit sets is a setting of serve.
    keys = set(re.findall(r"^  --([a-z-]+)", run("serve", "--help").stdout, re.M))
    env = dict(v.split("=", 1) for v in u[("Service", "Environment")])
    assert env["MASTHEAD_DATA"] == "/var/lib/masthead"
    for name in env:
        assert name.startswith("MASTHEAD_") and name[9:].lower().replace("_", "-") in keys, name


def test_systemd_accepts_the_unit(tmp_path):
    need("systemd-analyze")
    # The binary where the unit expects it: the one under test.
    from conftest import BIN
    unit = read("masthead.service")
    assert unit.count("/usr/local/bin/masthead ") == 1
    path = tmp_path / "masthead.service"
    path.write_text(unit.replace("/usr/local/bin/masthead ", BIN + " "))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=120)
    # verify exits 0 on a key it ignores: any word about the file is a failure.
    assert r.returncode == 0 and str(path) not in r.stdout + r.stderr, r.stdout + r.stderr
    path.write_text(unit.replace("ProtectSystem=strict", "ProtectSystem=stricter"))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=120)
    assert str(path) in r.stdout + r.stderr
