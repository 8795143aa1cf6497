/* store_impl.h: what store.c needs from each backend. Not for callers. */
#ifndef MH_STORE_IMPL_H
#define MH_STORE_IMPL_H

#include <stddef.h>

#include "store/store.h"

mh_err sqlite_store_open(const char *path, struct store *s, char *err, size_t errlen);

#endif
