"""/metrics: Prometheus text format read by the real parser
(python3-prometheus-client), figures that agree with what was done and
with the database, and closed to every address but the configured ones
unless the bearer token is given."""
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server, eventually, run
from members import sign_in
from storefix import Store


def scrape(srv, **kw):
    r = srv.get("/metrics", **kw)
    assert r.status_code == 200, r.status_code
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert r.headers["Cache-Control"] == "no-store"
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def value(families, family, name=None, **labels):
    got = [s.value for s in families[family].samples
           if s.name == (name or family) and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(got) == 1, (family, labels, got)
    return got[0]


def test_metrics_parse_and_agree_with_what_happened(fresh, tmp_path):
    srv = fresh()
    for _ in range(3):
        assert srv.get("/").status_code == 200
    assert srv.get("/no-such-page").status_code == 404
    _, ok = sign_in(srv, "reader@demo.test")
    _, bad = sign_in(srv, "reader@demo.test", "not-the-password")
    assert ok.status_code == 303 and bad.status_code != 303

    # Requests are counted when libmicrohttpd reports them complete, which
    # may be just after the client has its answer: wait for the last one.
    def failed_signins(fams):
        return sum(smp.value for smp in fams["masthead_signins"].samples
                   if smp.labels.get("method") == "password" and smp.labels.get("result") == "failed")
    m = eventually(lambda: scrape(srv), lambda fams: failed_signins(fams) >= 1, within=15)
    # prometheus_client names a counter's family without _total.
    assert m["masthead_http_requests"].type == "counter"
    assert m["masthead_http_request_duration_seconds"].type == "histogram"
    assert value(m, "masthead_http_requests", "masthead_http_requests_total", route="/", method="GET",
                 status="200") == 3
    assert value(m, "masthead_http_requests", "masthead_http_requests_total", route="unmatched",
                 status="404") == 1
    count = value(m, "masthead_http_request_duration_seconds", "masthead_http_request_duration_seconds_count",
                  route="/", method="GET")
    inf = value(m, "masthead_http_request_duration_seconds", "masthead_http_request_duration_seconds_bucket",
                route="/", method="GET", le="+Inf")
    assert count == inf == 3
    buckets = [s for s in m["masthead_http_request_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.labels["route"] == "/"]
    assert [s.value for s in buckets] == sorted(s.value for s in buckets)
    # The front page twice more after the first: the page cache answered.
    hits = value(m, "masthead_cache_requests", "masthead_cache_requests_total", route="/", result="hit")
    miss = value(m, "masthead_cache_requests", "masthead_cache_requests_total", route="/", result="miss")
    assert hits + miss == 3 and hits >= 1
    assert abs(value(m, "masthead_cache_hit_ratio", route="/", method="GET") - hits / 3) < 1e-6
    assert value(m, "masthead_signins", "masthead_signins_total", method="password", result="ok") == 1
    assert value(m, "masthead_signins", "masthead_signins_total", method="password", result="failed") == 1

    st = Store.of_data(tmp_path / "data")
    for status, n in st.all("SELECT status, count(*) FROM subscriptions GROUP BY status"):
        assert value(m, "masthead_subscriptions", status=status) == n
    mrr = sum(a / months for a, months in st.all(
        "SELECT p.amount, p.interval_months FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
        "WHERE s.status = 'active'"))
    assert mrr > 0
    assert abs(value(m, "masthead_mrr_minor_units", currency="usd") - mrr) < 0.01
    assert value(m, "masthead_outbox_queued") == st.value("SELECT count(*) FROM mail_outbox WHERE sent_at = 0")
    for status, n in st.all("SELECT status, count(*) FROM charges GROUP BY status"):
        assert value(m, "masthead_billing_charges", status=status) == n

    # Through a trusted proxy (loopback), the client is the forwarded one.
    assert srv.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404


def test_metrics_closed_to_other_addresses_and_open_with_the_token(fresh):
    srv = fresh("demo", "--port", "0", "--metrics-allow", "10.0.0.0/8", "--metrics-token", "scrape-me-0123456789")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer scrape-me-012345678"},
                    {"Authorization": "scrape-me-0123456789"}):
        r = srv.get("/metrics", headers=headers)
        assert r.status_code == 404, headers
        assert "masthead_" not in r.text
    m = scrape(srv, headers={"Authorization": "Bearer scrape-me-0123456789"})
    assert "masthead_http_requests" in m
    # A scraper on an allowed network, through the trusted proxy.
    scrape(srv, headers={"X-Forwarded-For": "10.1.2.3"})


def test_a_bad_metrics_allow_is_bad_usage(tmp_path):
    r = run("serve", "--listen", "127.0.0.1:0", "--metrics-allow", "10.0.0.0/99", data=tmp_path / "d")
    assert r.returncode == 2 and "--metrics-allow" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
