/* htmltext.h: the words of stored HTML as plain text, for the search index.
 * Only for HTML this program rendered (cmark, without raw HTML): tags are
 * dropped, the common entities decoded, runs of white space and control
 * characters become one space. Block-level tags separate words; inline ones
 * (em, a, code, ...) do not, so "<em>re</em>view" stays one word. */
#ifndef MH_HTMLTEXT_H
#define MH_HTMLTEXT_H

#include "core/buf.h"

/* Appends the text of html to b. */
void htmltext_append(struct buf *b, const char *html);

#endif
