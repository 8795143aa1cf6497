/* vcache.h: small immutable values kept in memory under a key and a
 * version: rendered pages for readers who send no cookie (as a CDN would
 * keep them), page skeletons for signed-in readers, sessions, article
 * records. A value is valid while the version it was stored under is the
 * current one (the content or member version, which any import, edit,
 * sign-out or billing change moves, from any process) and it is younger
 * than the ttl the reader asks for.
 *
 * The table is 4-way set-associative (a key may take one of four entries;
 * a new one takes an empty, outdated or the oldest of them) under striped
 * reader-writer locks, and holds at most max_bytes of values. Values are
 * reference-counted: a reader keeps one while it uses it, even if the
 * entry is replaced meanwhile. */
#ifndef MH_VCACHE_H
#define MH_VCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcache;

struct vc_value {
	int refs;
	size_t len;
	void *attached;                 /* something made from the value (a prepared response), or NULL */
	void (*detach)(void *attached); /* called when the table lets the value go */
	char data[];
};

struct vcache *vcache_new(size_t slots, size_t max_bytes);
void vcache_free(struct vcache *c);

/* The value under key when it was stored at version less than ttl seconds
 * ago, with a reference the caller drops with vcache_unref; else NULL. */
struct vc_value *vcache_get(struct vcache *c, const char *key, int64_t version, long ttl);
void vcache_unref(struct vc_value *v);
/* Stores a copy of data (nothing when it would pass max_bytes). */
void vcache_put(struct vcache *c, const char *key, int64_t version, const void *data, size_t len);
/* A value holding a copy of data, one reference, nothing attached; and
 * storing such a value (the table takes the reference; nothing is stored,
 * and the value dropped, when it would pass max_bytes). */
struct vc_value *vcache_value_new(const void *data, size_t len);
void vcache_put_value(struct vcache *c, const char *key, int64_t version, struct vc_value *v);
/* Lets every value go (readers holding one keep it until they drop it). */
void vcache_clear(struct vcache *c);
/* Calls fn on the fresh value under key while the entry cannot change, and
 * says whether there was one: for uses that need no reference of their own. */
bool vcache_visit(struct vcache *c, const char *key, int64_t version, long ttl,
                  void (*fn)(struct vc_value *v, void *arg), void *arg);

#endif
