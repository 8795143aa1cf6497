/* media.h: uploaded images (docs/newsroom.md, "Images"): checked by their
 * content, stored under a name made from their hash, and resized into the
 * variants pages offer in srcset, through libvips. No HTTP here: the
 * newsroom's upload handler and any other front door call the same code. */
#ifndef MH_MEDIA_H
#define MH_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

#define MEDIA_MAX_BYTES  (10u * 1024 * 1024) /* one upload, and the upload route's body limit */
#define MEDIA_MAX_PIXELS 40000000            /* decompression bombs: refused on the header */
#define MEDIA_MAX_SIDE   16384
#define MEDIA_HASH_HEX   64 /* BLAKE2b-256 of the file, in hex: the file's name */
#define MEDIA_VARIANTS   3  /* widths: media_widths */
#define MEDIA_ALT_MAX    500

enum media_type { MEDIA_NONE = 0, MEDIA_JPEG, MEDIA_PNG, MEDIA_WEBP, MEDIA_GIF, MEDIA_TYPE_COUNT };

/* The variants' widths, narrowest first; an image narrower than one gets
 * its own width as its widest variant instead. */
extern const int media_widths[MEDIA_VARIANTS];

struct media_info {
	char hash[MEDIA_HASH_HEX + 1];
	enum media_type type;
	int width, height;          /* the original's */
	size_t bytes;               /* the original's */
	int widths[MEDIA_VARIANTS]; /* the variants made, narrowest first */
	size_t n_widths;
	bool existed; /* the same file was uploaded before: nothing was written */
};

/* Starts libvips once for the process (idempotent): untrusted loaders
 * blocked, no operation cache, one worker thread an image. */
mh_err media_init(void);
/* The type the first bytes say (the magic numbers), or MEDIA_NONE. */
enum media_type media_sniff(const void *data, size_t len);
/* "JPEG", "image/jpeg", "jpg" for a type. */
const char *media_type_label(enum media_type t);
const char *media_type_mime(enum media_type t);
const char *media_type_ext(enum media_type t);

/* Checks data (the magic bytes, then libvips decoding every pixel), and
 * writes the original and its WebP variants (metadata stripped) into dir,
 * each through a temporary file renamed into place, so a reader or another
 * node never sees half a file. The same file again writes nothing
 * (out->existed). Errors: MH_ERR_UNSUPPORTED (not one of the four types),
 * MH_ERR_INVALID (corrupt or truncated), MH_ERR_TOOBIG (too many bytes or
 * pixels), MH_ERR_IO; err gets a sentence for the uploader. */
mh_err media_ingest(const char *dir, const void *data, size_t len, struct media_info *out, char *err, size_t errlen);

/* Whether file is a variant's name, "<hash>-<width>.webp" (the only names
 * /media/ serves: no other character can reach the file system). */
bool media_variant_name_valid(const char *file);
/* The public path of the widest variant, "/media/<hash>-<w>.webp". */
const char *media_url(struct arena *a, const struct media_info *m);
/* For a feature image's src: when it is a local upload's variant, the
 * srcset naming every variant of it ("/media/h-480.webp 480w, ..."), from
 * the arena; NULL for anything else (an SVG, another site's address). */
const char *media_srcset(struct arena *a, const char *src);

#endif
