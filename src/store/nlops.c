/* nlops.c: the newsletter ops (store.h), shared by both engines like
 * sqlops.c: written once over the statement driver of sql.h, with the
 * statements in sql.c. They call the engine's driver directly rather than
 * through struct store_ops: every engine runs the same SQL for them. */

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "model/billing.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "core/banned.h"

static const char *const state_names[NL_STATE_COUNT] = {
	[NL_QUEUED] = "queued", [NL_CLAIMED] = "claimed", [NL_SENT] = "sent",
	[NL_FAILED] = "failed", [NL_BOUNCED] = "bounced", [NL_UNCONFIRMED] = "unconfirmed",
};

const char *
nl_state_name(enum nl_state st)
{
	return (unsigned) st < NL_STATE_COUNT ? state_names[st] : "unknown";
}

static enum nl_state
state_parse(const char *s)
{
	for (int i = 0; i < NL_STATE_COUNT; i++)
		if (!strcmp(s, state_names[i]))
			return (enum nl_state) i;
	return NL_FAILED;
}

static struct db_stmt *
stmt(struct store *s, enum stmt_id id)
{
	return s->db->stmt(s, id);
}

static void
bind_i(struct db_stmt *st, int i, int64_t v)
{
	st->drv->bind_int64(st, i, v);
}

static void
bind_t(struct db_stmt *st, int i, const char *v)
{
	st->drv->bind_text(st, i, v ? v : "");
}

static int64_t
col_i(struct db_stmt *st, int i)
{
	return st->drv->col_int64(st, i);
}

static const char *
col_s(struct arena *a, struct db_stmt *st, int i)
{
	return arena_strndup(a, st->drv->col_text(st, i), st->drv->col_bytes(st, i));
}

/* Steps a statement that returns no rows; *changed gets the rows it changed. */
static mh_err
exec_st(struct store *s, struct db_stmt *st, int64_t *changed)
{
	int rc = st->drv->step(st);
	if (changed)
		*changed = st->drv->changes(st);
	st->drv->reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return st->drv->fail(s, st, "write");
	return MH_OK;
}

static mh_err
finish_read(struct store *s, struct db_stmt *st, int rc)
{
	st->drv->reset(st);
	return rc == DB_DONE ? MH_OK : st->drv->fail(s, st, "read");
}

static void
read_newsletter(struct arena *a, struct db_stmt *st, struct newsletter *nl)
{
	nl->id = col_i(st, 0);
	nl->slug = col_s(a, st, 1);
	nl->name = col_s(a, st, 2);
	nl->sender = col_s(a, st, 3);
	nl->reply_to = col_s(a, st, 4);
	nl->full_levels = col_s(a, st, 5);
	nl->subscribe_on_signup = col_i(st, 6) != 0;
	nl->subscribed = col_i(st, 7) != 0;
}

mh_err
store_newsletter_save(struct store *s, const struct newsletter *nl, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_NL_SAVE);
	if (!st)
		return MH_ERR_DB;
	bind_t(st, 1, nl->slug);
	bind_t(st, 2, nl->name);
	bind_t(st, 3, nl->sender);
	bind_t(st, 4, nl->reply_to);
	bind_t(st, 5, nl->full_levels && nl->full_levels[0] ? nl->full_levels : "public,members,paid");
	bind_i(st, 6, nl->subscribe_on_signup);
	bind_i(st, 7, clock_now());
	mh_err err = exec_st(s, st, NULL);
	if (err || !id)
		return err;
	if (!(st = stmt(s, ST_NL_ID)))
		return MH_ERR_DB;
	bind_t(st, 1, nl->slug);
	int rc = st->drv->step(st);
	if (rc == DB_ROW)
		*id = col_i(st, 0);
	st->drv->reset(st);
	return rc == DB_ROW ? MH_OK : st->drv->fail(s, st, "read");
}

mh_err
store_newsletter_get(struct store *s, struct arena *a, const char *slug, struct newsletter *out)
{
	struct db_stmt *st = stmt(s, slug ? ST_NL_GET : ST_NL_FIRST);
	if (!st)
		return MH_ERR_DB;
	if (slug)
		bind_t(st, 1, slug);
	int rc = st->drv->step(st);
	if (rc == DB_ROW) {
		read_newsletter(a, st, out);
		st->drv->reset(st);
		return MH_OK;
	}
	st->drv->reset(st);
	return rc == DB_DONE ? MH_ERR_NOTFOUND : st->drv->fail(s, st, "read");
}

mh_err
store_newsletter_list(struct store *s, struct arena *a, int64_t member_id, struct newsletter **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_NL_LIST);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, member_id);
	size_t cap = 8, count = 0;
	struct newsletter *list = arena_alloc(a, cap * sizeof *list);
	int rc;
	while ((rc = st->drv->step(st)) == DB_ROW) {
		if (count == cap) {
			struct newsletter *bigger = arena_alloc(a, 2 * cap * sizeof *list);
			memcpy(bigger, list, cap * sizeof *list);
			list = bigger;
			cap *= 2;
		}
		read_newsletter(a, st, &list[count++]);
	}
	*out = list;
	*n = count;
	return finish_read(s, st, rc);
}

mh_err
store_newsletter_subscribe(struct store *s, int64_t newsletter_id, int64_t member_id, bool on, int64_t now)
{
	struct db_stmt *st = stmt(s, on ? ST_NL_SUB_ON : ST_NL_SUB_OFF);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, newsletter_id);
	bind_i(st, 2, member_id);
	if (on)
		bind_i(st, 3, now);
	return exec_st(s, st, NULL);
}

static void
read_send(struct arena *a, struct db_stmt *st, struct nl_send *out)
{
	out->id = col_i(st, 0);
	out->newsletter_id = col_i(st, 1);
	out->article_id = col_i(st, 2);
	out->created_at = col_i(st, 3);
	out->enqueued_at = col_i(st, 4);
	out->finished_at = col_i(st, 5);
	out->newsletter_slug = col_s(a, st, 6);
	out->article_slug = col_s(a, st, 7);
}

mh_err
store_newsletter_send_get(struct store *s, struct arena *a, int64_t newsletter_id, int64_t article_id,
                          struct nl_send *out)
{
	struct db_stmt *st = stmt(s, ST_NL_SEND_GET);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, newsletter_id);
	bind_i(st, 2, article_id);
	int rc = st->drv->step(st);
	if (rc == DB_ROW) {
		read_send(a, st, out);
		st->drv->reset(st);
		return MH_OK;
	}
	st->drv->reset(st);
	return rc == DB_DONE ? MH_ERR_NOTFOUND : st->drv->fail(s, st, "read");
}

mh_err
store_newsletter_send_create(struct store *s, int64_t newsletter_id, int64_t article_id, int64_t now, int64_t *id)
{
	struct db_stmt *st = stmt(s, ST_NL_SEND_INSERT);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, newsletter_id);
	bind_i(st, 2, article_id);
	bind_i(st, 3, now);
	mh_err err = exec_st(s, st, NULL);
	if (!err) {
		*id = st->drv->last_id(st);
		return MH_OK;
	}
	if (err != MH_ERR_CONFLICT)
		return err;
	struct arena *a = arena_new();
	struct nl_send old;
	mh_err e2 = store_newsletter_send_get(s, a, newsletter_id, article_id, &old);
	if (!e2)
		*id = old.id;
	arena_free(a);
	return e2 ? e2 : MH_ERR_CONFLICT;
}

mh_err
store_newsletter_sends(struct store *s, struct arena *a, struct nl_send **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_NL_SENDS);
	if (!st)
		return MH_ERR_DB;
	size_t cap = 16, count = 0;
	struct nl_send *list = arena_alloc(a, cap * sizeof *list);
	int rc;
	while ((rc = st->drv->step(st)) == DB_ROW) {
		if (count == cap) {
			struct nl_send *bigger = arena_alloc(a, 2 * cap * sizeof *list);
			memcpy(bigger, list, cap * sizeof *list);
			list = bigger;
			cap *= 2;
		}
		read_send(a, st, &list[count++]);
	}
	*out = list;
	*n = count;
	return finish_read(s, st, rc);
}

mh_err
store_newsletter_audience(struct store *s, struct arena *a, int64_t newsletter_id, int64_t after, size_t max,
                          struct nl_audience **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_NL_AUDIENCE);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, newsletter_id);
	bind_i(st, 2, after);
	bind_i(st, 3, (int64_t) max);
	struct nl_audience *list = arena_alloc(a, (max ? max : 1) * sizeof *list);
	size_t count = 0;
	int rc;
	while (count < max && (rc = st->drv->step(st)) == DB_ROW) {
		struct nl_audience *r = &list[count++];
		r->member_id = col_i(st, 0);
		r->email = col_s(a, st, 1);
		r->name = col_s(a, st, 2);
		int role = member_role_parse(st->drv->col_text(st, 3));
		r->role = role < 0 ? ROLE_READER : (enum member_role) role;
		r->comped_until = col_i(st, 4);
		r->has_sub = col_i(st, 5) != 0;
		int status = sub_status_parse(st->drv->col_text(st, 6));
		r->status = status < 0 ? SUB_NONE : (enum sub_status) status;
		r->grace_until = col_i(st, 7);
		r->period_end = col_i(st, 8);
		r->cancel_at_period_end = col_i(st, 9) != 0;
	}
	if (count == max)
		rc = DB_DONE;
	*out = list;
	*n = count;
	return finish_read(s, st, rc);
}

mh_err
store_newsletter_enqueue(struct store *s, int64_t send_id, const struct nl_recipient *r, size_t n)
{
	mh_err err = store_begin(s);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		struct db_stmt *st = stmt(s, ST_NL_ENQUEUE);
		if (!st) {
			err = MH_ERR_DB;
			break;
		}
		bind_i(st, 1, send_id);
		bind_i(st, 2, r[i].member_id);
		bind_t(st, 3, r[i].email);
		bind_t(st, 4, r[i].name);
		bind_t(st, 5, r[i].reason);
		bind_i(st, 6, r[i].full);
		err = exec_st(s, st, NULL);
	}
	if (err) {
		store_rollback(s);
		return err;
	}
	return store_commit(s);
}

mh_err
store_newsletter_send_mark(struct store *s, int64_t send_id, int64_t enqueued_at, int64_t finished_at)
{
	struct db_stmt *st = stmt(s, ST_NL_SEND_MARK);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, send_id);
	bind_i(st, 2, enqueued_at);
	bind_i(st, 3, finished_at);
	return exec_st(s, st, NULL);
}

mh_err
store_newsletter_lease(struct store *s, int64_t send_id, const char *owner, const char *steal, int64_t now,
                       int64_t until, int64_t *orphans, char *holder, size_t holderlen)
{
	*orphans = 0;
	mh_err err = store_begin(s);
	if (err)
		return err;
	/* Who held it before: anyone else's claimed rows are orphans. */
	struct db_stmt *st = stmt(s, ST_NL_LEASE_HOLDER);
	char before[256] = "";
	int64_t before_until = 0;
	if (!st) {
		err = MH_ERR_DB;
		goto out;
	}
	bind_i(st, 1, send_id);
	int rc = st->drv->step(st);
	if (rc == DB_ROW) {
		snprintf(before, sizeof before, "%s", st->drv->col_text(st, 0));
		before_until = col_i(st, 1);
	}
	st->drv->reset(st);
	if (rc != DB_ROW) {
		err = rc == DB_DONE ? MH_ERR_NOTFOUND : st->drv->fail(s, st, "read");
		goto out;
	}
	if (!(st = stmt(s, ST_NL_LEASE))) {
		err = MH_ERR_DB;
		goto out;
	}
	bind_i(st, 1, send_id);
	bind_t(st, 2, owner);
	bind_i(st, 3, now);
	bind_i(st, 4, until);
	bind_t(st, 5, steal && steal[0] ? steal : "\x01"); /* no owner is named that */
	int64_t changed = 0;
	if ((err = exec_st(s, st, &changed)))
		goto out;
	if (changed != 1) {
		if (holder)
			snprintf(holder, holderlen, "%s", before);
		(void) before_until;
		err = MH_ERR_CONFLICT;
		goto out;
	}
	if (strcmp(before, owner) != 0) {
		if (!(st = stmt(s, ST_NL_ORPHANS))) {
			err = MH_ERR_DB;
			goto out;
		}
		bind_i(st, 1, send_id);
		err = exec_st(s, st, orphans);
	}
out:
	if (err) {
		store_rollback(s);
		return err;
	}
	return store_commit(s);
}

static void
read_recipient(struct arena *a, struct db_stmt *st, struct nl_recipient *r)
{
	r->id = col_i(st, 0);
	r->send_id = col_i(st, 1);
	r->member_id = col_i(st, 2);
	r->email = col_s(a, st, 3);
	r->name = col_s(a, st, 4);
	r->reason = col_s(a, st, 5);
	r->full = col_i(st, 6) != 0;
	r->state = state_parse(st->drv->col_text(st, 7));
	r->attempts = (int) col_i(st, 8);
}

mh_err
store_newsletter_due(struct store *s, struct arena *a, int64_t send_id, int64_t after, int64_t now, size_t max,
                     struct nl_recipient **out, size_t *n)
{
	struct db_stmt *st = stmt(s, ST_NL_DUE);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, send_id);
	bind_i(st, 2, after);
	bind_i(st, 3, now);
	bind_i(st, 4, (int64_t) max);
	struct nl_recipient *list = arena_alloc(a, (max ? max : 1) * sizeof *list);
	size_t count = 0;
	int rc = DB_DONE;
	while (count < max && (rc = st->drv->step(st)) == DB_ROW)
		read_recipient(a, st, &list[count++]);
	if (count == max)
		rc = DB_DONE;
	*out = list;
	*n = count;
	return finish_read(s, st, rc);
}

static mh_err
settle_rows(struct store *s, const struct nl_outcome *o, size_t n, int64_t now)
{
	mh_err err = MH_OK;
	for (size_t i = 0; i < n && !err; i++) {
		struct db_stmt *st = stmt(s, ST_NL_SETTLE);
		if (!st)
			return MH_ERR_DB;
		bind_i(st, 1, o[i].id);
		bind_t(st, 2, nl_state_name(o[i].state));
		bind_i(st, 3, now);
		bind_i(st, 4, o[i].state == NL_QUEUED ? o[i].retry_at : 0);
		bind_t(st, 5, o[i].error);
		err = exec_st(s, st, NULL);
	}
	return err;
}

mh_err
store_newsletter_claim(struct store *s, const int64_t *ids, size_t n, int64_t now, bool *won,
                       const struct nl_outcome *o, size_t no)
{
	for (size_t i = 0; i < n; i++)
		won[i] = false;
	mh_err err = store_begin(s);
	if (err)
		return err;
	err = settle_rows(s, o, no, now);
	for (size_t i = 0; i < n && !err; i++) {
		struct db_stmt *st = stmt(s, ST_NL_CLAIM);
		if (!st) {
			err = MH_ERR_DB;
			break;
		}
		bind_i(st, 1, ids[i]);
		bind_i(st, 2, now);
		int64_t changed = 0;
		err = exec_st(s, st, &changed);
		won[i] = changed == 1;
	}
	if (!err)
		err = store_commit(s);
	else
		store_rollback(s);
	if (err)
		for (size_t i = 0; i < n; i++)
			won[i] = false;
	return err;
}

mh_err
store_newsletter_settle(struct store *s, const struct nl_outcome *o, size_t n, int64_t now)
{
	if (n == 0)
		return MH_OK;
	mh_err err = store_begin(s);
	if (err)
		return err;
	if ((err = settle_rows(s, o, n, now))) {
		store_rollback(s);
		return err;
	}
	return store_commit(s);
}

mh_err
store_newsletter_counts(struct store *s, int64_t send_id, struct nl_counts *out)
{
	memset(out, 0, sizeof *out);
	struct db_stmt *st = stmt(s, ST_NL_COUNTS);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, send_id);
	int rc;
	while ((rc = st->drv->step(st)) == DB_ROW) {
		enum nl_state state = state_parse(st->drv->col_text(st, 0));
		out->state[state] += col_i(st, 1);
		out->recipients += col_i(st, 1);
		out->unsubscribed += col_i(st, 2);
	}
	return finish_read(s, st, rc);
}

mh_err
store_newsletter_recipient(struct store *s, struct arena *a, int64_t id, struct nl_recipient *out)
{
	struct db_stmt *st = stmt(s, ST_NL_RECIPIENT);
	if (!st)
		return MH_ERR_DB;
	bind_i(st, 1, id);
	int rc = st->drv->step(st);
	if (rc == DB_ROW) {
		read_recipient(a, st, out);
		out->newsletter_id = col_i(st, 9);
		out->article_id = col_i(st, 10);
		st->drv->reset(st);
		return MH_OK;
	}
	st->drv->reset(st);
	return rc == DB_DONE ? MH_ERR_NOTFOUND : st->drv->fail(s, st, "read");
}

mh_err
store_newsletter_unsubscribe(struct store *s, int64_t recipient_id, int64_t now)
{
	struct arena *a = arena_new();
	struct nl_recipient r;
	mh_err err = store_newsletter_recipient(s, a, recipient_id, &r);
	if (err)
		goto out;
	if ((err = store_begin(s)))
		goto out;
	err = store_newsletter_subscribe(s, r.newsletter_id, r.member_id, false, now);
	struct db_stmt *st = err ? NULL : stmt(s, ST_NL_UNSUB_ROW);
	if (!err && !st)
		err = MH_ERR_DB;
	if (!err) {
		bind_i(st, 1, recipient_id);
		bind_i(st, 2, now);
		err = exec_st(s, st, NULL);
	}
	if (err)
		store_rollback(s);
	else
		err = store_commit(s);
out:
	arena_free(a);
	return err;
}

mh_err
store_newsletter_bounce(struct store *s, int64_t recipient_id, bool hard, const char *reason, const char *detail,
                        int64_t now)
{
	struct arena *a = arena_new();
	struct nl_recipient r;
	mh_err err = store_newsletter_recipient(s, a, recipient_id, &r);
	if (err)
		goto out;
	if ((err = store_begin(s)))
		goto out;
	struct db_stmt *st = stmt(s, ST_NL_BOUNCE_ROW);
	if (!st)
		err = MH_ERR_DB;
	if (!err) {
		bind_i(st, 1, recipient_id);
		bind_t(st, 2, detail);
		err = exec_st(s, st, NULL);
	}
	if (!err && hard) {
		if (!(st = stmt(s, ST_NL_SUPPRESS)))
			err = MH_ERR_DB;
		else {
			bind_t(st, 1, r.email);
			bind_t(st, 2, reason && !strcmp(reason, "complaint") ? "complaint" : "bounce");
			bind_t(st, 3, detail);
			bind_i(st, 4, now);
			err = exec_st(s, st, NULL);
		}
	}
	if (err)
		store_rollback(s);
	else
		err = store_commit(s);
out:
	arena_free(a);
	return err;
}

mh_err
store_mail_suppressed(struct store *s, const char *email, bool *yes)
{
	struct db_stmt *st = stmt(s, ST_NL_SUPPRESSED);
	if (!st)
		return MH_ERR_DB;
	bind_t(st, 1, email);
	int rc = st->drv->step(st);
	*yes = rc == DB_ROW;
	st->drv->reset(st);
	return rc == DB_ROW || rc == DB_DONE ? MH_OK : st->drv->fail(s, st, "read");
}
