/* err.h: the one error type. Values are never renumbered. */
#ifndef MH_ERR_H
#define MH_ERR_H

typedef enum {
	MH_OK = 0,
	MH_ERR_NOMEM = 1,    /* a buffer hit its maximum size */
	MH_ERR_INVALID = 2,  /* bad input from outside */
	MH_ERR_NOTFOUND = 3, /* no such row, file or route */
	MH_ERR_IO = 4,       /* a file or socket operation failed */
	MH_ERR_DB = 5,       /* the database failed */
	MH_ERR_CONFLICT = 6, /* a unique constraint or a concurrent change */
	MH_ERR_TOOBIG = 7,   /* input over its size limit */
	MH_ERR_PARSE = 8,    /* malformed text: front matter, templates, JSON */
	MH_ERR_DENIED = 9,   /* not allowed */
	MH_ERR_UNSUPPORTED = 10,
} mh_err;

const char *mh_strerror(mh_err e);

#endif
