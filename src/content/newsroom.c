#include "content/newsroom.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/banned.h"

/* "a, b ,c" as references (names only: the parser derives the slugs). */
static size_t
names_of(struct arena *a, const char *list, struct named_ref **out)
{
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	struct named_ref *v = arena_alloc(a, cap * sizeof *v);
	size_t n = 0;
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *s = p, *e = end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			char *name = arena_alloc(a, (size_t) (e - s) + 1);
			memcpy(name, s, (size_t) (e - s));
			name[e - s] = '\0';
			v[n++] = (struct named_ref){ name, name };
		}
		p = *end ? end + 1 : end;
	}
	*out = v;
	return n;
}

void
newsroom_source(struct buf *b, const struct newsroom_article *n, int64_t updated)
{
	struct arena *a = arena_new();
	struct article_source src;
	memset(&src, 0, sizeof src);
	int access = access_level_parse(n->access);
	src.a.title = n->title;
	src.a.slug = n->slug;
	src.a.dek = n->dek ? n->dek : "";
	src.a.access = access < 0 ? ACCESS_PAID : (enum access_level) access;
	src.a.n_authors = names_of(a, n->authors ? n->authors : "", &src.a.authors);
	src.a.n_tags = names_of(a, n->tags ? n->tags : "", &src.a.tags);
	src.a.published_at = n->publish_at;
	src.a.updated_at = updated > n->publish_at ? updated : n->publish_at;
	src.a.featured = n->featured;
	src.a.image.src = n->feature_image;
	src.a.image.alt = n->feature_image_alt;
	/* The body goes in whole: its own paywall marker, if any, splits it. */
	src.teaser_md = n->body ? n->body : "";
	src.gated_md = "";
	if (n->publish_at > 0) {
		article_write_markdown(b, &src);
	} else {
		/* No time yet: the parser's "now" stands in, as for a file without one. */
		struct buf tmp = BUF_INIT;
		article_write_markdown(&tmp, &src);
		const char *line = tmp.len ? strstr(tmp.ptr, "\npublished_at: ") : NULL;
		const char *end = line ? strchr(line + 1, '\n') : NULL;
		if (end) {
			buf_add(b, tmp.ptr, (size_t) (line - tmp.ptr));
			buf_add(b, end, tmp.len - (size_t) (end - tmp.ptr));
		} else {
			buf_add(b, tmp.len ? tmp.ptr : "", tmp.len);
		}
		buf_release(&tmp);
	}
	arena_free(a);
}

mh_err
newsroom_parse(struct arena *a, const struct newsroom_article *n, const struct article_parse_opts *o, int64_t updated,
               struct article_input *out, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	newsroom_source(&b, n, updated);
	if (buf_error(&b)) {
		buf_release(&b);
		snprintf(err, errlen, "Body: the article is too long");
		return MH_ERR_TOOBIG;
	}
	/* The front matter's lines, to tell a body line from a field. */
	int fm_lines = 0;
	const char *end = strstr(b.ptr + 4, "\n---\n");
	for (const char *p = b.ptr; end && p <= end; p++)
		fm_lines += *p == '\n';
	fm_lines += 1;
	char msg[512];
	const char *src = arena_strndup(a, b.ptr, b.len);
	size_t len = b.len;
	buf_release(&b);
	mh_err rc = article_parse(a, src, len, o, out, msg, sizeof msg);
	if (rc) {
		const char *text = msg;
		long line = 0;
		if (!strncmp(msg, "line ", 5)) {
			char *after;
			line = strtol(msg + 5, &after, 10);
			text = after[0] == ':' ? after + 2 : after;
		}
		if (line > fm_lines)
			snprintf(err, errlen, "Body, line %ld: %s", line - fm_lines, text);
		else
			snprintf(err, errlen, "%s", text);
	}
	return rc;
}

mh_err
newsroom_publish(struct store *s, struct arena *a, struct newsroom_article *n, const struct article_parse_opts *o,
                 int64_t now, const char *actor, const char *note, char *err, size_t errlen)
{
	struct article_input in;
	bool update = n->live_slug && n->live_slug[0];
	mh_err rc = newsroom_parse(a, n, o, update ? now : n->publish_at, &in, err, errlen);
	if (rc)
		return rc;
	if ((rc = store_begin(s))) {
		snprintf(err, errlen, "the database is busy: %s", store_errmsg(s));
		return rc;
	}
	int64_t id;
	bool created;
	const struct newsroom_article before = *n; /* what n goes back to when this fails */
	/* A new slug: the old address stops answering (readers get 404 there). */
	if (update && strcmp(n->live_slug, n->slug) != 0 && (rc = store_article_delete(s, n->live_slug)) &&
	    rc != MH_ERR_NOTFOUND)
		goto fail;
	if ((rc = store_article_upsert(s, &in, &id, &created)))
		goto fail;
	n->status = NEWSROOM_PUBLISHED;
	n->live_slug = n->slug;
	n->live_at = now;
	n->updated_at = now;
	n->updated_by = actor;
	if (!n->id)
		n->created_at = now;
	if ((rc = store_newsroom_put(s, n, &n->id)) || (rc = store_newsroom_revision_add(s, n->id, now, actor, note)))
		goto fail;
	/* Tests: every write done but the commit (nothing of it may remain). */
	if (fault_hit("publish-fail-before-commit")) {
		rc = MH_ERR_DB;
		goto fail;
	}
	if ((rc = store_commit(s)))
		goto fail;
	return MH_OK;
fail:
	snprintf(err, errlen, "%s",
	         rc == MH_ERR_CONFLICT ? "another story already uses this slug" : "the article could not be stored");
	log_error("cannot publish", "story=%lld error=\"%s\"", (long long) n->id, store_errmsg(s));
	store_rollback(s);
	*n = before;
	return rc;
}

mh_err
newsroom_unpublish(struct store *s, struct newsroom_article *n, enum newsroom_status to, int64_t now, const char *actor)
{
	mh_err rc = store_begin(s);
	if (rc)
		return rc;
	if (n->live_slug && n->live_slug[0] && (rc = store_article_delete(s, n->live_slug)) && rc != MH_ERR_NOTFOUND)
		goto fail;
	n->status = to;
	n->live_slug = "";
	n->updated_at = now;
	n->updated_by = actor;
	if ((rc = store_newsroom_put(s, n, NULL)) || (rc = store_commit(s)))
		goto fail;
	return MH_OK;
fail:
	store_rollback(s);
	return rc;
}

#define DUE_BATCH 64

mh_err
newsroom_publish_due(struct store *s, const struct article_parse_opts *o, int64_t now, int *published)
{
	*published = 0;
	struct arena *a = arena_new();
	int64_t *ids;
	size_t n;
	mh_err rc = store_newsroom_due(s, a, now, DUE_BATCH, &ids, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		struct newsroom_article art;
		struct article_input in;
		char err[512];
		int64_t id;
		bool created;
		if ((rc = store_begin(s)))
			break;
		/* The claim: of several nodes, exactly one moves it on. */
		mh_err e = store_newsroom_claim(s, ids[i], now);
		if (!e)
			e = store_newsroom_get(s, a, ids[i], &art);
		if (e) {
			store_rollback(s);
			if (e == MH_ERR_CONFLICT || e == MH_ERR_NOTFOUND)
				continue;
			rc = e;
			break;
		}
		if ((e = newsroom_parse(a, &art, o, art.publish_at, &in, err, sizeof err))) {
			store_rollback(s);
			log_error("a scheduled story does not parse: back to draft", "story=%lld error=\"%s\"",
			          (long long) art.id, err);
			art.status = NEWSROOM_DRAFT;
			art.updated_at = now;
			if ((rc = store_newsroom_put(s, &art, NULL)))
				break;
			continue;
		}
		if (art.live_slug[0] && strcmp(art.live_slug, art.slug) != 0 &&
		    (e = store_article_delete(s, art.live_slug)) && e != MH_ERR_NOTFOUND)
			goto fail;
		if ((e = store_article_upsert(s, &in, &id, &created)))
			goto fail;
		art.status = NEWSROOM_PUBLISHED;
		art.live_slug = art.slug;
		art.live_at = now;
		if ((e = store_newsroom_put(s, &art, NULL)) ||
		    (e = store_newsroom_revision_add(s, art.id, now, "scheduler", "published as scheduled")) ||
		    (e = store_commit(s)))
			goto fail;
		log_info("published as scheduled", "story=%lld slug=%s", (long long) art.id, art.slug);
		/* The newsroom's audit log names the scheduler as the one who did it. */
		const struct audit_entry entry = { .at = now,
			                           .actor_email = "scheduler",
			                           .action = "article.publish",
			                           .target = art.slug,
			                           .detail = "as scheduled",
			                           .ip = "" };
		if (store_audit_add(s, &entry))
			log_error("cannot record an audit entry", "action=article.publish error=\"%s\"",
			          store_errmsg(s));
		(*published)++;
		continue;
	fail:
		log_error("cannot publish a scheduled story", "story=%lld error=\"%s\"", (long long) art.id,
		          store_errmsg(s));
		store_rollback(s);
		rc = e;
	}
	arena_free(a);
	return rc;
}

struct newsroom_scheduler {
	struct store *store;
	struct article_parse_opts opts;
	int interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void *
scheduler_main(void *arg)
{
	struct newsroom_scheduler *sc = arg;
	pthread_mutex_lock(&sc->lock);
	while (!sc->stop) {
		pthread_mutex_unlock(&sc->lock);
		int published;
		struct article_parse_opts o = sc->opts;
		o.now = clock_now();
		if (newsroom_publish_due(sc->store, &o, o.now, &published))
			log_error("the publishing scheduler failed", "error=\"%s\"", store_errmsg(sc->store));
		store_release(sc->store);
		pthread_mutex_lock(&sc->lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += sc->interval;
		while (!sc->stop && pthread_cond_timedwait(&sc->cond, &sc->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&sc->lock);
	return NULL;
}

mh_err
newsroom_scheduler_start(struct store *s, const struct article_parse_opts *o, int interval,
                         struct newsroom_scheduler **out)
{
	struct newsroom_scheduler *sc = xcalloc(1, sizeof *sc);
	sc->store = s;
	sc->opts = *o;
	sc->interval = interval > 0 ? interval : 15;
	pthread_mutex_init(&sc->lock, NULL);
	pthread_cond_init(&sc->cond, NULL);
	if (pthread_create(&sc->thread, NULL, scheduler_main, sc) != 0) {
		pthread_cond_destroy(&sc->cond);
		pthread_mutex_destroy(&sc->lock);
		free(sc);
		return MH_ERR_IO;
	}
	*out = sc;
	return MH_OK;
}

void
newsroom_scheduler_stop(struct newsroom_scheduler *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&sc->lock);
	sc->stop = true;
	pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
	pthread_join(sc->thread, NULL);
	pthread_cond_destroy(&sc->cond);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
