"""The Content API (docs/api.md) against the shapes Ghost documents for its
Content API v5: envelopes, post fields, pagination, filters and their
errors, keys made with `masthead key`, cache validators and CORS."""
import datetime
import re

import pytest

from conftest import Server, eventually, now_dt, run

API = "/ghost/api/content/"
POST_FIELDS = {"id", "uuid", "title", "slug", "html", "excerpt", "custom_excerpt", "feature_image", "featured",
               "visibility", "access", "published_at", "updated_at", "reading_time", "url"}
PAGINATION = {"page", "limit", "pages", "total", "next", "prev"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("api")
    srv = Server(["demo", "--port", "0"], data)
    r = run("key", "add", "contract tests", data=data)
    assert r.returncode == 0, r.stderr
    srv.key = r.stdout.strip()
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


def get(srv, path, key=None, **params):
    """key None: the site's key; False: no key at all; else that text."""
    if key is not False:
        params["key"] = srv.key if key is None else key
    return srv.get(API + path, params=params)


def ok(srv, path, **params):
    r = get(srv, path, **params)
    assert r.status_code == 200, (path, params, r.text[:500])
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def assert_error(r, status, type_):
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert set(body) == {"errors"}
    assert len(body["errors"]) == 1
    err = body["errors"][0]
    assert err["type"] == type_
    assert isinstance(err["message"], str) and err["message"]
    assert {"message", "context", "type", "id"} <= set(err)
    return err


def all_posts(srv, **params):
    return ok(srv, "posts/", limit="all", **params)["posts"]


# ---- keys ---------------------------------------------------------------------------------------


def test_key_is_printed_once_and_listed(site):
    assert re.fullmatch(r"[0-9a-f]{26}", site.key)
    r = run("key", "list", data=site.data)
    assert r.returncode == 0
    assert re.search(r"^contract tests\tmade \S+\tactive$", r.stdout, re.M), r.stdout
    assert site.key not in r.stdout
    # A name is taken once; a bad name or subcommand is a usage error.
    assert run("key", "add", "contract tests", data=site.data).returncode == 2
    assert run("key", "add", "", data=site.data).returncode == 2
    assert run("key", "add", "x" * 65, data=site.data).returncode == 2
    assert run("key", "frobnicate", data=site.data).returncode == 2
    assert run("key", "revoke", "no such key", data=site.data).returncode == 2


def test_missing_key_is_403_unknown_401(site):
    assert_error(get(site, "posts/", key=False), 403, "NoPermissionError")
    assert_error(get(site, "posts/", key=False, key_="x"), 403, "NoPermissionError")
    assert_error(get(site, "posts/", key=""), 403, "NoPermissionError")
    err = assert_error(get(site, "posts/", key="0" * 26), 401, "UnauthorizedError")
    assert err["message"] == "Unknown Content API Key"
    assert_error(get(site, "posts/", key="not-hex"), 401, "UnauthorizedError")
    assert_error(get(site, "posts/", key=site.key.upper()), 401, "UnauthorizedError")
    assert_error(get(site, "settings/", key=site.key + "0"), 401, "UnauthorizedError")


def test_revoked_key_is_refused_within_a_second(site):
    r = run("key", "add", "short lived", data=site.data)
    key = r.stdout.strip()
    assert get(site, "posts/", key=key).status_code == 200
    r = run("key", "revoke", "short lived", data=site.data)
    assert r.returncode == 0, r.stderr
    # Believed for a second at most after the revocation (docs/api.md).
    got = eventually(lambda: get(site, "posts/", key=key), lambda g: g.status_code == 401, within=1.5)
    assert_error(got, 401, "UnauthorizedError")
    assert re.search(r"^short lived\tmade \S+\trevoked \S+$", run("key", "list", data=site.data).stdout, re.M)
    assert run("key", "revoke", "short lived", data=site.data).returncode == 2


# ---- envelopes and fields -----------------------------------------------------------------------


def test_browse_envelope(site):
    body = ok(site, "posts/")
    assert set(body) == {"posts", "meta"}
    assert set(body["meta"]) == {"pagination"}
    p = body["meta"]["pagination"]
    assert set(p) == PAGINATION
    assert p["page"] == 1 and p["limit"] == 15 and p["prev"] is None
    assert p["total"] == 14 and p["pages"] == 1 and p["next"] is None
    assert len(body["posts"]) == 14
    for post in body["posts"]:
        assert POST_FIELDS <= set(post), set(post) ^ POST_FIELDS
        assert "tags" not in post and "authors" not in post and "plaintext" not in post
        assert re.fullmatch(r"[0-9a-f]{24}", post["id"])
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", post["uuid"])
        assert post["visibility"] in ("public", "members", "paid")
        # The demo's illustrations, as absolute URLs; one story is the editors' pick.
        assert post["feature_image"] == f"{site.url}/static/demo/{post['slug']}.svg", post["feature_image"]
        assert post["feature_image_alt"].startswith("An illustration")
        assert post["featured"] is (post["slug"] == "depot-street-rail-underpass-deal")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", post["published_at"])
        assert post["url"] == site.url + "/articles/" + post["slug"]
        assert isinstance(post["reading_time"], int)
        assert post["access"] is (post["visibility"] == "public")
    dates = [p["published_at"] for p in body["posts"]]
    assert dates == sorted(dates, reverse=True)
    # Stable: the same uuid on every read.
    assert [p["uuid"] for p in ok(site, "posts/")["posts"]] == [p["uuid"] for p in body["posts"]]


def test_read_envelope_by_slug_and_id(site):
    first = ok(site, "posts/", limit=1, include="tags,authors")["posts"][0]
    by_slug = ok(site, f"posts/slug/{first['slug']}/", include="tags,authors")
    assert set(by_slug) == {"posts"}
    assert by_slug["posts"] == [first]
    by_id = ok(site, f"posts/{first['id']}/", include="tags,authors")
    assert by_id == by_slug
    assert_error(get(site, "posts/slug/no-such-post/"), 404, "NotFoundError")
    assert_error(get(site, "posts/ffffffffffffffffffffffff/"), 404, "NotFoundError")
    assert_error(get(site, "members/"), 404, "NotFoundError")


def test_include_tags_and_authors(site):
    posts = all_posts(site, include="tags,authors")
    for post in posts:
        assert post["tags"] and post["authors"]
        assert post["primary_tag"] == post["tags"][0]
        assert post["primary_author"] == post["authors"][0]
        tag = post["tags"][0]
        assert {"id", "name", "slug", "description", "feature_image", "visibility", "url"} <= set(tag)
        assert tag["url"] == site.url + "/tags/" + tag["slug"]
        assert {"id", "name", "slug", "profile_image", "bio", "url"} <= set(post["authors"][0])


def test_fields_and_formats(site):
    posts = ok(site, "posts/", fields="id,title,slug", limit=3)["posts"]
    assert len(posts) == 3
    for post in posts:
        assert set(post) == {"id", "title", "slug"}
    posts = ok(site, "posts/", formats="plaintext", limit=3)["posts"]
    for post in posts:
        assert "plaintext" in post and "html" not in post
        assert "<p>" not in post["plaintext"]
    posts = ok(site, "posts/", formats="html,plaintext", limit=3)["posts"]
    for post in posts:
        assert post["html"].startswith("<") and post["plaintext"]
    assert_error(get(site, "posts/", formats="mobiledoc"), 400, "BadRequestError")
    assert_error(get(site, "posts/", include="comments"), 400, "BadRequestError")


def test_gated_posts_carry_only_the_teaser(site):
    posts = all_posts(site, formats="html,plaintext")
    paid = [p for p in posts if p["visibility"] != "public"]
    public = [p for p in posts if p["visibility"] == "public"]
    assert paid and public
    for post in paid:
        assert post["access"] is False
        page = site.get("/articles/" + post["slug"]).text
        # Every paragraph the API gives is on the page an anonymous reader sees.
        for para in re.findall(r"<p>(.*?)</p>", post["html"], re.S):
            assert para in page, (post["slug"], para[:80])
        assert len(post["excerpt"]) <= 500
    for post in public:
        assert post["access"] is True


# ---- pagination and order -----------------------------------------------------------------------


def test_pages_split_the_list(site):
    seen = []
    page, pages = 1, None
    while True:
        body = ok(site, "posts/", limit=5, page=page, fields="id")
        p = body["meta"]["pagination"]
        assert p["limit"] == 5 and p["total"] == 14 and p["pages"] == 3
        assert p["prev"] == (page - 1 if page > 1 else None)
        assert p["next"] == (page + 1 if page < 3 else None)
        seen += [x["id"] for x in body["posts"]]
        pages = p["pages"]
        if p["next"] is None:
            break
        page = p["next"]
    assert page == pages == 3
    assert len(seen) == len(set(seen)) == 14
    empty = ok(site, "posts/", limit=5, page=9)
    assert empty["posts"] == [] and empty["meta"]["pagination"]["prev"] == 8


def test_limit_all_is_capped(site):
    p = ok(site, "posts/", limit="all")["meta"]["pagination"]
    assert p["limit"] == 100 and p["pages"] == 1
    assert ok(site, "posts/", limit=5000)["meta"]["pagination"]["limit"] == 100
    for bad in ("0", "-3", "lots", "1.5"):
        assert_error(get(site, "posts/", limit=bad), 400, "BadRequestError")
    assert_error(get(site, "posts/", page="0"), 400, "BadRequestError")


def test_order(site):
    titles = [p["title"] for p in all_posts(site, order="title asc")]
    assert titles == sorted(titles)
    titles = [p["title"] for p in all_posts(site, order="title DESC")]
    assert titles == sorted(titles, reverse=True)
    dates = [p["published_at"] for p in all_posts(site, order="published_at asc")]
    assert dates == sorted(dates)
    assert_error(get(site, "posts/", order="colour asc"), 400, "BadRequestError")
    assert_error(get(site, "posts/", order="title sideways"), 400, "BadRequestError")


# ---- filters ------------------------------------------------------------------------------------


def test_filters(site):
    posts = all_posts(site, include="tags,authors")
    tag = posts[0]["tags"][0]["slug"]
    author = posts[-1]["authors"][0]["slug"]
    with_tag = {p["slug"] for p in posts if tag in [t["slug"] for t in p["tags"]]}
    by_author = {p["slug"] for p in posts if author in [a["slug"] for a in p["authors"]]}
    paid = {p["slug"] for p in posts if p["visibility"] == "paid"}
    assert 0 < len(with_tag) < len(posts) and by_author and paid

    def slugs(f):
        return {p["slug"] for p in all_posts(site, filter=f)}
    assert slugs(f"tag:{tag}") == with_tag
    assert slugs(f"tags:[{tag},no-such-tag]") == with_tag
    assert slugs(f"tag:-{tag}") == {p["slug"] for p in posts} - with_tag
    assert slugs(f"author:{author}") == by_author
    assert slugs(f"authors.slug:{author}") == by_author
    assert slugs("featured:true") == {"depot-street-rail-underpass-deal"}
    assert slugs("featured:false") == {p["slug"] for p in posts} - {"depot-street-rail-underpass-deal"}
    assert slugs("visibility:paid") == paid
    assert slugs(f"visibility:paid+tag:{tag}") == paid & with_tag
    assert slugs(f"visibility:paid,author:{author}") == paid | by_author
    assert slugs(f"id:-{posts[0]['id']}") == {p["slug"] for p in posts[1:]}
    cut = posts[4]["published_at"]
    assert slugs(f"published_at:>'{cut[:10]} {cut[11:19]}'") == {p["slug"] for p in posts[:4]}
    assert slugs(f"published_at:<='{cut[:19]}Z'") == {p["slug"] for p in posts[4:]}
    # The count follows the filter.
    body = ok(site, "posts/", filter=f"tag:{tag}", limit=1)
    assert body["meta"]["pagination"]["total"] == len(with_tag)


@pytest.mark.parametrize("bad", ["tag:", "tag:[a,b", "colour:red", "featured:maybe", "published_at:>'soon'",
                                 "(tag:a", "tag:a)", "tag:a++tag:b", "visibility:secret", "tag:>a",
                                 "tag:'unclosed", "(" * 40 + "tag:a" + ")" * 40, "tag:a," * 150 + "tag:b"],
                         ids=lambda f: f if len(f) < 40 else f[:20] + f"...({len(f)} bytes)")
def test_bad_filters_are_400(site, bad):
    err = assert_error(get(site, "posts/", filter=bad), 400, "BadRequestError")
    assert err["message"].startswith("Error parsing filter")
    # Too long a value is refused before it is parsed.
    err = assert_error(get(site, "posts/", filter="tag:a," * 400 + "tag:b"), 400, "BadRequestError")
    assert "longer than" in err["message"]


# ---- tags, authors, settings, tiers, people ------------------------------------------------------


def test_tags_and_authors(site):
    posts = all_posts(site, include="tags,authors")
    for kind in ("tags", "authors"):
        body = ok(site, kind + "/", include="count.posts", limit="all")
        assert set(body) == {kind, "meta"} and set(body["meta"]["pagination"]) == PAGINATION
        items = body[kind]
        expected = {}
        for p in posts:
            for t in p[kind]:
                expected[t["slug"]] = expected.get(t["slug"], 0) + 1
        assert {t["slug"]: t["count"]["posts"] for t in items} == expected
        one = items[0]
        read = ok(site, f"{kind}/slug/{one['slug']}/")
        assert set(read) == {kind} and len(read[kind]) == 1
        assert read[kind][0]["slug"] == one["slug"] and "count" not in read[kind][0]
        assert ok(site, f"{kind}/{one['id']}/")[kind][0]["slug"] == one["slug"]
        assert_error(get(site, f"{kind}/slug/nobody-at-all/"), 404, "NotFoundError")
        assert [t["slug"] for t in ok(site, kind + "/", filter=f"slug:{one['slug']}")[kind]] == [one["slug"]]
        assert_error(get(site, kind + "/", filter="tag:x"), 400, "BadRequestError")


def test_settings_and_tiers(site):
    body = ok(site, "settings/")
    assert set(body) == {"settings", "meta"}
    s = body["settings"]
    assert s["title"] == "The Harbor Vale Ledger"
    assert s["url"] == site.url + "/"
    assert {"description", "logo", "icon", "accent_color", "navigation", "lang", "timezone"} <= set(s)
    tiers = ok(site, "tiers/")
    assert set(tiers) == {"tiers", "meta"}
    kinds = [t["type"] for t in tiers["tiers"]]
    assert kinds[0] == "free" and "paid" in kinds
    for t in tiers["tiers"]:
        assert {"id", "name", "slug", "active", "type", "visibility", "monthly_price", "yearly_price",
                "currency", "benefits"} <= set(t)
    paid = [t for t in tiers["tiers"] if t["type"] == "paid"]
    assert any(t["monthly_price"] for t in paid) and all(t["currency"] == "USD" for t in paid)


def test_pages_are_an_empty_list(site):
    body = ok(site, "pages/")
    assert body["pages"] == [] and body["meta"]["pagination"]["total"] == 0
    assert_error(get(site, "pages/slug/about/"), 404, "NotFoundError")


def test_people(site):
    body = ok(site, "people/", limit="all")
    assert set(body) == {"people", "meta"}
    people = body["people"]
    assert people
    for person in people:
        assert {"id", "name", "slug", "role", "url", "quotes"} <= set(person)
        for q in person["quotes"]:
            assert q["post"]["url"].startswith(site.url + "/articles/")
            # A quote from a gated part of a paid article has no text here.
            assert (q["html"] is None) == (not q["access"])
    one = people[0]
    read = ok(site, f"people/slug/{one['slug']}/")
    assert set(read) == {"people"} and read["people"] == [one]
    assert_error(get(site, "people/slug/nobody-at-all/"), 404, "NotFoundError")


# ---- prefixes, validators, CORS -----------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/ghost/api/v3/content/", "/ghost/api/v4/content/",
                                    "/ghost/api/canary/content/", "/api/v1/"])
def test_older_prefixes_answer_the_same(site, prefix):
    params = {"key": site.key, "include": "tags,authors", "limit": 3}
    r = site.get(prefix + "posts/", params=params)
    assert r.status_code == 200
    assert r.json() == ok(site, "posts/", include="tags,authors", limit=3)
    assert site.get(prefix + "posts/", params={}).status_code == 403


def test_etag_and_304(site):
    r = get(site, "posts/", limit=2)
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert "max-age=0" in r.headers["Cache-Control"] and "public" in r.headers["Cache-Control"]
    again = site.get(API + "posts/", params={"key": site.key, "limit": 2}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = site.get(API + "posts/", params={"key": site.key, "limit": 3}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    head = site.request("HEAD", API + "posts/", params={"key": site.key, "limit": 2})
    assert head.status_code == 200 and head.headers["ETag"] == etag
    # From the cache: the same bytes and headers as the first answer.
    hit = get(site, "posts/", limit=2)
    assert hit.status_code == 200 and hit.content == r.content
    assert hit.headers["ETag"] == etag and hit.headers["Cache-Control"] == r.headers["Cache-Control"]
    assert hit.headers["Access-Control-Allow-Origin"] == "*"
    assert hit.headers["Content-Type"] == "application/json; charset=utf-8"
    assert hit.headers["X-Content-Type-Options"] == "nosniff"
        # Errors are not cached.
    assert get(site, "posts/", key=False).headers["Cache-Control"] == "no-store"


def test_etag_changes_with_content(tmp_path, fresh):
    srv = fresh()
    key = run("key", "add", "k", data=tmp_path / "data").stdout.strip()
    r = srv.get(API + "posts/", params={"key": key})
    # Published an hour before the tests' clock, whatever date that is: the newest post.
    when = (now_dt() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "new.md").write_text("---\ntitle: A new one\nslug: a-new-one\naccess: public\n"
                                     f"authors: [Ana Ruiz]\ntags: [port]\npublished_at: {when}\n"
                                     "---\nNew text.\n")
    assert run("import", str(tmp_path / "new.md"), data=tmp_path / "data").returncode == 0
    # Another process's change shows within the server's recheck interval.
    r2 = eventually(lambda: srv.get(API + "posts/", params={"key": key}, headers={"If-None-Match": r.headers["ETag"]}),
                    lambda got: got.status_code == 200)
    assert r2.status_code == 200
    assert r2.json()["posts"][0]["slug"] == "a-new-one"


def test_cors_default_allows_any_origin(site):
    r = site.get(API + "posts/", params={"key": site.key, "limit": 1}, headers={"Origin": "https://front.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = site.request("OPTIONS", API + "posts/", headers={"Origin": "https://front.example",
                                                           "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert "Accept-Version" in pre.headers["Access-Control-Allow-Headers"]


def test_cors_listed_origins_only(tmp_path, fresh):
    srv = fresh("demo", "--port", "0", "--api-cors-origins", "https://a.example, https://b.example")
    key = run("key", "add", "k", data=tmp_path / "data").stdout.strip()
    r = srv.get(API + "settings/", params={"key": key}, headers={"Origin": "https://b.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Origin" in r.headers["Vary"]
    r = srv.get(API + "settings/", params={"key": key}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    off = fresh("demo", "--port", "0", "--api-cors-origins", "")
    r = off.get(API + "settings/", params={"key": key}, headers={"Origin": "https://a.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_an_author_profile_shows_as_ghost_names_it(site):
    """The demo's authors have profiles (docs/import.md): bio and profile_image
    as Ghost gives them, the photo as an absolute URL; embedded the same."""
    read = ok(site, "authors/slug/tobias-renwick/")["authors"][0]
    assert read["bio"].startswith("Tobias Renwick covers the port")
    assert read["profile_image"].endswith("/static/demo/authors/tobias-renwick.svg")
    assert read["profile_image"].startswith("http")
    post = ok(site, "posts/slug/port-pier-9-overnight-cargo/", include="authors")["posts"][0]
    assert post["primary_author"]["bio"] == read["bio"]
