"""docs/api.md's examples, run against the demo site: each request gets the
status the doc gives, and every field the doc shows is in the live answer
with the same JSON type (null in the doc stands for any value; page, limit
and type must be equal)."""
import json
import os
import re

import pytest

from conftest import Server, run

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DOC = open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8").read()
EXAMPLES = re.findall(r"```http\nGET (\S+)\nHTTP/1\.1 (\d{3})\n```\s*```json\n(.*?)```", DOC, re.S)
EXACT = {"page", "limit", "type"}


def same_shape(doc, live, where):
    if doc is None:
        return
    if isinstance(doc, dict):
        assert isinstance(live, dict), where
        for k, v in doc.items():
            assert k in live, f"{where}.{k} is missing"
            if k in EXACT:
                assert live[k] == v, f"{where}.{k}: {live[k]!r}, the doc says {v!r}"
            same_shape(v, live[k], f"{where}.{k}")
    elif isinstance(doc, list):
        assert isinstance(live, list), where
        if doc:
            assert live, f"{where} is empty"
            for item in doc:
                same_shape(item, live[0], f"{where}[0]")
    else:
        assert type(live) is type(doc), f"{where}: {live!r} is not like {doc!r}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("apidocs")
    srv = Server(["demo", "--port", "0"], data)
    srv.key = run("key", "add", "docs", data=data).stdout.strip()
    yield srv
    srv.stop()
    srv.check_clean()


def test_the_doc_has_examples():
    assert len(EXAMPLES) >= 10
    statuses = {s for _, s, _ in EXAMPLES}
    assert {"200", "400", "401", "403"} <= statuses


@pytest.mark.parametrize("path,status,body", EXAMPLES, ids=[e[0][:60] for e in EXAMPLES])
def test_example(site, path, status, body):
    doc = json.loads(body)
    r = site.get(path.replace("KEY", site.key))
    assert r.status_code == int(status), r.text[:300]
    same_shape(doc, r.json(), "answer")
    assert set(r.json()) == set(doc), "the envelope's keys differ"
