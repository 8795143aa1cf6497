/* routes.c: the route table. Flags are enforced by web_before() before any
 * handler runs: ROUTE_CSRF on every form, ROUTE_SIGNED_IN where a member
 * must be signed in; ROUTE_CACHEABLE where a page for a visitor without
 * cookies may come from the page cache; ROUTE_EDITOR and ROUTE_ADMIN where
 * only those roles may enter (403 for the others). */
#include "web/app.h"
#include "web/handlers.h"
#include "web/metrics.h"

#define S ROUTE_SIGNED_IN
#define C ROUTE_CSRF
#define P ROUTE_CACHEABLE
#define E ROUTE_EDITOR
#define A ROUTE_ADMIN
#define U ROUTE_UPLOAD

const struct route app_routes[] = {
	{ HTTP_GET, "/", h_front, P },
	{ HTTP_GET, "/articles/:slug", h_article, P },
	{ HTTP_GET, "/tags", h_tags_index, P },
	{ HTTP_GET, "/tags/:slug", h_tag, P },
	{ HTTP_GET, "/authors", h_authors_index, P },
	{ HTTP_GET, "/authors/:slug", h_author, P },
	{ HTTP_GET, "/people", h_people_index, P },
	{ HTTP_GET, "/people/:slug", h_person, P },
	{ HTTP_GET, "/search", h_search, 0 },
	{ HTTP_GET, "/signin", h_signin_form, 0 },
	{ HTTP_POST, "/signin", h_signin, C },
	{ HTTP_POST, "/signin/link", h_link_request, C },
	{ HTTP_GET, "/signin/link/:token", h_link_page, 0 },
	{ HTTP_POST, "/signin/link/:token", h_link_use, C },
	{ HTTP_GET, "/signup", h_signup_form, 0 },
	{ HTTP_POST, "/signup", h_signup, C },
	{ HTTP_POST, "/signout", h_signout, C },
	{ HTTP_GET, "/reset", h_reset_form, 0 },
	{ HTTP_POST, "/reset", h_reset_request, C },
	{ HTTP_GET, "/reset/:token", h_reset_page, 0 },
	{ HTTP_POST, "/reset/:token", h_reset_use, C },
	{ HTTP_GET, "/account", h_account, S },
	{ HTTP_POST, "/account", h_account_name, S | C },
	{ HTTP_POST, "/account/password", h_account_password, S | C },
	{ HTTP_POST, "/account/email", h_email_request, S | C },
	{ HTTP_GET, "/account/email/:token", h_email_page, 0 },
	{ HTTP_POST, "/account/email/:token", h_email_use, C },
	{ HTTP_POST, "/account/sessions/revoke", h_revoke_all, S | C },
	{ HTTP_POST, "/articles/:slug/gift", h_gift_create, S | C },
	{ HTTP_POST, "/account/gifts/:id/revoke", h_gift_revoke, S | C },
	{ HTTP_GET, "/subscribe", h_subscribe_page, 0 },
	{ HTTP_POST, "/subscribe", h_subscribe, C },
	{ HTTP_GET, "/checkout/:token", h_checkout_page, S },
	{ HTTP_POST, "/checkout/:token", h_checkout, S | C },
	{ HTTP_GET, "/account/billing", h_billing_page, S },
	{ HTTP_POST, "/account/billing", h_billing, S | C },
	{ HTTP_POST, "/webhooks/stripe", h_stripe_webhook, ROUTE_RAW_BODY },
	{ HTTP_GET, "/static/*", h_static, 0 },
	{ HTTP_GET, "/healthz", h_healthz, 0 },
	{ HTTP_GET, "/metrics", h_metrics, 0 },
	{ HTTP_GET | HTTP_OPTIONS, "/ghost/api/*", h_api, 0 },
	{ HTTP_GET | HTTP_OPTIONS, "/api/v1/*", h_api, 0 },
	{ HTTP_GET, "/robots.txt", h_robots, 0 },
	{ HTTP_GET, "/feed.xml", h_feed, 0 },
	{ HTTP_GET, "/tags/:slug/feed.xml", h_tag_feed, 0 },
	{ HTTP_GET, "/authors/:slug/feed.xml", h_author_feed, 0 },
	{ HTTP_GET, "/feed/:token", h_private_feed, 0 },
	{ HTTP_POST, "/account/feed", h_feed_token_renew, S | C },
	{ HTTP_POST, "/account/feed/revoke", h_feed_token_revoke, S | C },
	{ HTTP_GET, "/sitemap.xml", h_sitemap, 0 },
	{ HTTP_GET, "/sitemaps/:file", h_sitemap_file, 0 },
	{ HTTP_GET, "/news-sitemap.xml", h_news_sitemap, 0 },
	/* The token is the authority: no cookie, no CSRF token (RFC 8058). */
	{ HTTP_GET, "/unsubscribe/:token", h_unsubscribe_page, 0 },
	{ HTTP_POST, "/unsubscribe/:token", h_unsubscribe, 0 },
	{ HTTP_POST, "/account/newsletters", h_account_newsletters, S | C },
	{ HTTP_GET, "/newsletters/:newsletter/:slug", h_newsletter_archive, 0 },
	/* The newsroom (docs/newsroom.md): editors and admins, or admins only. */
	{ HTTP_GET, "/admin", h_admin, E },
	{ HTTP_GET, "/admin/audit", h_admin_audit, A },
	{ HTTP_GET, "/admin/media", h_admin_media, E },
	/* An image and its form fields: the file's limit and room for the rest. */
	{ HTTP_POST, "/admin/media", h_admin_media_upload, E | C | U },
	{ HTTP_GET, "/media/:file", h_media, 0 },
	/* Articles (admin_articles.c). */
	{ HTTP_GET, "/admin/articles", h_admin_articles, E },
	{ HTTP_GET, "/admin/articles/new", h_admin_article_new, E },
	{ HTTP_POST, "/admin/articles/new", h_admin_article_create, E | C },
	{ HTTP_GET, "/admin/articles/:id", h_admin_article_edit, E },
	{ HTTP_POST, "/admin/articles/:id", h_admin_article_update, E | C },
	{ HTTP_POST, "/admin/articles/:id/autosave", h_admin_article_autosave, E | C },
	{ HTTP_GET, "/admin/articles/:id/preview", h_admin_article_preview, E },
	{ HTTP_POST, "/admin/articles/:id/share", h_admin_article_share, E | C },
	{ HTTP_GET, "/admin/articles/:id/revisions", h_admin_article_revisions, E },
	{ HTTP_GET, "/admin/articles/:id/revisions/:rev", h_admin_article_revision, E },
	{ HTTP_POST, "/admin/articles/:id/revisions/:rev/restore", h_admin_article_revision_restore, E | C },
	/* A draft's private preview link: the token is the authority. */
	{ HTTP_GET, "/preview/:token", h_preview_link, 0 },
	{ HTTP_GET, "/admin/members", h_admin_members, A },
	{ HTTP_GET, "/admin/members.csv", h_admin_members_csv, A },
	{ HTTP_GET, "/admin/members/import", h_admin_members_import_page, A },
	{ HTTP_POST, "/admin/members/import", h_admin_members_import, A | C },
	{ HTTP_GET, "/admin/members/:id", h_admin_member, A },
	{ HTTP_POST, "/admin/members/:id/comp", h_admin_member_comp, A | C },
	{ HTTP_POST, "/admin/members/:id/role", h_admin_member_role, A | C },
	{ HTTP_POST, "/admin/members/:id/link", h_admin_member_link, A | C },
	{ HTTP_GET, "/admin/members/:id/delete", h_admin_member_delete_page, A },
	{ HTTP_POST, "/admin/members/:id/delete", h_admin_member_delete, A | C },
	{ HTTP_GET, "/admin/settings", h_admin_settings, A },
	{ HTTP_POST, "/admin/settings", h_admin_settings_save, A | C },
	{ HTTP_GET, "/admin/settings/keys", h_admin_keys, A },
	{ HTTP_POST, "/admin/settings/keys", h_admin_key_add, A | C },
	{ HTTP_POST, "/admin/settings/keys/revoke", h_admin_key_revoke, A | C },
	{ HTTP_GET, "/signin/device", h_device_form, 0 },
	{ HTTP_POST, "/signin/device", h_device_confirm, C },
	{ 0, NULL, NULL, 0 },
};
