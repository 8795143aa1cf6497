/* newsroom.h: the newsroom's stories (docs/newsroom.md, "Articles"). A
 * story's working copy (store.h's struct newsroom_article) lives apart from
 * what readers read; publishing writes it out in the import format and
 * stores it through the importer's own parser and store_article_upsert, so
 * an article published in the browser is the article `masthead import`
 * would make of the same file. No HTTP here: web/admin_articles.c and the
 * scheduler thread both call these. */
#ifndef MH_NEWSROOM_H
#define MH_NEWSROOM_H

#include "content/article.h"
#include "core/buf.h"
#include "store/store.h"

/* The working copy as an import-format file (front matter, then the body),
 * written to b; published_at is n->publish_at, updated_at is updated. */
void newsroom_source(struct buf *b, const struct newsroom_article *n, int64_t updated);

/* Parses the working copy with the importer's parser (article_parse).
 * On bad input, err holds a message naming the field or the body's line. */
mh_err newsroom_parse(struct arena *a, const struct newsroom_article *n, const struct article_parse_opts *o,
                      int64_t updated, struct article_input *out, char *err, size_t errlen);

/* Publishes story n (a new one when n->id is 0: n->id is set) as it stands, in one transaction:
 * the reading tables get the article (under its new slug, the old one
 * removed), n becomes published, live under its slug since now, and a
 * revision noted `note` is kept. n is updated to match. */
mh_err newsroom_publish(struct store *s, struct arena *a, struct newsroom_article *n,
                        const struct article_parse_opts *o, int64_t now, const char *actor, const char *note, char *err,
                        size_t errlen);

/* Takes story n off every reading channel (its article is deleted from the
 * reading tables) and gives it status to (draft or archived), in one
 * transaction. n is updated to match. */
mh_err newsroom_unpublish(struct store *s, struct newsroom_article *n, enum newsroom_status to, int64_t now,
                          const char *actor);

/* Publishes every scheduled story due at now, each exactly once whatever
 * the number of nodes running this (a claim); *published counts this
 * caller's. A story that no longer parses goes back to draft, logged. */
mh_err newsroom_publish_due(struct store *s, const struct article_parse_opts *o, int64_t now, int *published);

/* A thread in serve that calls newsroom_publish_due every interval seconds. */
struct newsroom_scheduler;
mh_err newsroom_scheduler_start(struct store *s, const struct article_parse_opts *o, int interval,
                                struct newsroom_scheduler **out);
void newsroom_scheduler_stop(struct newsroom_scheduler *sc); /* NULL: nothing */

#endif
