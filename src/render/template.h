/* template.h: Mustache templates (spec v1.3 core modules plus ~inheritance;
 * no lambdas), compiled once and rendered many times.
 *
 * A set owns named templates. Partials ({{>name}}) and parents
 * ({{<name}}...{{/name}}) resolve by name within the set when rendering,
 * so templates may be added in any order. Adding compiles the source into
 * an op list; rendering walks it and allocates nothing beyond the output
 * buffer. A set is not changed by rendering: several threads may render
 * from one set at once, as long as none adds to it meanwhile.
 *
 * Values: {{x}} is HTML-escaped (& < > " '), {{{x}}} and {{& x}} are raw.
 * Integers print as integers, reals in their shortest round-trip form.
 * false, null, "" and [] are falsey. Partial, parent and section nesting
 * is bounded (TMPL_MAX_DEPTH, TMPL_MAX_NEST): what lies deeper is skipped.
 * A render stops after TMPL_MAX_STEPS ops, which only a template that
 * recurses over the same list (exponential work, maybe no output) reaches. */
#ifndef MH_TEMPLATE_H
#define MH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define TMPL_MAX_DEPTH 64         /* partials and parents inside each other */
#define TMPL_MAX_NEST  128        /* sections, blocks, partials and parents in all */
#define TMPL_MAX_STEPS (1L << 24) /* ops one render runs: stops runaway recursion */

struct tmpl_set;

/* Returns an empty set; tmpl_set_free() frees it and every template in it. */
struct tmpl_set *tmpl_set_new(void);
void tmpl_set_free(struct tmpl_set *set);

/* Compiles src[0..len) (copied; the caller keeps src) under name (copied),
 * replacing a template of that name. On a syntax error returns
 * MH_ERR_PARSE, leaves the set unchanged and writes "name:line: message"
 * into err (errlen bytes, always NUL-terminated; err may be NULL).
 * Sections nested deeper than TMPL_MAX_NEST are a syntax error.
 * MH_ERR_TOOBIG for a source over 256 MiB. */
mh_err tmpl_set_add(struct tmpl_set *set, const char *name, const char *src, size_t len, char *err, size_t errlen);
bool tmpl_set_has(const struct tmpl_set *set, const char *name);

/* Renders template name with ctx (borrowed; may be NULL) appended to out.
 * Returns MH_ERR_NOTFOUND if there is no such template, else out's sticky
 * error, else MH_ERR_TOOBIG if nesting went past the bounds above (the
 * rest of the output is rendered) or the step budget ran out (the output
 * is cut short), else MH_OK. A missing partial or parent
 * renders as nothing, as the spec asks. */
mh_err tmpl_render(const struct tmpl_set *set, const char *name, json_t *ctx, struct buf *out);

#endif
