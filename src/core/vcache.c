/* vcache.c: the versioned cache (see vcache.h). */
#include "core/vcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/banned.h"

#define STRIPES 64
#define WAYS    4 /* entries a key may take: two keys on one slot do not evict each other */

struct entry {
	uint64_t hash; /* of key: a way whose hash differs is passed without reading its key */
	char *key;
	struct vc_value *v;
	int64_t version;
	time_t stored;
};

struct vcache {
	struct entry *slots;
	size_t n_slots;
	size_t max_bytes;
	size_t bytes;                    /* atomic: the values held */
	pthread_rwlock_t locks[STRIPES]; /* readers never wait for each other */
};

struct vcache *
vcache_new(size_t slots, size_t max_bytes)
{
	struct vcache *c = xcalloc(1, sizeof *c);
	c->n_slots = slots < WAYS ? WAYS : slots - slots % WAYS;
	c->slots = xcalloc(c->n_slots, sizeof *c->slots);
	c->max_bytes = max_bytes;
	/* A writer (a new entry) goes before readers that come after it. */
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (int i = 0; i < STRIPES; i++)
		pthread_rwlock_init(&c->locks[i], &attr);
	pthread_rwlockattr_destroy(&attr);
	return c;
}

void
vcache_unref(struct vc_value *v)
{
	if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(v);
}

/* Drops the table's hold on a value: its reference, and its attachment's
 * (whose last user then drops the reference the attachment holds). */
static void
drop_value(struct vc_value *v)
{
	if (!v)
		return;
	if (v->attached && v->detach)
		v->detach(v->attached);
	vcache_unref(v);
}

void
vcache_free(struct vcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_slots; i++) {
		free(c->slots[i].key);
		drop_value(c->slots[i].v);
	}
	for (int i = 0; i < STRIPES; i++)
		pthread_rwlock_destroy(&c->locks[i]);
	free(c->slots);
	free(c);
}

static uint64_t
hash_of(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *) key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* The first entry of the bucket a key of hash h may take. */
static size_t
bucket_of(const struct vcache *c, uint64_t h)
{
	return (size_t) (h % (c->n_slots / WAYS)) * WAYS;
}

static pthread_rwlock_t *
lock_of(struct vcache *c, size_t bucket)
{
	return &c->locks[(bucket / WAYS) % STRIPES];
}

/* The fresh entry for key in its bucket, or NULL. */
static struct entry *
find(struct vcache *c, size_t bucket, uint64_t h, const char *key, int64_t version, long ttl, time_t now)
{
	for (size_t w = 0; w < WAYS; w++) {
		struct entry *e = &c->slots[bucket + w];
		if (e->v && e->hash == h && e->version == version && now - e->stored < ttl && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

struct vc_value *
vcache_get(struct vcache *c, const char *key, int64_t version, long ttl)
{
	uint64_t h = hash_of(key);
	size_t b = bucket_of(c, h);
	pthread_rwlock_t *lock = lock_of(c, b);
	struct vc_value *v = NULL;
	time_t now = (time_t) clock_now();
	pthread_rwlock_rdlock(lock);
	struct entry *e = find(c, b, h, key, version, ttl, now);
	if (e) {
		v = e->v;
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	}
	pthread_rwlock_unlock(lock);
	return v;
}

/* Where a new value for key goes: its old entry, else an empty one, else
 * one from another version, else the oldest. */
static struct entry *
victim(struct vcache *c, size_t bucket, uint64_t h, const char *key, int64_t version)
{
	struct entry *empty = NULL, *stale = NULL, *oldest = NULL;
	for (size_t w = 0; w < WAYS; w++) {
		struct entry *e = &c->slots[bucket + w];
		if (!e->v) {
			if (!empty)
				empty = e;
			continue;
		}
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
		if (e->version != version && !stale)
			stale = e;
		if (!oldest || e->stored < oldest->stored)
			oldest = e;
	}
	return empty ? empty : stale ? stale : oldest;
}

void
vcache_put_value(struct vcache *c, const char *key, int64_t version, struct vc_value *v)
{
	uint64_t h = hash_of(key);
	size_t b = bucket_of(c, h);
	pthread_rwlock_t *lock = lock_of(c, b);
	char *k = xstrdup(key);
	pthread_rwlock_wrlock(lock);
	struct entry *e = victim(c, b, h, key, version);
	size_t old = e->v ? e->v->len : 0;
	size_t held = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	if (held - old + v->len > c->max_bytes) {
		pthread_rwlock_unlock(lock);
		free(k);
		drop_value(v);
		return;
	}
	char *old_key = e->key;
	struct vc_value *old_v = e->v;
	e->key = k;
	e->hash = h;
	e->v = v;
	e->version = version;
	e->stored = (time_t) clock_now();
	__atomic_add_fetch(&c->bytes, v->len, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&c->bytes, old, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(lock);
	free(old_key);
	drop_value(old_v);
}

void
vcache_clear(struct vcache *c)
{
	if (!c)
		return;
	for (size_t b = 0; b < c->n_slots; b += WAYS) {
		pthread_rwlock_t *lock = lock_of(c, b);
		struct entry gone[WAYS];
		pthread_rwlock_wrlock(lock);
		for (size_t w = 0; w < WAYS; w++) {
			struct entry *e = &c->slots[b + w];
			gone[w] = *e;
			if (e->v)
				__atomic_sub_fetch(&c->bytes, e->v->len, __ATOMIC_RELAXED);
			*e = (struct entry){ 0 };
		}
		pthread_rwlock_unlock(lock);
		for (size_t w = 0; w < WAYS; w++) {
			free(gone[w].key);
			drop_value(gone[w].v);
		}
	}
}

struct vc_value *
vcache_value_new(const void *data, size_t len)
{
	struct vc_value *v = xmalloc(sizeof *v + (len ? len : 1));
	v->refs = 1;
	v->len = len;
	v->attached = NULL;
	v->detach = NULL;
	memcpy(v->data, data, len);
	return v;
}

void
vcache_put(struct vcache *c, const char *key, int64_t version, const void *data, size_t len)
{
	if (len > c->max_bytes)
		return;
	vcache_put_value(c, key, version, vcache_value_new(data, len));
}

bool
vcache_visit(struct vcache *c, const char *key, int64_t version, long ttl, void (*fn)(struct vc_value *v, void *arg),
             void *arg)
{
	uint64_t h = hash_of(key);
	size_t b = bucket_of(c, h);
	pthread_rwlock_t *lock = lock_of(c, b);
	pthread_rwlock_rdlock(lock);
	struct entry *e = find(c, b, h, key, version, ttl, (time_t) clock_now());
	if (e)
		fn(e->v, arg);
	pthread_rwlock_unlock(lock);
	return e != NULL;
}
