/* compose.h: inside newsletter/: a version of a newsletter message, cut at
 * the slots each recipient fills, and the message built from it. */
#ifndef MH_NL_COMPOSE_H
#define MH_NL_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "newsletter/newsletter.h"

enum { NL_SLOT_GREETING, NL_SLOT_UNSUBSCRIBE, NL_SLOT_COUNT };
enum { NL_PART_HTML, NL_PART_TEXT };
#define NL_SLOTS_MAX 64 /* slots a part may hold; more are left as text */

/* Random marks, new at every start, so no article can hold one. */
struct nl_marks {
	char mark[NL_SLOT_COUNT][48];
};
void nl_marks_init(struct nl_marks *mk);

struct nl_piece {
	char *text;
	size_t len;
	int slot; /* the slot that follows the text; -1 after the last */
};

struct nl_version {
	char *reason;
	bool full;
	char *subject;
	struct nl_piece *pieces[2];
	size_t npieces[2];
};

/* Renders the version for readers whose decision is reason (full: FULL). */
mh_err nl_version_render(struct store *s, const struct config *cfg, const struct theme *theme,
                         const struct newsletter *nl, struct article *art, const char *reason, bool full,
                         const struct nl_marks *mk, struct nl_version *v, char *err, size_t errlen);
void nl_version_release(struct nl_version *v);
/* Appends part `which` with the values in its slots (HTML-escaped when html). */
void nl_version_splice(const struct nl_version *v, int which, const char *const values[NL_SLOT_COUNT], bool html,
                       struct buf *out);

/* What every message of a send shares. */
struct nl_envelope {
	const char *from;       /* the From header */
	const char *reply_to;   /* "" for none */
	const char *list_id;    /* "Name <slug.domain>" */
	const char *domain;     /* for Message-IDs, the VERP and mailto addresses */
	const char *public_url; /* https://site, for the unsubscribe URL */
	const char *boundary;
	const char *idtag;    /* random, per process: in Message-IDs */
	struct nl_dkim *dkim; /* NULL: unsigned */
};

/* The whole message for one recipient, CRLF line ends, signed when the
 * envelope has a key: into out; scratch is reused between calls. */
mh_err nl_message_build(const struct nl_envelope *env, const struct nl_version *v, const struct nl_recipient *r,
                        const char *token, int64_t now, struct buf *out, struct buf *scratch);

#endif
