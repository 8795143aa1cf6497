/* media.c: uploaded images through libvips (media.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/buf.h"
#include "core/log.h"
#include "media/media.h"
#include "core/banned.h"

const int media_widths[MEDIA_VARIANTS] = { 480, 960, 1600 };

static const struct {
	const char *label, *mime, *ext;
	const char *loader[2]; /* the class names of libvips's loaders for it (8.14 has nsgif for GIF) */
} types[MEDIA_TYPE_COUNT] = {
	[MEDIA_NONE] = { "unknown", "application/octet-stream", "bin", { NULL, NULL } },
	[MEDIA_JPEG] = { "JPEG", "image/jpeg", "jpg", { "VipsForeignLoadJpegBuffer", NULL } },
	[MEDIA_PNG] = { "PNG", "image/png", "png", { "VipsForeignLoadPngBuffer", NULL } },
	[MEDIA_WEBP] = { "WebP", "image/webp", "webp", { "VipsForeignLoadWebpBuffer", NULL } },
	[MEDIA_GIF] = { "GIF", "image/gif", "gif", { "VipsForeignLoadNsgifBuffer", "VipsForeignLoadGifBuffer" } },
};

const char *
media_type_label(enum media_type t)
{
	return types[t < MEDIA_TYPE_COUNT ? t : MEDIA_NONE].label;
}

const char *
media_type_mime(enum media_type t)
{
	return types[t < MEDIA_TYPE_COUNT ? t : MEDIA_NONE].mime;
}

const char *
media_type_ext(enum media_type t)
{
	return types[t < MEDIA_TYPE_COUNT ? t : MEDIA_NONE].ext;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static mh_err init_rc = MH_OK;

/* libvips's warnings (a tile it could not decode) go to stderr; the
 * upload's refusal already says what went wrong, so they go to the log at
 * debug level instead. */
static void
vips_warning(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
	log_msg(LOG_DEBUG, "libvips", "message=\"%s\"", message);
}

static void
init_vips(void)
{
	if (VIPS_INIT("masthead")) {
		log_error("cannot start libvips", "error=\"%s\"", vips_error_buffer());
		vips_error_clear();
		init_rc = MH_ERR_IO;
		return;
	}
	/* Only the four loaders are ever asked for (media_ingest checks which
	 * one libvips picked); blocking the rest keeps the large, less
	 * hardened ones (ImageMagick, PDF, matrix files) out of reach even so. */
	vips_block_untrusted_set(TRUE);
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO, vips_warning, NULL);
	/* Uploads are one-off: a cache would only hold their pixels. */
	vips_cache_set_max(0);
	vips_concurrency_set(1);
}

mh_err
media_init(void)
{
	pthread_once(&init_once, init_vips);
	return init_rc;
}

enum media_type
media_sniff(const void *data, size_t len)
{
	const unsigned char *p = data;
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return MEDIA_JPEG;
	if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return MEDIA_PNG;
	if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return MEDIA_WEBP;
	if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
		return MEDIA_GIF;
	return MEDIA_NONE;
}

/* The widths of the variants of an image whose widest variant is widest. */
static size_t
widths_for(int widest, int *out)
{
	size_t n = 0;
	for (size_t i = 0; i < MEDIA_VARIANTS && media_widths[i] < widest; i++)
		out[n++] = media_widths[i];
	out[n++] = widest;
	return n;
}

static bool
exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Writes data to path through a temporary file beside it, renamed into
 * place when whole (atomic: readers and other nodes see all or nothing). */
static mh_err
write_file(const char *path, const void *data, size_t len)
{
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof rnd);
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2],
	                 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (n < 0 || (size_t) n >= sizeof tmp)
		return MH_ERR_IO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return MH_ERR_IO;
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return MH_ERR_IO;
		}
		p += w;
		left -= (size_t) w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return MH_ERR_IO;
	}
	return MH_OK;
}

/* Every pixel decoded once, failing on truncation and decoder errors: a
 * file libvips would show half of is refused instead. */
static mh_err
decode_all(const void *data, size_t len, char *err, size_t errlen)
{
	VipsImage *im = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
	                                           VIPS_FAIL_ON_ERROR, NULL);
	double avg;
	mh_err rc = MH_OK;
	if (!im || vips_avg(im, &avg, NULL)) {
		snprintf(err, errlen, "The image could not be read: the file is damaged or cut short.");
		rc = MH_ERR_INVALID;
	}
	if (im)
		g_object_unref(im);
	vips_error_clear();
	return rc;
}

/* Replaces *im by a copy without metadata. webpsave's own strip option
 * left the EXIF block in (libvips 8.14, caught by test_admin_media.py), so
 * every field is removed here; the image's own properties (size, bands,
 * format) are not metadata and stay. */
static int
strip(VipsImage **im)
{
	VipsImage *copy;
	if (vips_copy(*im, &copy, NULL))
		return -1;
	g_object_unref(*im);
	*im = copy;
	gchar **fields = vips_image_get_fields(copy);
	for (gchar **f = fields; *f; f++)
		vips_image_remove(copy, *f);
	g_strfreev(fields);
	return 0;
}

/* Takes the EXIF, XMP and ICC chunks out of a WebP file in place and
 * clears their flags in its VP8X header: with every field removed,
 * libvips 8.14 still writes an EXIF block of its own (sizes, resolution).
 * False when the file is not the RIFF libvips should have made. */
static bool
webp_drop_metadata(void *data, size_t *len)
{
	unsigned char *b = data;
	if (*len < 20 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WEBP", 4) != 0)
		return false;
	size_t in = 12, out = 12;
	while (in + 8 <= *len) {
		size_t n = (size_t) b[in + 4] | (size_t) b[in + 5] << 8 | (size_t) b[in + 6] << 16 |
		           (size_t) b[in + 7] << 24;
		size_t whole = 8 + n + (n & 1);
		if (whole > *len - in)
			return false;
		bool drop = !memcmp(b + in, "EXIF", 4) || !memcmp(b + in, "XMP ", 4) || !memcmp(b + in, "ICCP", 4);
		if (!memcmp(b + in, "VP8X", 4) && n >= 1)
			b[in + 8] &= (unsigned char) ~(0x20 | 0x08 | 0x04); /* ICC, EXIF, XMP */
		if (!drop) {
			memmove(b + out, b + in, whole);
			out += whole;
		}
		in += whole;
	}
	if (in != *len)
		return false;
	size_t riff = out - 8;
	b[4] = (unsigned char) riff;
	b[5] = (unsigned char) (riff >> 8);
	b[6] = (unsigned char) (riff >> 16);
	b[7] = (unsigned char) (riff >> 24);
	*len = out;
	return true;
}

static mh_err
variant(const char *dir, const char *hash, const void *data, size_t len, int width, char *err, size_t errlen)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s-%d.webp", dir, hash, width);
	if (n < 0 || (size_t) n >= sizeof path)
		return MH_ERR_IO;
	if (exists(path))
		return MH_OK;
	VipsImage *im = NULL;
	void *out = NULL;
	size_t out_len = 0;
	mh_err rc = MH_OK;
	/* thumbnail: shrink-on-load, the EXIF orientation applied, sRGB. The
	 * height is no bound: the width decides. strip: no metadata (EXIF,
	 * GPS, XMP, ICC) in what readers get. */
	if (vips_thumbnail_buffer((void *) data, len, &im, width, "height", VIPS_MAX_COORD, "size", VIPS_SIZE_DOWN,
	                          NULL) ||
	    strip(&im) || vips_webpsave_buffer(im, &out, &out_len, "Q", 80, "strip", TRUE, NULL)) {
		log_error("cannot make an image variant", "width=%d error=\"%s\"", width, vips_error_buffer());
		snprintf(err, errlen, "The image could not be resized.");
		rc = MH_ERR_INVALID;
	} else if (!webp_drop_metadata(out, &out_len)) {
		log_error("cannot strip an image variant", "width=%d", width);
		snprintf(err, errlen, "The image could not be resized.");
		rc = MH_ERR_INVALID;
	} else if ((rc = write_file(path, out, out_len))) {
		snprintf(err, errlen, "The image could not be saved. Please try again.");
	}
	if (im)
		g_object_unref(im);
	g_free(out);
	vips_error_clear();
	return rc;
}

mh_err
media_ingest(const char *dir, const void *data, size_t len, struct media_info *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (len > MEDIA_MAX_BYTES) {
		snprintf(err, errlen, "The image is larger than %u MB.", MEDIA_MAX_BYTES / (1024 * 1024));
		return MH_ERR_TOOBIG;
	}
	out->type = media_sniff(data, len);
	if (out->type == MEDIA_NONE) {
		snprintf(err, errlen, "This file is not an image we take: upload a JPEG, PNG, WebP or GIF.");
		return MH_ERR_UNSUPPORTED;
	}
	mh_err rc = media_init();
	if (rc) {
		snprintf(err, errlen, "Images cannot be processed on this server right now.");
		return rc;
	}
	/* The loader libvips picks must be the one the magic bytes name. */
	const char *loader = vips_foreign_find_load_buffer(data, len);
	vips_error_clear();
	if (!loader || !((types[out->type].loader[0] && !strcmp(loader, types[out->type].loader[0])) ||
	                 (types[out->type].loader[1] && !strcmp(loader, types[out->type].loader[1])))) {
		snprintf(err, errlen, "The image could not be read: the file is damaged or cut short.");
		return MH_ERR_INVALID;
	}
	/* The header alone: refused before a pixel is decoded when too large. */
	VipsImage *head = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (!head) {
		vips_error_clear();
		snprintf(err, errlen, "The image could not be read: the file is damaged or cut short.");
		return MH_ERR_INVALID;
	}
	out->width = vips_image_get_width(head);
	out->height = vips_image_get_height(head);
	g_object_unref(head);
	if (out->width <= 0 || out->height <= 0 || out->width > MEDIA_MAX_SIDE || out->height > MEDIA_MAX_SIDE ||
	    (long long) out->width * out->height > MEDIA_MAX_PIXELS) {
		snprintf(err, errlen,
		         "The image is %d by %d pixels: at most %d million pixels and %d pixels a side are taken.",
		         out->width, out->height, MEDIA_MAX_PIXELS / 1000000, MEDIA_MAX_SIDE);
		return MH_ERR_TOOBIG;
	}
	out->bytes = len;
	unsigned char h[32];
	crypto_generichash(h, sizeof h, data, len, NULL, 0);
	sodium_bin2hex(out->hash, sizeof out->hash, h, sizeof h);
	int widest = out->width < media_widths[MEDIA_VARIANTS - 1] ? out->width : media_widths[MEDIA_VARIANTS - 1];
	out->n_widths = widths_for(widest, out->widths);

	char orig[4096];
	int n = snprintf(orig, sizeof orig, "%s/%s.%s", dir, out->hash, types[out->type].ext);
	if (n < 0 || (size_t) n >= sizeof orig)
		return MH_ERR_IO;
	bool all = exists(orig);
	for (size_t i = 0; all && i < out->n_widths; i++) {
		char v[4096];
		snprintf(v, sizeof v, "%s/%s-%d.webp", dir, out->hash, out->widths[i]);
		all = exists(v);
	}
	if (all) {
		out->existed = true;
		return MH_OK;
	}
	if ((rc = decode_all(data, len, err, errlen)))
		return rc;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "The image could not be saved. Please try again.");
		return MH_ERR_IO;
	}
	/* Variants first, the original last: the original's presence with
	 * every variant is what "already uploaded" means above. */
	for (size_t i = 0; i < out->n_widths; i++)
		if ((rc = variant(dir, out->hash, data, len, out->widths[i], err, errlen)))
			return rc;
	if (!exists(orig) && (rc = write_file(orig, data, len))) {
		snprintf(err, errlen, "The image could not be saved. Please try again.");
		return rc;
	}
	return MH_OK;
}

/* "<64 hex>-<width>.webp", the width 1 to 4 digits without a leading 0;
 * *width gets it. */
static bool
parse_variant(const char *file, size_t len, int *width)
{
	if (len < MEDIA_HASH_HEX + 7 || len > MEDIA_HASH_HEX + 10)
		return false;
	for (size_t i = 0; i < MEDIA_HASH_HEX; i++)
		if (!((file[i] >= '0' && file[i] <= '9') || (file[i] >= 'a' && file[i] <= 'f')))
			return false;
	if (file[MEDIA_HASH_HEX] != '-')
		return false;
	const char *p = file + MEDIA_HASH_HEX + 1, *end = file + len;
	int w = 0;
	size_t digits = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		if (digits == 0 && *p == '0')
			return false;
		w = w * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 4 || (size_t) (end - p) != 5 || memcmp(p, ".webp", 5) != 0)
		return false;
	*width = w;
	return true;
}

bool
media_variant_name_valid(const char *file)
{
	int w;
	return parse_variant(file, strlen(file), &w);
}

const char *
media_url(struct arena *a, const struct media_info *m)
{
	return arena_printf(a, "/media/%s-%d.webp", m->hash, m->widths[m->n_widths - 1]);
}

const char *
media_srcset(struct arena *a, const char *src)
{
	static const char prefix[] = "/media/";
	int widest;
	if (!src || strncmp(src, prefix, sizeof prefix - 1) != 0 ||
	    !parse_variant(src + sizeof prefix - 1, strlen(src + sizeof prefix - 1), &widest) ||
	    widest > media_widths[MEDIA_VARIANTS - 1])
		return NULL;
	int w[MEDIA_VARIANTS + 1];
	size_t n = widths_for(widest, w);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s%.*s-%d.webp %dw", i ? ", " : "", prefix, MEDIA_HASH_HEX, src + sizeof prefix - 1,
		           w[i], w[i]);
	const char *out = buf_error(&b) ? NULL : arena_strndup(a, b.ptr, b.len);
	buf_release(&b);
	return out;
}
