/* xml.h: text and attribute values for XML documents (feeds, sitemaps).
 * Untrusted text goes through xml_escape, never into CDATA. */
#ifndef MH_XML_H
#define MH_XML_H

#include <stddef.h>

#include "core/buf.h"

/* Appends p[0..n) as XML 1.0 character data, fit for element text and
 * quoted attribute values: & < > " ' become references; a byte that is
 * not part of valid UTF-8, and a code point XML 1.0 forbids (controls but
 * tab, line feed and carriage return; surrogates; U+FFFE, U+FFFF),
 * become U+FFFD, so the document always parses. */
void xml_escape(struct buf *b, const char *p, size_t n);
/* The same for a NUL-terminated string (NULL: nothing). */
void xml_escape_str(struct buf *b, const char *s);

#endif
