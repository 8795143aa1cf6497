"""The reading site as a newspaper: the header's sections and Subscribe
button, the front page's lead, grid and section blocks, and the rule that a
cached page never shows one kind of reader the other's header."""
import re

from members import sign_in

SUBSCRIBE = 'class="button button-small button-subscribe" href="/subscribe"'
SECTIONS = ["City Hall", "Port", "Business", "Schools", "Environment", "Culture"]


def header(html):
    return html.split("<main")[0]


def test_anonymous_header_has_sections_subscribe_and_sign_in(demo):
    h = header(demo.get("/articles/council-eastshore-rezoning-hearing").text)
    assert SUBSCRIBE in h
    assert "Sign in" in h and 'href="/search"' in h
    bar = h.split('<ul class="sections-bar">')[1].split("</ul>")[0]
    assert re.findall(r'<a href="/tags/[a-z-]+">([^<]+)</a>', bar) == SECTIONS
    # The phone menu is a disclosure holding the same links: no script needed.
    menu = h.split('<details class="sections-menu">')[1].split("</details>")[0]
    assert "<summary>Sections</summary>" in menu
    assert re.findall(r'<a href="/tags/[a-z-]+">([^<]+)</a>', menu) == SECTIONS


def test_current_section_is_marked(demo):
    h = header(demo.get("/tags/port").text)
    assert h.count('<a href="/tags/port" aria-current="page">Port</a>') == 2
    assert h.count('aria-current="page"') == 2


def test_front_page_has_lead_grid_latest_and_sections(demo):
    html = demo.get("/").text
    assert html.count('<article class="lead">') == 1
    lead = re.search(r'<h2 class="lead-title"><a href="/articles/([a-z0-9-]+)"', html).group(1)
    assert lead == "depot-street-rail-underpass-deal"  # the demo's featured story, not its newest
    assert '<img src="/static/demo/depot-street-rail-underpass-deal.svg" alt="" width="1600" height="900"' in html
    grid = html.split('<ul class="cards cards-grid">')[1].split("</ul>\n</section>")[0]
    assert grid.count('<article class="card card-with-image">') == 4
    blocks = re.findall(r'<section class="section-block" aria-labelledby="section-([a-z-]+)">', html)
    assert blocks and blocks[0] == "city-hall"
    assert blocks == [b for b in ["city-hall", "port", "business", "schools", "environment", "culture"]
                      if b in blocks]
    # Each block lists stories of its own tag only.
    port = html.split('aria-labelledby="section-port"')[1].split("</section>")[0]
    slugs = re.findall(r'href="/articles/([a-z0-9-]+)"', port)
    assert 1 <= len(slugs) <= 3
    for slug in slugs:
        assert 'href="/tags/port"' in demo.get("/articles/" + slug).text.split("</header>", 2)[1]
    # Later pages are plain lists without the lead or blocks.
    two = demo.get("/?page=2").text
    assert 'class="lead"' not in two and "section-block" not in two


def test_subscribe_follows_the_reader_through_every_cache(demo):
    """The anonymous page cache and the signed-in skeletons vary with the
    Subscribe button: warm each kind in turn and check every other."""
    subscriber, r = sign_in(demo, "subscriber@demo.test")
    assert r.status_code == 303
    reader, r = sign_in(demo, "reader@demo.test")
    assert r.status_code == 303
    for path in ("/", "/tags/port", "/articles/council-eastshore-rezoning-hearing"):
        for _ in range(3):  # rendered, then from the skeleton or the page cache
            s = header(subscriber.get(demo.url + path, timeout=10).text)
            assert "Sign out" in s and SUBSCRIBE not in s, path
            m = header(reader.get(demo.url + path, timeout=10).text)
            assert "Sign out" in m and SUBSCRIBE in m, path
            a = header(demo.get(path).text)
            assert "Sign in" in a and SUBSCRIBE in a, path


def test_sections_setting_orders_the_menu(fresh):
    srv = fresh("demo", "--port", "0", env={"MASTHEAD_SECTIONS": " Weather ,Port,, Transit "})
    h = header(srv.get("/").text)
    bar = h.split('<ul class="sections-bar">')[1].split("</ul>")[0]
    assert re.findall(r'<a href="(/tags/[a-z-]+)">([^<]+)</a>', bar) == [
        ("/tags/weather", "Weather"), ("/tags/port", "Port"), ("/tags/transit", "Transit")]
    html = srv.get("/").text
    assert re.findall(r'aria-labelledby="section-([a-z-]+)"', html) == ["weather", "port", "transit"]


def test_no_sections_no_section_nav(fresh):
    srv = fresh("serve", "--listen", "127.0.0.1:0")
    assert 'class="sections"' not in srv.get("/").text


def test_section_page_goes_by_the_section_name(demo):
    html = demo.get("/tags/city-hall").text
    assert '<p class="eyebrow">Section</p>' in html
    assert '<h1 class="page-title">City Hall</h1>' in html
    assert 'class="cards cards-grid cards-listing"' in html
    other = demo.get("/tags/housing").text
    assert '<p class="eyebrow">Tag</p>' in other and '<h1 class="page-title">housing</h1>' in other


def test_article_page_feature_image_and_reading_time(demo):
    html = demo.get("/articles/council-eastshore-rezoning-hearing").text
    fig = html.split('<figure class="feature-image">')[1].split("</figure>")[0]
    assert ('<img src="/static/demo/council-eastshore-rezoning-hearing.svg" alt="An illustration of a columned '
            'civic building under a wide sky." width="1600" height="900"') in fig
    assert '<span class="credit">Illustration generated for the demo by scripts/demo-images</span>' in fig
    assert re.search(r'<span class="reading-time">\d+ min read</span>', html)
    svg = demo.get("/static/demo/council-eastshore-rezoning-hearing.svg")
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    # A teaser reader is not told a reading time the teaser cannot support.
    assert "min read" not in demo.get("/articles/port-pier-9-overnight-cargo").text


def test_demo_images_are_up_to_date():
    import pathlib
    import subprocess
    root = pathlib.Path(__file__).resolve().parents[2]
    r = subprocess.run(["/usr/bin/python3", str(root / "scripts" / "demo-images"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_related_stories_share_the_first_tag(demo):
    html = demo.get("/articles/council-eastshore-rezoning-hearing").text
    rel = html.split('<section class="related" aria-labelledby="related-title">')[1].split("</section>")[0]
    slugs = re.findall(r'href="/articles/([a-z0-9-]+)"', rel)
    assert 1 <= len(slugs) <= 3
    assert "council-eastshore-rezoning-hearing" not in slugs
    for slug in slugs:
        assert 'href="/tags/city-hall"' in demo.get("/articles/" + slug).text.split("</header>", 2)[1]
    # The teaser page of a paid story has them too: they are not personal.
    assert 'class="related"' in demo.get("/articles/port-pier-9-overnight-cargo").text
