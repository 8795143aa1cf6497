/* email.h: the one rule for what counts as a member's e-mail address, used
 * by sign-up, sign-in, change of e-mail, `masthead user add`, mail commands
 * and importers alike, so an address one door accepts no other refuses. */
#ifndef MH_EMAIL_H
#define MH_EMAIL_H

#include <stdbool.h>
#include <stddef.h>

#define EMAIL_MAX 254 /* RFC 5321's limit on a path's address */

/* Trims surrounding white space and lower-cases raw into out (at least
 * EMAIL_MAX + 1 bytes). False, with out "", when it cannot be an address:
 * shorter than 3 or longer than EMAIL_MAX bytes; a control character, space
 * or one of <>()[]\,;:" anywhere; not exactly one '@'; an empty local part;
 * a domain without a dot, or starting or ending with one, or with "..". */
bool email_normalize(const char *raw, char *out, size_t outlen);

#endif
