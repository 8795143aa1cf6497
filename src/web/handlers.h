/* handlers.h: every route's handler, for the table in routes.c. */
#ifndef MH_HANDLERS_H
#define MH_HANDLERS_H

#include "http/http.h"

/* pages.c: the reading site */
void h_front(struct http_req *r);
void h_article(struct http_req *r);
void h_tag(struct http_req *r);
void h_author(struct http_req *r);
void h_person(struct http_req *r);
void h_static(struct http_req *r);
void h_healthz(struct http_req *r);

/* account.c: members */
void h_signin_form(struct http_req *r);
void h_signin(struct http_req *r);
void h_link_request(struct http_req *r);
void h_link_page(struct http_req *r);
void h_link_use(struct http_req *r);
void h_signup_form(struct http_req *r);
void h_signup(struct http_req *r);
void h_signout(struct http_req *r);
void h_reset_form(struct http_req *r);
void h_reset_request(struct http_req *r);
void h_reset_page(struct http_req *r);
void h_reset_use(struct http_req *r);
void h_account(struct http_req *r);
void h_account_name(struct http_req *r);
void h_account_password(struct http_req *r);
void h_email_request(struct http_req *r);
void h_email_page(struct http_req *r);
void h_email_use(struct http_req *r);
void h_revoke_all(struct http_req *r);

/* billing_pages.c */
void h_subscribe_page(struct http_req *r);
void h_subscribe(struct http_req *r);
void h_checkout_page(struct http_req *r);
void h_checkout(struct http_req *r);
void h_billing_page(struct http_req *r);
void h_billing(struct http_req *r);

/* webhooks.c */
void h_stripe_webhook(struct http_req *r);

/* search_page.c */
void h_search(struct http_req *r);

/* gifts.c */
void h_gift_create(struct http_req *r);
void h_gift_revoke(struct http_req *r);

/* feeds.c: feeds, sitemaps, robots.txt; the account page's private feed */
void h_feed(struct http_req *r);
void h_tag_feed(struct http_req *r);
void h_author_feed(struct http_req *r);
void h_private_feed(struct http_req *r);
void h_feed_token_renew(struct http_req *r);
void h_feed_token_revoke(struct http_req *r);
void h_sitemap(struct http_req *r);
void h_robots(struct http_req *r);
void h_sitemap_file(struct http_req *r);
void h_news_sitemap(struct http_req *r);

/* newsletters.c: unsubscribe, the account page's choices, the archive */
void h_unsubscribe_page(struct http_req *r);
void h_unsubscribe(struct http_req *r);
void h_account_newsletters(struct http_req *r);
void h_newsletter_archive(struct http_req *r);

/* directory.c: /tags, /authors, /people */
void h_tags_index(struct http_req *r);
void h_authors_index(struct http_req *r);
void h_people_index(struct http_req *r);

/* admin.c, admin_*.c: the newsroom (docs/newsroom.md) */
void h_admin(struct http_req *r);
void h_admin_dashboard(struct http_req *r);
void h_admin_audit(struct http_req *r);
void h_admin_media(struct http_req *r);
void h_admin_media_upload(struct http_req *r);
void h_media(struct http_req *r);
void h_admin_articles(struct http_req *r);
void h_admin_article_new(struct http_req *r);
void h_admin_article_create(struct http_req *r);
void h_admin_article_edit(struct http_req *r);
void h_admin_article_update(struct http_req *r);
void h_admin_article_autosave(struct http_req *r);
void h_admin_article_preview(struct http_req *r);
void h_admin_article_share(struct http_req *r);
void h_admin_article_revisions(struct http_req *r);
void h_admin_article_revision(struct http_req *r);
void h_admin_article_revision_restore(struct http_req *r);
void h_preview_link(struct http_req *r);
/* admin_members.c */
void h_admin_members(struct http_req *r);
void h_admin_members_csv(struct http_req *r);
void h_admin_members_import_page(struct http_req *r);
void h_admin_members_import(struct http_req *r);
void h_admin_member(struct http_req *r);
void h_admin_member_comp(struct http_req *r);
void h_admin_member_role(struct http_req *r);
void h_admin_member_link(struct http_req *r);
void h_admin_member_delete_page(struct http_req *r);
void h_admin_member_delete(struct http_req *r);
/* account.c: mails m a sign-in link, as /signin/link does (the newsroom's
 * "send a sign-in link"); failures are logged. */
void web_mail_signin_link(struct http_req *r, const struct member *m);
/* admin_settings.c */
void h_admin_settings(struct http_req *r);
void h_admin_settings_save(struct http_req *r);
void h_admin_keys(struct http_req *r);
void h_admin_key_add(struct http_req *r);
void h_admin_key_revoke(struct http_req *r);
/* admin_device.c: new-device codes of staff sign-ins */
void h_device_form(struct http_req *r);
void h_device_confirm(struct http_req *r);
/* Before a sign-in of m completes: true when m is staff on a device they
 * have not confirmed and the code's mail went out (the answer is sent:
 * 303 to /signin/device); false to sign in as usual. */
bool web_device_gate(struct http_req *r, const struct member *m, const char *next);

/* api.c: the Content API */
void h_api(struct http_req *r);

#endif
