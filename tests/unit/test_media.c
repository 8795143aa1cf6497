/* test_media.c: uploaded images (media/media.h): the type by magic bytes,
 * JPEG, WebP and GIF through media_ingest (made here by libvips), a JPEG
 * cut short, the variant names /media/ serves, and srcset; the multipart
 * parser's cases (http/multipart.c). */
#include "unit.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <vips/vips.h>

#include "http/http.h"
#include "media/media.h"

static char dir[64];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof dir, "/tmp/mh-media-XXXXXX");
	return mkdtemp(dir) && media_init() == MH_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void) state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

/* A w x h test image as the saver named by type writes it (g_free it). */
static void *
make(enum media_type type, int w, int h, size_t *len)
{
	VipsImage *im, *rgb;
	assert_int_equal(vips_xyz(&im, w, h, NULL), 0);
	assert_int_equal(vips_cast(im, &rgb, VIPS_FORMAT_UCHAR, "shift", TRUE, NULL), 0);
	g_object_unref(im);
	void *buf = NULL;
	int rc = type == MEDIA_JPEG   ? vips_jpegsave_buffer(rgb, &buf, len, NULL)
	         : type == MEDIA_WEBP ? vips_webpsave_buffer(rgb, &buf, len, NULL)
	         : type == MEDIA_GIF  ? vips_gifsave_buffer(rgb, &buf, len, NULL)
	                              : vips_pngsave_buffer(rgb, &buf, len, NULL);
	g_object_unref(rgb);
	assert_int_equal(rc, 0);
	return buf;
}

static int
variant_width(const char *hash, int w)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s-%d.webp", dir, hash, w);
	VipsImage *im = vips_image_new_from_file(path, NULL);
	assert_non_null(im);
	int got = vips_image_get_width(im);
	g_object_unref(im);
	return got;
}

static void
test_sniff(void **state)
{
	(void) state;
	assert_int_equal(media_sniff("\xff\xd8\xff\xe0", 4), MEDIA_JPEG);
	assert_int_equal(media_sniff("\x89PNG\r\n\x1a\n", 8), MEDIA_PNG);
	assert_int_equal(media_sniff("RIFF\0\0\0\0WEBP", 12), MEDIA_WEBP);
	assert_int_equal(media_sniff("GIF89a", 6), MEDIA_GIF);
	assert_int_equal(media_sniff("GIF87a", 6), MEDIA_GIF);
	assert_int_equal(media_sniff("GIF8", 4), MEDIA_NONE);
	assert_int_equal(media_sniff("<svg xmlns", 10), MEDIA_NONE);
	assert_int_equal(media_sniff("RIFF\0\0\0\0WAVE", 12), MEDIA_NONE);
	for (int t = MEDIA_NONE; t < MEDIA_TYPE_COUNT; t++)
		assert_non_null(media_type_label((enum media_type) t));
	assert_string_equal(media_type_mime(MEDIA_WEBP), "image/webp");
}

static void
test_every_type_gets_its_variants(void **state)
{
	(void) state;
	const enum media_type types[] = { MEDIA_JPEG, MEDIA_PNG, MEDIA_WEBP, MEDIA_GIF };
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		void *data = make(types[i], 1000 + (int) i, 600, &len);
		struct media_info m;
		char err[256] = "";
		assert_int_equal(media_ingest(dir, data, len, &m, err, sizeof err), MH_OK);
		assert_int_equal(m.type, types[i]);
		assert_int_equal(m.width, 1000 + (int) i);
		assert_false(m.existed);
		assert_int_equal(m.n_widths, 3);
		assert_int_equal(m.widths[0], 480);
		assert_int_equal(m.widths[1], 960);
		assert_int_equal(m.widths[2], 1000 + (int) i);
		for (size_t k = 0; k < m.n_widths; k++)
			assert_int_equal(variant_width(m.hash, m.widths[k]), m.widths[k]);
		/* Again: found, nothing written. */
		struct media_info again;
		assert_int_equal(media_ingest(dir, data, len, &again, err, sizeof err), MH_OK);
		assert_true(again.existed);
		assert_string_equal(again.hash, m.hash);
		g_free(data);
	}
}

static void
test_a_jpeg_cut_short_is_refused(void **state)
{
	(void) state;
	size_t len;
	unsigned char *data = make(MEDIA_JPEG, 800, 600, &len);
	struct media_info m;
	char err[256] = "";
	assert_int_equal(media_ingest(dir, data, len / 2, &m, err, sizeof err), MH_ERR_INVALID);
	assert_non_null(strstr(err, "damaged or cut short"));
	/* Nothing of it was written. */
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)))
		assert_true(e->d_name[0] == '.' || strlen(e->d_name) > 64);
	closedir(d);
	g_free(data);
}

static void
test_names_and_srcset(void **state)
{
	(void) state;
	char h[MEDIA_HASH_HEX + 1];
	memset(h, 'a', MEDIA_HASH_HEX);
	h[MEDIA_HASH_HEX] = '\0';
	char name[128];
	snprintf(name, sizeof name, "%s-480.webp", h);
	assert_true(media_variant_name_valid(name));
	const char *bad[] = { "../masthead.db", "", "x-480.webp" };
	for (size_t i = 0; i < 3; i++)
		assert_false(media_variant_name_valid(bad[i]));
	snprintf(name, sizeof name, "%s-0480.webp", h);
	assert_false(media_variant_name_valid(name));
	snprintf(name, sizeof name, "%s-480.webp/", h);
	assert_false(media_variant_name_valid(name));
	snprintf(name, sizeof name, "%s.png", h);
	assert_false(media_variant_name_valid(name));

	struct arena *a = arena_new();
	char src[128], want[512];
	snprintf(src, sizeof src, "/media/%s-1600.webp", h);
	snprintf(want, sizeof want, "/media/%s-480.webp 480w, /media/%s-960.webp 960w, /media/%s-1600.webp 1600w", h, h,
	         h);
	assert_string_equal(media_srcset(a, src), want);
	snprintf(src, sizeof src, "/media/%s-700.webp", h);
	snprintf(want, sizeof want, "/media/%s-480.webp 480w, /media/%s-700.webp 700w", h, h);
	assert_string_equal(media_srcset(a, src), want);
	snprintf(src, sizeof src, "/media/%s-300.webp", h);
	snprintf(want, sizeof want, "/media/%s-300.webp 300w", h);
	assert_string_equal(media_srcset(a, src), want);
	snprintf(src, sizeof src, "/media/%s-2000.webp", h); /* never made: no srcset */
	assert_null(media_srcset(a, src));
	assert_null(media_srcset(a, "/static/demo/harbour.svg"));
	assert_null(media_srcset(a, "https://example.test/media/x-480.webp"));
	assert_null(media_srcset(a, NULL));
	arena_free(a);
}

static void
test_multipart(void **state)
{
	(void) state;
	struct arena *a = arena_new();
	struct http_field f[4];
	struct http_file x[2];
	size_t nf, nx;
	static const char body[] = "ignored preamble\r\n"
	                           "--XyZ\r\n"
	                           "Content-Disposition: form-data; name=\"alt\"\r\n\r\n"
	                           "Dawn \xc3\xa0 the harbour\r\n"
	                           "--XyZ \r\n"
	                           "content-disposition: form-data; name=file; filename=\"a \\\"b\\\".png\"\r\n"
	                           "Content-Type: image/png\r\n\r\n"
	                           "\x89PNG\r\n\r\n-XyZ-not-a-delimiter\r\n"
	                           "--XyZ--\r\nepilogue";
	assert_int_equal(http_multipart_parse(a, "multipart/form-data; boundary=\"XyZ\"", body, sizeof body - 1, f, 4,
	                                      &nf, x, 2, &nx),
	                 MH_OK);
	assert_int_equal(nf, 1);
	assert_string_equal(f[0].name, "alt");
	assert_string_equal(f[0].value, "Dawn \xc3\xa0 the harbour");
	assert_int_equal(nx, 1);
	assert_string_equal(x[0].name, "file");
	assert_string_equal(x[0].filename, "a \"b\".png");
	assert_string_equal(x[0].content_type, "image/png");
	static const char png[] = "\x89PNG\r\n\r\n-XyZ-not-a-delimiter"; /* the CRLF before a delimiter is its own */
	assert_int_equal(x[0].len, sizeof png - 1);
	assert_memory_equal(x[0].data, png, sizeof png - 1);

	/* Malformed: no close, no boundary, a part without a name, not form-data, too many parts. */
	static const char open_end[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv";
	static const char noname[] = "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--";
	static const char attach[] = "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--";
	static const char three[] =
	        "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"1\"\r\n\r\n1\r\n"
	        "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"2\"\r\n\r\n2\r\n"
	        "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"3\"\r\n\r\n3\r\n--b--";
	const char *bad[][2] = {
		{ "multipart/form-data; boundary=b", open_end },
		{ "multipart/form-data", attach },
		{ "multipart/form-data; boundary=b", noname },
		{ "multipart/form-data; boundary=b", attach },
		{ "multipart/form-data; boundary=b", three },
		{ "multipart/form-data; boundary=", noname },
		{ "application/x-www-form-urlencoded; boundary=b", noname },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(http_multipart_parse(a, bad[i][0], bad[i][1], strlen(bad[i][1]), f, 4, &nf, x, 2, &nx),
		                 MH_ERR_INVALID);
		assert_int_equal(nf + nx, 0);
	}
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff),
		cmocka_unit_test_setup_teardown(test_every_type_gets_its_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_jpeg_cut_short_is_refused, setup, teardown),
		cmocka_unit_test(test_names_and_srcset),
		cmocka_unit_test(test_multipart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
