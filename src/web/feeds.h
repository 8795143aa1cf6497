/* feeds.h: what the feeds share with the account page and the fuzz
 * targets: the private feed's address. */
#ifndef MH_FEEDS_H
#define MH_FEEDS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/token.h"
#include "http/http.h"

/* The token in a private feed's address, derived from the server secret,
 * the member and the row's nonce: HMAC-SHA256 in base64url (43 characters). */
void feed_token_derive(const unsigned char key[SECRET_BYTES], int64_t member_id, const char *nonce,
                       char out[TOKEN_CHARS + 1]);

/* The token of a "/feed/{token}.xml" path segment ("{token}.xml"): true and
 * the token in out when the segment is exactly that shape. */
bool feed_token_param(const char *segment, char out[TOKEN_CHARS + 1]);

/* The account page's "Private feed" part for the signed-in member: false
 * when there is none, else its address (when it still works) and date. */
json_t *feed_account_json(struct http_req *r);
/* The account page's newsletters (web/newsletters.c): each with its field and choice. */
json_t *newsletters_account_json(struct http_req *r);

#endif
