/* settings.h: the settings the newsroom sets at /admin/settings, over the
 * operator's (docs/newsroom.md, "Settings").
 *
 * The store keeps what the newsroom set; a key the operator gave by flag,
 * environment variable or config file wins and cannot be set here. Each
 * node keeps the result as an immutable struct config (app->cfg), built
 * whole and swapped with one atomic store; a request may finish on the
 * snapshot it started with, so retired snapshots are freed only when the
 * server stops. A save moves the settings' version, and with it the
 * content version every node already follows, so each node rebuilds its
 * snapshot at its next look (within --recheck-ms; at once on PostgreSQL,
 * whose trigger notifies). */
#ifndef MH_SETTINGS_H
#define MH_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

struct app;

enum settings_kind { SETTING_TEXT, SETTING_NUMBER, SETTING_BOOL, SETTING_CHOICE, SETTING_SECRET };

/* One setting the newsroom may set: a config key (core/config.h). */
struct settings_field {
	const char *key;
	const char *group; /* the fieldset it is shown in */
	const char *label;
	const char *help;
	enum settings_kind kind;
	long min, max;       /* SETTING_NUMBER: bounds; SETTING_TEXT: max is the longest value in bytes */
	const char *choices; /* SETTING_CHOICE: "a|b" */
};

extern const struct settings_field settings_fields[]; /* ends with a NULL key */

/* Starts following the store's settings over app->base (set by the caller)
 * and builds the first snapshot into app->cfg. */
mh_err settings_start(struct app *app);
/* Rebuilds the snapshot from the store now (after this node saved, or
 * after app->base changed). */
mh_err settings_reload(struct app *app);
/* Per request, with the content version it read: rebuilds the snapshot
 * when that version moved and the settings' version with it. */
void settings_follow(struct app *app, int64_t content_version);
/* Frees every snapshot; the caller makes app->cfg app->base first. */
void settings_stop(struct app *app);

/* A secret sealed for the store (hex, arena-allocated), bound to its name;
 * settings_open_secret gives the plain text back, or NULL when it was sealed
 * under another site secret or altered. */
const char *settings_seal_secret(struct arena *a, const struct app *app, const char *name, const char *plain);
const char *settings_open_secret(struct arena *a, const struct app *app, const char *name, const char *sealed);

#endif
