"""The newsroom's images (docs/newsroom.md, "Images"): who may upload, the
checks by content and size, dedupe, the variants and how /media/ serves them,
and srcset on the pages that show an upload."""
import os
import re
import socket
import struct
import zlib

import pytest
import requests

from members import csrf_of, sign_in

HASH_RE = r"[0-9a-f]{64}"


def png(w, h, seed=0, exif=None):
    """A PNG made here, w x h, RGB, a gradient that depends on seed."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    row = bytes((x * 7 + seed) & 255 for x in range(w * 3))
    raw = b"".join(b"\x00" + row for _ in range(h))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    if exif:
        out += chunk(b"eXIf", exif)
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def exif_with_gps():
    """A little-endian TIFF block: IFD0 pointing at a GPS IFD with a latitude
    reference and a make string whose bytes the variants must not carry."""
    make = b"MASTHEAD-SECRET-CAMERA\x00"
    # IFD0 at 8: 2 entries (Make, GPSInfo), next 0; GPS IFD after it; make after that.
    ifd0 = 8
    gps = ifd0 + 2 + 2 * 12 + 4
    make_off = gps + 2 + 1 * 12 + 4
    out = b"II*\x00" + struct.pack("<I", ifd0)
    out += struct.pack("<H", 2)
    out += struct.pack("<HHII", 0x010F, 2, len(make), make_off)
    out += struct.pack("<HHII", 0x8825, 4, 1, gps)
    out += struct.pack("<I", 0)
    out += struct.pack("<H", 1) + struct.pack("<HHI", 0x0001, 2, 2) + b"N\x00\x00\x00" + struct.pack("<I", 0)
    return out + make


def webp_size(data):
    """(width, height) from a WebP's header: VP8X, VP8L or VP8 (lossy)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    kind = data[12:16]
    if kind == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    if kind == b"VP8L":
        b = int.from_bytes(data[21:25], "little")
        return (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1
    assert kind == b"VP8 ", kind
    assert data[23:26] == b"\x9d\x01\x2a"
    w, h = struct.unpack("<HH", data[26:30])
    return w & 0x3FFF, h & 0x3FFF


def webp_chunks(data):
    out, p = [], 12
    while p + 8 <= len(data):
        kind, n = data[p:p + 4], int.from_bytes(data[p + 4:p + 8], "little")
        out.append(kind)
        p += 8 + n + (n & 1)
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from conftest import Server
    data = tmp_path_factory.mktemp("media")
    srv = Server(["demo", "--port", "0"], data)
    srv.data = data
    yield srv
    srv.stop()
    srv.check_clean()


@pytest.fixture(scope="module")
def editor(site):
    s, r = sign_in(site, "editor@demo.test")
    assert r.status_code == 303
    return s


def media_files(site):
    d = os.path.join(str(site.data), "media")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def upload(site, session, body, name="photo.jpg", ctype="image/jpeg", alt="A test pattern", csrf=None):
    page = session.get(site.url + "/admin/media", timeout=10)
    fields = {"alt": alt}
    fields["csrf"] = csrf if csrf is not None else csrf_of(page.text)
    return session.post(site.url + "/admin/media", data=fields, files={"file": (name, body, ctype)},
                        allow_redirects=False, timeout=60)


def field_error(html):
    return re.findall(r'class="field-error" id="[^"]+">([^<]+)<', html)


def test_anonymous_is_sent_to_sign_in_and_cannot_post(site):
    r = site.get("/admin/media")
    assert r.status_code == 303 and r.headers["Location"] == "/signin?next=%2Fadmin%2Fmedia"
    before = media_files(site)
    r = site.request("POST", "/admin/media", files={"file": ("a.png", png(10, 10), "image/png")})
    assert r.status_code == 401
    assert media_files(site) == before


@pytest.mark.parametrize("who", ["reader@demo.test", "subscriber@demo.test"])
def test_readers_get_403(site, who):
    s, _ = sign_in(site, who)
    assert s.get(site.url + "/admin/media", allow_redirects=False, timeout=10).status_code == 403
    before = media_files(site)
    # A reader's own CSRF token (from a page they may see) does not help.
    tok = csrf_of(s.get(site.url + "/account", timeout=10).text)
    r = s.post(site.url + "/admin/media", data={"csrf": tok, "alt": "x"},
               files={"file": ("a.png", png(10, 10), "image/png")}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "does not have access" in r.text
    assert media_files(site) == before


def test_upload_without_a_valid_csrf_token_is_refused(site, editor):
    before = media_files(site)
    r = upload(site, editor, png(40, 30, seed=1), csrf="not-a-token")
    assert r.status_code == 403 and "form has expired" in r.text
    assert media_files(site) == before


def test_a_png_named_jpg_is_stored_as_png_with_three_variants(site, editor):
    body = png(2000, 1125, seed=2)
    r = upload(site, editor, body, name="holiday.jpg", ctype="image/jpeg", alt="Gradient bands in red and green")
    assert r.status_code == 303, field_error(r.text)
    m = re.fullmatch(r"/admin/media\?added=(" + HASH_RE + ")", r.headers["Location"])
    assert m, r.headers["Location"]
    h = m.group(1)
    files = media_files(site)
    assert f"{h}.png" in files and f"{h}.jpg" not in files
    for w in (480, 960, 1600):
        assert f"{h}-{w}.webp" in files
    page = editor.get(site.url + r.headers["Location"], timeout=10).text
    assert "The image was uploaded." in page
    row = re.search(r"<tr class=\"admin-media-added\">(.*?)</tr>", page, re.S).group(1)
    assert f"<code>/media/{h}-1600.webp</code>" in row
    assert "Gradient bands in red and green" in row and "holiday.jpg" in row and "PNG" in row
    assert re.search(r"2000 × 1125, \d+ KB", row), row

    for w in (480, 960, 1600):
        got = site.get(f"/media/{h}-{w}.webp")
        assert got.status_code == 200
        assert got.headers["Content-Type"] == "image/webp"
        assert got.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        # 2000 x 1125 keeps its 16:9 shape at every width.
        assert webp_size(got.content) == (w, round(w * 1125 / 2000)), w
        etag = got.headers["ETag"]
        again = site.get(f"/media/{h}-{w}.webp", headers={"If-None-Match": etag})
        assert again.status_code == 304

    # The upload is in the audit log.
    a, _ = sign_in(site, "admin@demo.test")
    audit = a.get(site.url + "/admin/audit", timeout=10).text
    assert "media.upload" in audit and f"/media/{h}-1600.webp" in audit


def test_the_same_file_again_is_stored_once(site, editor):
    body = png(800, 450, seed=3)
    r1 = upload(site, editor, body, alt="First copy")
    assert r1.status_code == 303
    files = media_files(site)
    r2 = upload(site, editor, body, name="other-name.png", ctype="image/png", alt="Second copy")
    assert r2.status_code == 303 and r2.headers["Location"].endswith("&again=1")
    assert r2.headers["Location"].split("&")[0] == r1.headers["Location"]
    assert media_files(site) == files
    page = editor.get(site.url + r2.headers["Location"], timeout=10).text
    assert "already in the library" in page
    h = re.search(HASH_RE, r1.headers["Location"]).group(0)
    assert page.count(f"<code>/media/{h}-800.webp</code>") == 1
    assert "First copy" in page and "Second copy" not in page


def test_a_small_image_gets_its_own_width_only(site, editor):
    r = upload(site, editor, png(300, 200, seed=4))
    assert r.status_code == 303
    h = re.search(HASH_RE, r.headers["Location"]).group(0)
    mine = [f for f in media_files(site) if f.startswith(h)]
    assert sorted(mine) == [f"{h}-300.webp", f"{h}.png"]
    assert webp_size(site.get(f"/media/{h}-300.webp").content) == (300, 200)


def test_metadata_is_stripped_from_variants(site, editor):
    body = png(1000, 500, seed=5, exif=exif_with_gps())
    r = upload(site, editor, body)
    assert r.status_code == 303, field_error(r.text)
    h = re.search(HASH_RE, r.headers["Location"]).group(0)
    with open(os.path.join(str(site.data), "media", f"{h}.png"), "rb") as f:
        assert b"MASTHEAD-SECRET-CAMERA" in f.read()  # the original keeps it (never served)
    for w in (480, 960, 1000):
        got = site.get(f"/media/{h}-{w}.webp").content
        assert b"MASTHEAD-SECRET-CAMERA" not in got
        assert not {b"EXIF", b"XMP ", b"ICCP"} & set(webp_chunks(got)), webp_chunks(got)
    assert site.get(f"/media/{h}.png").status_code == 404


@pytest.mark.parametrize("name,body,status,message", [
    ("notes.png", b"These are my notes, not a picture.\n" * 20, 415, "not an image we take"),
    ("empty-ish.gif", b"GIF89a", 422, "damaged or cut short"),
    ("cut.png", png(600, 400, seed=6)[:900], 422, "damaged or cut short"),
    ("garbage.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 422, "damaged or cut short"),
    ("fake.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 40, 422, "damaged or cut short"),
    ("huge.png", None, 422, "at most 40 million pixels"),
])
def test_bad_files_are_refused_with_a_message_and_nothing_stored(site, editor, name, body, status, message):
    if body is None:
        # A decompression bomb: the header says 20000 x 20000, the data is tiny.
        full = png(8, 8)
        ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
        crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
        body = full[:8] + struct.pack(">I", 13) + b"IHDR" + ihdr + crc + full[33:]
    before = media_files(site)
    r = upload(site, editor, body, name=name, ctype="image/png", alt="Kept for the second try")
    assert r.status_code == status, (r.status_code, field_error(r.text))
    errs = field_error(r.text)
    assert errs and message in errs[0], errs
    assert 'value="Kept for the second try"' in r.text
    assert 'aria-invalid="true"' in r.text
    assert media_files(site) == before


def test_alt_text_is_required(site, editor):
    before = media_files(site)
    r = upload(site, editor, png(50, 50, seed=7), alt="   ")
    assert r.status_code == 422
    assert any("Describe what the image shows" in e for e in field_error(r.text))
    assert media_files(site) == before


def test_an_oversized_upload_is_refused_413(site, editor):
    before = media_files(site)
    # A file just over 10 MB inside a body the route takes: the media check says so.
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024)
    r = upload(site, editor, big, name="big.png")
    assert r.status_code == 413
    assert any("larger than 10 MB" in e for e in field_error(r.text))
    assert media_files(site) == before

    # A body over the route's limit is refused on its Content-Length, before it is read.
    page = editor.get(site.url + "/admin/media", timeout=10)
    cookies = "; ".join(f"{k}={v}" for k, v in editor.cookies.items())
    host, port = site.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST /admin/media HTTP/1.1\r\nHost: x\r\nCookie: {cookies}\r\n"
                      "Content-Type: multipart/form-data; boundary=b\r\n"
                      f"Content-Length: {11 * 1024 * 1024}\r\nConnection: close\r\n\r\n").encode())
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    assert got.startswith(b"HTTP/1.1 413"), got[:100]
    assert b"the limit here is about 10 MB" in got
    assert csrf_of(page.text)  # the page was there to take a token from
    assert media_files(site) == before
    # Other routes keep their own, smaller limit.
    r = site.request("POST", "/signin", data=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413 and "the limit here is 1 MB" in r.text


@pytest.mark.parametrize("path", [
    "/media/../masthead.db",
    "/media/..%2fmasthead.db",
    "/media/%2e%2e%2fsecret.key",
    "/media/..%2f..%2fetc%2fpasswd",
    "/media/%2e%2e/site.ini",
    "/media/" + "a" * 64 + "-480.webp/../../masthead.db",
    "/media/" + "A" * 64 + "-480.webp",
    "/media/" + "a" * 64 + "-0480.webp",
    "/media/" + "a" * 64 + "-480.webp%00.png",
    "/media/masthead.db",
    "/media/",
])
def test_traversal_and_other_names_are_404(site, path):
    r = requests.get(site.url + path, allow_redirects=False, timeout=10)
    assert r.status_code == 404, (path, r.status_code)
    assert b"SQLite format" not in r.content


def test_srcset_on_the_front_page_and_article_for_an_upload(site, editor, tmp_path):
    from conftest import now_dt, run, eventually
    r = upload(site, editor, png(1800, 1000, seed=8), alt="A pattern of bands")
    assert r.status_code == 303
    h = re.search(HASH_RE, r.headers["Location"]).group(0)
    when = now_dt().strftime("%Y-%m-%dT%H:%M:%SZ")
    md = tmp_path / "uploaded.md"
    md.write_text(f"""---
title: The harbour at dawn, in bands of colour
slug: harbour-bands
access: public
authors: [Test Writer]
tags: [local]
featured: true
published_at: {when}
feature_image: /media/{h}-1600.webp
feature_image_alt: A pattern of bands
---
A paragraph about the picture.
""", encoding="utf-8")
    assert run("import", str(md), data=site.data).returncode == 0
    srcset = f'srcset="/media/{h}-480.webp 480w, /media/{h}-960.webp 960w, /media/{h}-1600.webp 1600w"'
    front = eventually(lambda: requests.get(site.url + "/", timeout=10).text, lambda t: srcset in t)
    assert srcset in front
    img = re.search(r"<img [^>]*" + re.escape(srcset) + r"[^>]*>", front).group(0)
    assert 'sizes="' in img and f'src="/media/{h}-1600.webp"' in img
    article = requests.get(site.url + "/articles/harbour-bands", timeout=10).text
    img = re.search(r"<img [^>]*" + re.escape(srcset) + r"[^>]*>", article).group(0)
    assert 'alt="A pattern of bands"' in img and 'sizes="' in img
    # The demo's SVG illustrations keep a plain src.
    svgs = re.findall(r'<img src="[^"]+\.svg"[^>]*>', front)
    assert svgs and all("srcset" not in i for i in svgs)


def test_the_same_file_uploaded_twice_at_once_is_one_image(site, editor):
    import threading
    body = png(1200, 675, seed=9)
    got = []

    def go():
        got.append(upload(site, editor, body, alt="At the same moment"))
    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in got] == [303, 303], [field_error(r.text) for r in got]
    h = re.search(HASH_RE, got[0].headers["Location"]).group(0)
    assert sorted(f for f in media_files(site) if f.startswith(h)) == [
        f"{h}-1200.webp", f"{h}-480.webp", f"{h}-960.webp", f"{h}.png"]
    assert not [f for f in media_files(site) if ".tmp-" in f]
    page = editor.get(site.url + "/admin/media", timeout=10).text
    assert page.count(f"<code>/media/{h}-1200.webp</code>") == 1
    assert webp_size(site.get(f"/media/{h}-1200.webp").content) == (1200, 675)
