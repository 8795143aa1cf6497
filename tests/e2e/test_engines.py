"""What running on either engine adds: nodes that must not migrate
(--no-migrate), and the migrations that every node may start at once.
Runs on the engine under test (storefix: MASTHEAD_TEST_DB)."""
import subprocess

from conftest import BIN, ENGINE, Server, clock_env, db_env, run
from storefix import Store


def test_no_migrate_refuses_an_unmigrated_database_then_serves(tmp_path):
    data = tmp_path / "data"
    r = run("serve", "--listen", "127.0.0.1:0", "--no-migrate", data=data, timeout=30)
    assert r.returncode != 0
    assert "is not migrated (run masthead migrate first)" in r.stderr, r.stderr
    # Nothing was created by the refused node.
    with Store.of_data(data) as st:
        if ENGINE == "postgres":
            assert st.value("SELECT count(*) FROM pg_tables WHERE tablename = 'articles'") == 0
        else:
            assert st.value("SELECT count(*) FROM sqlite_master WHERE name = 'articles'") == 0
    r = run("migrate", data=data)
    assert r.returncode == 0, r.stderr
    srv = Server(["serve", "--listen", "127.0.0.1:0", "--no-migrate"], data)
    try:
        assert srv.get("/healthz").status_code == 200
    finally:
        srv.stop()
    srv.check_clean()


def test_migrations_applied_once_by_nodes_starting_together(tmp_path):
    data = tmp_path / "data"
    env = {**clock_env(), **db_env(data)}
    procs = [subprocess.Popen([BIN, "migrate", "--data", str(data)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    applied = sum(err.count("migration applied") for _, err in outs)
    with Store.of_data(data) as st:
        n = st.value("SELECT count(*) FROM schema_migrations")
        assert n >= 6
        # Each migration once, by whichever process came first.
        assert applied == n
        assert st.value("SELECT count(DISTINCT version) FROM schema_migrations") == n
